"""The inbox screen: the list on the left, the open thread on the right, and the forms that
change a conversation. Every route is thin: it reads the request and calls a service."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from botschaft.channels.registry import Channels
from botschaft.domain.errors import NotFound
from botschaft.domain.roles import Area
from botschaft.services import conversations, notes
from botschaft.services.agent_reply import Reply, send_reply
from botschaft.services.app_sessions import SignedIn
from botschaft.services.attachments import store_upload
from botschaft.services.conversations import Status
from botschaft.services.inbox_feed import Actor
from botschaft.web.admin.auth import Ctx, app_router, read_form, require_area
from botschaft.web.admin.rendering import app_page, language_of, see_other
from botschaft.web.inbox.forms import read_reply_form
from botschaft.web.inbox.views import list_context, thread_context

router = app_router(tags=["inbox"])
# The reply form is multipart (files), which the app router's CSRF check cannot read;
# ``read_reply_form`` checks the token itself.
reply_router = APIRouter(prefix="/app", default_response_class=HTMLResponse,
                         include_in_schema=False, tags=["inbox"])
Agent = Annotated[SignedIn, Depends(require_area(Area.INBOX))]


def actor_of(who: SignedIn) -> Actor:
    return Actor(who.user.id, who.user.display_name, who.user.signature)


def _channels(request: Request) -> Channels:
    channels: Channels = request.app.state.channels
    return channels


@router.get("/inbox")
async def inbox_page(request: Request, ctx: Ctx, who: Agent) -> Response:
    values = await run_in_threadpool(list_context, ctx, request, who,
                                     language_of(request, who))
    return app_page(request, who, "app/inbox/page.html", current="app.nav.inbox",
                    open_id=None, **values)


@router.get("/inbox/{conversation_id}")
async def thread_page(request: Request, ctx: Ctx, who: Agent, conversation_id: int) -> Response:
    language = language_of(request, who)
    values = await run_in_threadpool(list_context, ctx, request, who,
                                     language_of(request, who))
    thread = await run_in_threadpool(thread_context, ctx, _channels(request), who,
                                     conversation_id, language)
    return app_page(request, who, "app/inbox/page.html", current="app.nav.inbox",
                    open_id=conversation_id, **values, **thread)


@router.get("/inbox-fragments/list")
async def list_fragment(request: Request, ctx: Ctx, who: Agent) -> Response:
    """The list alone, for the live view to swap in."""
    values = await run_in_threadpool(list_context, ctx, request, who,
                                     language_of(request, who))
    open_id = request.query_params.get("open", "")
    return _fragment(request, who, "app/inbox/_list.html",
                     open_id=int(open_id) if open_id.isdigit() else None, **values)


@router.get("/inbox-fragments/thread/{conversation_id}")
async def thread_fragment(request: Request, ctx: Ctx, who: Agent, conversation_id: int
                          ) -> Response:
    """The thread's messages and header alone, for the live view to swap in."""
    language = language_of(request, who)
    values = await run_in_threadpool(list_context, ctx, request, who,
                                     language_of(request, who))
    thread = await run_in_threadpool(thread_context, ctx, _channels(request), who,
                                     conversation_id, language)
    return _fragment(request, who, "app/inbox/_thread.html", open_id=conversation_id,
                     **values, **thread)


def _fragment(request: Request, who: SignedIn, template: str, **values: Any) -> Response:
    # The same context as a whole page, so the fragment is drawn exactly as on the page.
    return app_page(request, who, template, **values)


@reply_router.post("/inbox/{conversation_id}/reply")
async def reply(request: Request, ctx: Ctx, who: Agent, conversation_id: int) -> Response:
    limit = ctx.settings.inbox.max_attachment_mb * 1024 * 1024
    form = await read_reply_form(request, limit)
    actor = actor_of(who)
    ids = []
    for file in form.files:
        stored = await run_in_threadpool(
            partial(store_upload, ctx, actor, conversation_id, filename=file.filename,
                    mime_type=file.mime_type, data=file.data))
        ids.append(stored.id)
    template = form.fields.get("template") or None
    sent = await send_reply(ctx, _channels(request), actor, conversation_id,
                            Reply(form.fields.get("text", ""), tuple(ids), template))
    skipped = any(message.status == "skipped" for message in sent)
    return see_other(_back(request, conversation_id),
                     done="inbox_reply_skipped" if skipped else "inbox_reply_sent")


@router.post("/inbox/{conversation_id}/note")
async def add_note(request: Request, ctx: Ctx, who: Agent, conversation_id: int) -> Response:
    form = await read_form(request)
    await run_in_threadpool(notes.add_note, ctx, actor_of(who), conversation_id,
                            form.get("text", ""))
    return see_other(_back(request, conversation_id), done="inbox_note_added")


@router.post("/inbox/{conversation_id}/status")
async def change_status(request: Request, ctx: Ctx, who: Agent, conversation_id: int
                        ) -> Response:
    form = await read_form(request)
    try:
        status = Status(form.get("status", ""))
    except ValueError:
        raise NotFound("There is no such status.") from None
    await run_in_threadpool(conversations.set_status, ctx, actor_of(who), conversation_id,
                            status)
    return see_other(_back(request, conversation_id), done="inbox_status_changed")


@router.post("/inbox/{conversation_id}/assign")
async def change_assignee(request: Request, ctx: Ctx, who: Agent, conversation_id: int
                          ) -> Response:
    form = await read_form(request)
    value = form.get("agent", "")
    if value and not value.isdigit():
        raise NotFound("There is no such agent.")
    await run_in_threadpool(conversations.assign, ctx, actor_of(who), conversation_id,
                            int(value) if value else None)
    return see_other(_back(request, conversation_id), done="inbox_assigned")


@router.post("/inbox/{conversation_id}/labels")
async def change_labels(request: Request, ctx: Ctx, who: Agent, conversation_id: int
                        ) -> Response:
    body = (await request.body()).decode("utf-8", errors="replace")
    chosen = parse_qs(body).get("label", [])
    if not all(value.isdigit() for value in chosen):
        raise NotFound("There is no such label.")
    await run_in_threadpool(conversations.set_labels, ctx, actor_of(who), conversation_id,
                            {int(value) for value in chosen})
    return see_other(_back(request, conversation_id), done="inbox_labels_changed")


def _back(request: Request, conversation_id: int) -> str:
    # Back to the thread with the list's filters as they were.
    query = request.url.query
    return f"/app/inbox/{conversation_id}" + (f"?{query}" if query else "")

