"""/api/v1/conversations: the team inbox for programs (and the inbox UI's own calls)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from botschaft.channels.messages import OutboundMessage
from botschaft.domain.channels import ChannelKind
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services import inbox
from botschaft.services.outbound import Author, send_message
from botschaft.web.api.deps import ChannelSet, Ctx, Holder

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


# The services' frozen views are the API's answer shapes; FastAPI documents them as they are.
ConversationOut = inbox.ConversationView
MessageOut = inbox.MessageView


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=4096)


@router.get("", response_model=list[ConversationOut])
async def list_conversations(
    ctx: Ctx,
    _holder: Holder,
    channel: ChannelKind | None = None,
    status: Annotated[str | None, Query(pattern="^(open|pending|resolved)$")] = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[inbox.ConversationView]:
    """Conversations, newest activity first; page with ``before`` = the last one's time."""
    return await run_in_threadpool(
        lambda: inbox.list_conversations(
            ctx, channel=channel, status=status, before=before, limit=limit
        )
    )


@router.get("/{conversation_id}", response_model=ConversationOut)
async def get_conversation(ctx: Ctx, _holder: Holder, conversation_id: int
                           ) -> inbox.ConversationView:
    return await run_in_threadpool(inbox.get_conversation, ctx, conversation_id)


@router.get("/{conversation_id}/messages", response_model=list[MessageOut])
async def list_messages(
    ctx: Ctx,
    _holder: Holder,
    conversation_id: int,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[inbox.MessageView]:
    """Messages oldest first; poll with ``after_id`` = the last id seen."""
    await run_in_threadpool(inbox.get_conversation, ctx, conversation_id)
    return await run_in_threadpool(
        lambda: inbox.list_messages(ctx, conversation_id, after_id=after_id, limit=limit)
    )


@router.post("/{conversation_id}/messages", response_model=MessageOut, status_code=201)
async def reply(
    ctx: Ctx, channels: ChannelSet, holder: Holder, conversation_id: int, body: ReplyIn
) -> inbox.MessageView:
    """Reply as an agent. The outbound gate decides; a refused reply is stored as
    ``skipped`` with its reason (e.g. ``window_closed``) rather than sent."""
    conversation = await run_in_threadpool(inbox.get_conversation, ctx, conversation_id)
    return await send_message(
        ctx,
        channels,
        contact_id=conversation.contact_id,
        channel=ChannelKind(conversation.channel),
        content=OutboundMessage(to="", text=body.text),
        intent=Outbound(MessageKind.SERVICE),
        author=Author("agent", holder.name),
    )
