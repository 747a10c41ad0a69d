"""Conversations and messages: what the team inbox, the sandbox phone and webchat read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import NotFound
from botschaft.services.context import Context
from botschaft.storage.models import ChannelIdentity, Contact, Conversation, Message


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    channel: str
    direction: str
    author: str
    content_type: str
    text: str | None
    payload: dict[str, object] | None
    status: str
    skip_reason: str | None
    error_code: str | None
    error_detail: str | None
    created_at: datetime
    status_at: datetime | None


@dataclass(frozen=True)
class ConversationView:
    id: int
    contact_id: int
    contact_name: str | None
    channel: str
    address: str | None
    status: str
    last_message_at: datetime


def conversation_for(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind
) -> Conversation:
    """The contact's thread on ``channel``, opened on first use."""
    found = session.scalar(
        select(Conversation).where(
            Conversation.contact_id == contact_id, Conversation.channel == channel.value
        )
    )
    if found is not None:
        return found
    now = ctx.clock.now()
    conversation = Conversation(
        contact_id=contact_id, channel=channel.value, status="open", created_at=now,
        last_message_at=now,
    )
    session.add(conversation)
    session.flush()
    return conversation


def list_conversations(
    ctx: Context, *, channel: ChannelKind | None = None, status: str | None = None,
    before: datetime | None = None, limit: int = 50,
) -> list[ConversationView]:
    """Newest activity first, keyset-paged by ``before`` (a last_message_at)."""
    query = (
        select(Conversation, Contact, ChannelIdentity.address)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(
            ChannelIdentity,
            (ChannelIdentity.contact_id == Conversation.contact_id)
            & (ChannelIdentity.channel == Conversation.channel),
        )
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    if channel is not None:
        query = query.where(Conversation.channel == channel.value)
    if status is not None:
        query = query.where(Conversation.status == status)
    if before is not None:
        query = query.where(Conversation.last_message_at < before)
    with ctx.db.read() as session:
        return [
            ConversationView(c.id, c.contact_id, contact.display_name, c.channel, address,
                             c.status, c.last_message_at)
            for c, contact, address in session.execute(query).all()
        ]


def get_conversation(ctx: Context, conversation_id: int) -> ConversationView:
    with ctx.db.read() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound(f"There is no conversation #{conversation_id}.")
        address = session.scalar(
            select(ChannelIdentity.address).where(
                ChannelIdentity.contact_id == conversation.contact_id,
                ChannelIdentity.channel == conversation.channel,
            )
        )
        return ConversationView(
            conversation.id, conversation.contact_id, conversation.contact.display_name,
            conversation.channel, address, conversation.status, conversation.last_message_at,
        )


def list_messages(
    ctx: Context, conversation_id: int, *, after_id: int = 0, limit: int = 200
) -> list[MessageView]:
    """Messages oldest first, from ``after_id`` on: a live view polls with its last id."""
    with ctx.db.read() as session:
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .order_by(Message.id)
            .limit(limit)
        ).all()
        return [view_of(row) for row in rows]


def latest_messages(ctx: Context, conversation_id: int, limit: int = 200) -> list[MessageView]:
    """The newest ``limit`` messages, oldest first: what a thread shows of a long history."""
    with ctx.db.read() as session:
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        ).all()
        return [view_of(row) for row in reversed(rows)]


def messages_by_ids(ctx: Context, ids: list[int]) -> list[MessageView]:
    if not ids:
        return []
    with ctx.db.read() as session:
        rows = session.scalars(select(Message).where(Message.id.in_(ids))).all()
        return [view_of(row) for row in rows]


def conversation_id_for_address(
    ctx: Context, channel: ChannelKind, address: str
) -> int | None:
    """The thread of whoever has ``address`` on ``channel``, if they have one yet."""
    with ctx.db.read() as session:
        return session.scalar(
            select(Conversation.id)
            .join(ChannelIdentity, (ChannelIdentity.contact_id == Conversation.contact_id)
                  & (ChannelIdentity.channel == Conversation.channel))
            .where(ChannelIdentity.channel == channel.value, ChannelIdentity.address == address)
        )


def view_of(row: Message) -> MessageView:
    return MessageView(
        id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        direction=row.direction,
        author=row.author,
        content_type=row.content_type,
        text=row.text,
        payload=json.loads(row.payload) if row.payload else None,
        status=row.status,
        skip_reason=row.skip_reason,
        error_code=row.error_code,
        error_detail=row.error_detail,
        created_at=row.created_at,
        status_at=row.status_at,
    )
