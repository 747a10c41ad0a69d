"""The website chat: the business's own widget, its chat window and the window's JSON API.

Everything is served by Botschaft itself (script, window, styles, messages), so a visitor's
browser talks to nobody else: no CDN, no web fonts, no analytics. A visitor is known by a
random id in a signed, HttpOnly cookie (``domain.webchat_identity``); the id is their
address on the webchat channel. Messages typed in the window enter like a provider's webhook
events (stored, deduplicated, handled in the inbound lane), exactly as the sandbox phone's.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from botschaft.channels.events import InboundKind, InboundMessage
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError
from botschaft.domain.webchat_identity import (
    COOKIE_MAX_AGE,
    COOKIE_NAME,
    InvalidVisitor,
    new_visitor_id,
    sign_visitor,
    verify_visitor,
)
from botschaft.i18n import LANGUAGES, translate
from botschaft.services import inbox
from botschaft.services.intake import store_events
from botschaft.services.secret import signing_key
from botschaft.web.api.conversations import MessageOut
from botschaft.web.api.deps import Ctx
from botschaft.web.live import stream_messages
from botschaft.web.pages import (
    FRAME_POLICY,
    JS_MEDIA_TYPE,
    asset_response,
    page_language,
    render,
    static_text,
)

router = APIRouter(prefix="/webchat", tags=["webchat"])

ACCOUNT = "webchat"
MAX_TEXT = 4096
# Where the chat window cannot keep its cookie (embedded on another site), its script sends
# the same signed value in this header instead; see ``frame``.
VISITOR_HEADER = "X-Botschaft-Visitor"
DEFAULT_ACCENT = "#0b6e63"

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
class MessageRejected(BotschaftError):
    """A visitor's message that cannot be taken: empty, or longer than a messenger allows."""

    code = "message_invalid"
    status = 422


class VisitorMessageIn(BaseModel):
    text: str = Field(description=f"What the visitor typed, 1 to {MAX_TEXT} characters.")
    button: str | None = Field(
        None, max_length=256, description="The id of a tapped answer button; text is its title."
    )


class Accepted(BaseModel):
    provider_message_id: str
    stored: bool


def _key(request: Request) -> bytes:
    # signing_key may read a file; once per app is enough.
    key: bytes | None = getattr(request.app.state, "webchat_signing_key", None)
    if key is None:
        key = signing_key(request.app.state.settings)
        request.app.state.webchat_signing_key = key
    return key


def visitor(request: Request) -> str:
    """The visitor whose signed id came with the request (cookie first, else the header)."""
    signed = request.cookies.get(COOKIE_NAME)
    if signed is None:
        signed = request.headers.get(VISITOR_HEADER)
    return verify_visitor(signed, _key(request))


Visitor = Annotated[str, Depends(visitor)]


