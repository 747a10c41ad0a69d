"""The sandbox phone's API: be any phone number, write to the business, read the answers.

Messages typed here enter exactly like a provider's webhook events (stored, deduplicated,
handled in the inbound lane), so every journey tried in the sandbox runs the real code.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from botschaft.channels.events import InboundKind, InboundMessage
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.domain.phone import normalise_phone
from botschaft.services import inbox
from botschaft.services.intake import store_events
from botschaft.web.api.conversations import MessageOut
from botschaft.web.api.deps import Ctx
from botschaft.web.live import stream_messages

ACCOUNT = "sandbox"


def sandbox_switched_on(request: Request) -> None:
    """Every sandbox route answers 404 when ``BOTSCHAFT_SANDBOX_ENABLED`` is false."""
    if not request.app.state.settings.sandbox_enabled:
        raise NotFound("The sandbox is switched off on this server.")


router = APIRouter(prefix="/sandbox/api", tags=["sandbox"],
                   dependencies=[Depends(sandbox_switched_on)])


class PhoneMessageIn(BaseModel):
    number: str = Field(description="The simulated phone's number, in any usual form.")
    text: str | None = Field(None, max_length=4096)
    button: str | None = Field(None, max_length=256, description="A tapped button's id.")
    name: str | None = Field(None, max_length=200, description="The profile name shown.")


class Accepted(BaseModel):
    number: str
    provider_message_id: str
    stored: bool


@router.post("/messages", response_model=Accepted, status_code=202)
async def phone_writes(request: Request, ctx: Ctx, body: PhoneMessageIn) -> Accepted:
    """The phone sends a message (or taps a button) to the business."""
    number = normalise_phone(body.number, ctx.settings.default_region)
    if not (body.text and body.text.strip()) and not body.button:
        raise BotschaftError("A message needs a text or a button.")
    event = InboundMessage(
        channel=ChannelKind.SANDBOX,
        account=ACCOUNT,
        provider_message_id=f"sbx-in.{secrets.token_urlsafe(12)}",
        sender=number,
        sent_at=ctx.clock.now(),
        kind=InboundKind.BUTTON if body.button else InboundKind.TEXT,
        text=body.text,
        payload=body.button,
        sender_name=body.name,
    )
    result = await run_in_threadpool(store_events, ctx, [event])
    request.app.state.inbound_lane.wake()
    return Accepted(number=number, provider_message_id=event.provider_message_id,
                    stored=result.stored == 1)


@router.get("/messages", response_model=list[MessageOut])
async def phone_reads(
    ctx: Ctx, number: str, after_id: Annotated[int, Query(ge=0)] = 0
) -> list[inbox.MessageView]:
    """Everything this phone sent and received, oldest first, from ``after_id`` on."""
    phone = normalise_phone(number, ctx.settings.default_region)
    conversation = await run_in_threadpool(
        inbox.conversation_id_for_address, ctx, ChannelKind.SANDBOX, phone
    )
    if conversation is None:
        return []
    messages = await run_in_threadpool(
        lambda: inbox.list_messages(ctx, conversation, after_id=after_id)
    )
    # A skipped message never reached the phone, so the phone does not show it.
    return [message for message in messages if message.status != "skipped"]


@router.get("/stream")
async def phone_stream(
    request: Request, ctx: Ctx, number: str, after_id: Annotated[int, Query(ge=0)] = 0
) -> StreamingResponse:
    """Server-sent events: each new message of this phone's conversation as it happens."""
    phone = normalise_phone(number, ctx.settings.default_region)
    return stream_messages(
        request, ctx,
        lambda: inbox.conversation_id_for_address(ctx, ChannelKind.SANDBOX, phone),
        after_id,
        # Skipped messages never reached the phone; the phone must not see them.
        visible=lambda message: message.status != "skipped",
    )