@router.get("/widget.js", include_in_schema=False)
async def widget_script(request: Request) -> Response:
    """The one script a website embeds; it brings the chat button and window."""
    labels = {
        language: {key: translate(language, f"webchat.{key}") for key in ("open", "close", "title")}
        for language in LANGUAGES
    }
    # "<" escaped so that no text can ever close a surrounding <script> element.
    strings = json.dumps(labels, ensure_ascii=False).replace("<", "\\u003c")
    source = static_text("webchat", "widget.js")
    return Response(
        source.replace("/*LABELS*/{}", strings, 1),
        media_type=JS_MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/static/{name}", include_in_schema=False)
async def webchat_asset(name: str) -> Response:
    """The chat window's style sheet and script."""
    return asset_response("webchat", name)


@router.get("/frame", response_class=HTMLResponse, include_in_schema=False)
async def frame(
    request: Request, lang: str | None = None, color: str | None = None
) -> HTMLResponse:
    """The chat window shown in the widget's iframe; issues the visitor id on first visit."""
    key = _key(request)
    try:
        visitor_id, fresh = verify_visitor(request.cookies.get(COOKIE_NAME), key), False
    except InvalidVisitor:
        visitor_id, fresh = new_visitor_id(), True
    signed = sign_visitor(visitor_id, key)
    # Embedded on another site, browsers neither keep nor send our SameSite=Lax cookie. Only
    # then does the window's script get the signed id, to keep in its own (per-site) storage
    # and send as a header; everywhere else the id stays out of reach of any script.
    cross_site = request.headers.get("sec-fetch-site") == "cross-site"
    settings = request.app.state.settings
    language = page_language(request, lang)
    # How fast the team answers, under the business's name: one indexed query per window.
    cache = request.app.state.response_times
    badge = (await run_in_threadpool(cache.get, request.app.state.ctx)).badge
    html = render(
        "webchat/frame.html", language,
        business=settings.business.name,
        badge_key=f"app.badge.{badge.value}" if badge else None,
        accent=color if color and _COLOUR.fullmatch(color) else DEFAULT_ACCENT,
        visitor_token=signed if cross_site else "",
        max_text=MAX_TEXT,
    )
    response = HTMLResponse(html, headers={
        "Content-Security-Policy": FRAME_POLICY,
        "Cache-Control": "no-store",
        "Content-Language": language,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    })
    if fresh:
        secure = request.url.scheme == "https" or settings.effective_public_url.startswith(
            "https://"
        )
        response.set_cookie(
            COOKIE_NAME, signed, max_age=COOKIE_MAX_AGE, path="/webchat", httponly=True,
            samesite="lax", secure=secure,
        )
    return response


@router.post("/api/messages", response_model=Accepted, status_code=202)
async def visitor_writes(
    request: Request, ctx: Ctx, visitor_id: Visitor, body: VisitorMessageIn
) -> Accepted:
    """The visitor sends a message (or taps an answer button) to the business."""
    text = body.text.strip()
    if not text:
        raise MessageRejected("A message needs some text.")
    if len(text) > MAX_TEXT:
        raise MessageRejected(f"A message can be at most {MAX_TEXT} characters long.")
    event = InboundMessage(
        channel=ChannelKind.WEBCHAT,
        account=ACCOUNT,
        provider_message_id=f"web-in.{secrets.token_urlsafe(12)}",
        sender=visitor_id,
        sent_at=ctx.clock.now(),
        kind=InboundKind.BUTTON if body.button else InboundKind.TEXT,
        text=text,
        payload=body.button,
    )
    result = await run_in_threadpool(store_events, ctx, [event])
    request.app.state.inbound_lane.wake()
    return Accepted(provider_message_id=event.provider_message_id, stored=result.stored == 1)


@router.get("/api/messages", response_model=list[MessageOut])
async def visitor_reads(
    ctx: Ctx, visitor_id: Visitor, after_id: Annotated[int, Query(ge=0)] = 0
) -> list[inbox.MessageView]:
    """The visitor's conversation, oldest first, from ``after_id`` on."""
    conversation = await run_in_threadpool(
        inbox.conversation_id_for_address, ctx, ChannelKind.WEBCHAT, visitor_id
    )
    if conversation is None:
        return []
    messages = await run_in_threadpool(
        lambda: inbox.list_messages(ctx, conversation, after_id=after_id)
    )
    return [message for message in messages if _reached_visitor(message)]


@router.get("/api/stream")
async def visitor_stream(
    request: Request, ctx: Ctx, visitor_id: Visitor,
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    """Server-sent events: each new message of the visitor's conversation as it happens."""
    return stream_messages(
        request, ctx,
        lambda: inbox.conversation_id_for_address(ctx, ChannelKind.WEBCHAT, visitor_id),
        after_id,
        visible=_reached_visitor,
    )


def _reached_visitor(message: inbox.MessageView) -> bool:
    # A message the gate skipped was never sent; the visitor must not see it.
    return message.status != "skipped"
