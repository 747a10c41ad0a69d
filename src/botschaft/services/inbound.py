"""Handling stored webhook events: the inbound lane, separate from any broadcast.

Each event is handled in its own transaction, in arrival order. An event whose handling
fails is kept with state ``failed`` and its error (the dead-letter place) and never blocks
the ones behind it. What a message says about consent (STOP, START, a sign-up code, HELP) is
``chat_consent``'s; the replies it calls for (a STOP confirmation, a welcome, a HELP answer)
are sent through the outbound gate after the event's transaction committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from botschaft.channels.codec import load_event
from botschaft.channels.events import (
    Event,
    InboundMessage,
    PreferenceChange,
    PreferenceValue,
    StatusUpdate,
)
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.channels.telegram import TelegramChannel, callback_query_id
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentSource
from botschaft.domain.errors import BotschaftError
from botschaft.domain.gate import Outbound
from botschaft.services.assignment import assign_if_unassigned
from botschaft.services.auto_replies import auto_replies_for
from botschaft.services.chat_consent import Reply, chat_replies
from botschaft.services.consent import withdraw_in
from botschaft.services.contacts import add_identity, normalise_address
from botschaft.services.context import Context
from botschaft.services.delivery_status import apply_delivery_status
from botschaft.services.early_statuses import keep_early_status
from botschaft.services.inbox import conversation_for
from botschaft.services.inbox_feed import announce
from botschaft.services.intake import FAILED, HANDLED, PENDING
from botschaft.services.message_status import advance_message
from botschaft.services.outbound import send_message
from botschaft.services.response_time import note_request_opening
from botschaft.storage.models import ChannelIdentity, Contact, InboundEvent, Message

log = logging.getLogger(__name__)


@dataclass
class Handled:
    replies: list[Reply] = field(default_factory=list)
    # Telegram shows a spinner on a tapped button until the bot answers the tap.
    callback_to_answer: str | None = None


async def handle_pending(ctx: Context, channels: Channels, limit: int = 100) -> int:
    """Handle up to ``limit`` pending events in one transaction; returns how many."""
    outcome = await asyncio.to_thread(_handle_batch, ctx, limit)
    for event_id, handled in outcome.handled:
        if handled.callback_to_answer is not None:
            await _answer_tap(channels, handled.callback_to_answer)
        await _send_replies(ctx, channels, event_id, handled.replies)
    return outcome.taken


async def _answer_tap(channels: Channels, callback_query_id: str) -> None:
    # Acknowledging a tap is no message to the person (nothing is shown), so it does not
    # pass the outbound gate; the answer, if any, follows as a normal reply.
    adapter = channels.get(ChannelKind.TELEGRAM)
    if isinstance(adapter, TelegramChannel):
        await adapter.answer_callback(callback_query_id)


@dataclass
class _BatchOutcome:
    taken: int
    handled: list[tuple[int, Handled]]


def _handle_batch(ctx: Context, limit: int) -> _BatchOutcome:
    """Claim, handle and settle a batch of events in one transaction.

    The rows stay locked while they are handled (SKIP LOCKED lets other workers take the
    next ones on PostgreSQL); each event runs in a savepoint, so one that fails is rolled
    back alone, recorded as failed with its error (the dead letter), and the rest go on.
    """
    follow_ups: list[tuple[int, Handled]] = []
    with ctx.db.write() as session:
        claimed = session.execute(
            select(InboundEvent.id, InboundEvent.kind, InboundEvent.payload)
            .where(InboundEvent.state == PENDING)
            .order_by(InboundEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        done: list[int] = []
        for event_id, kind, payload in claimed:
            try:
                with session.begin_nested():
                    handled = _apply(session, ctx, load_event(kind, payload))
            except Exception as exc:
                # The boundary of one event: keep it as a dead letter, go on with the next.
                log.exception("inbound event failed", extra={"event_id": event_id})
                _settle(session, ctx, [event_id], FAILED, f"{type(exc).__name__}: {exc}")
                continue
            done.append(event_id)
            if handled.replies or handled.callback_to_answer:
                follow_ups.append((event_id, handled))
        _settle(session, ctx, done, HANDLED, None)
    return _BatchOutcome(len(claimed), follow_ups)


async def _send_replies(
    ctx: Context, channels: Channels, event_id: int, replies: list[Reply]
) -> None:
    for reply in replies:
        try:
            await send_message(
                ctx, channels, contact_id=reply.contact_id, channel=reply.channel,
                content=OutboundMessage(to="", text=reply.text),
                intent=Outbound(reply.kind, reply.purpose),
            )
        except BotschaftError:
            log.exception("reply not sent", extra={"event_id": event_id})


def _settle(
    session: Session, ctx: Context, ids: list[int], state: str, error: str | None
) -> None:
    if ids:
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.id.in_(ids))
            .values(state=state, error=error, handled_at=ctx.clock.now(),
                    attempts=InboundEvent.attempts + 1)
        )


def _apply(session: Session, ctx: Context, event: Event) -> Handled:
    if isinstance(event, InboundMessage):
        return _inbound_message(session, ctx, event)
    if isinstance(event, StatusUpdate):
        _status_update(session, ctx, event)
    elif isinstance(event, PreferenceChange):
        _preference_change(session, ctx, event)
    return Handled()


def _inbound_message(session: Session, ctx: Context, event: InboundMessage) -> Handled:
    now = ctx.clock.now()
    contact, identity = _find_or_create(session, ctx, event)
    # The window runs from the person's message, but never from a time in our future.
    sent_at = min(event.sent_at, now)
    if identity.last_inbound_at is None or sent_at > identity.last_inbound_at:
        identity.last_inbound_at = sent_at
    conversation = conversation_for(session, ctx, contact.id, event.channel)
    conversation.last_message_at = now
    was_resolved = conversation.status == "resolved"
    if was_resolved:
        conversation.status = "open"
    text = event.text if event.text is not None else event.payload
    message = Message(
        conversation_id=conversation.id, channel=event.channel.value, direction="in",
        author="contact", content_type=event.kind.value,
        text=_storable(text),
        payload=_inbound_payload(event), provider_message_id=event.provider_message_id,
        status="received", created_at=now, status_at=event.sent_at,
    )
    session.add(message)
    session.flush()
    announce(session, ctx, conversation.id)
    # Keywords and sign-up codes are the person's own word about consent; the journeys
    # live in chat_consent. Any other message opens the service window; if it starts a
    # request, someone is assigned and the badge's clock runs; and it may get an
    # auto-reply (away, greeting, receipt), which the gate still decides on.
    replies = chat_replies(session, ctx, contact, event)
    if not replies:
        opened = note_request_opening(session, conversation, message,
                                      was_resolved=was_resolved, now=now)
        if opened:
            assign_if_unassigned(session, ctx, conversation)
        replies = auto_replies_for(session, ctx, contact, conversation, message, opened=opened)
    return Handled(replies, callback_query_id(event))


def _find_or_create(
    session: Session, ctx: Context, event: InboundMessage
) -> tuple[Contact, ChannelIdentity]:
    address = _address(ctx, event.channel, event.sender)
    identity = session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == event.channel.value, ChannelIdentity.address == address
        )
    )
    if identity is not None:
        contact = identity.contact
        if contact.display_name is None and event.sender_name:
            contact.display_name = _storable(event.sender_name)
        return contact, identity
    contact = _new_contact(ctx, _storable(event.sender_name))
    session.add(contact)
    session.flush()
    return contact, add_identity(session, ctx, contact, event.channel, address)


def _new_contact(ctx: Context, name: str | None) -> Contact:
    return Contact(
        display_name=name,
        language=ctx.settings.default_language,
        time_zone=ctx.settings.default_time_zone,
        created_at=ctx.clock.now(),
    )


def _address(ctx: Context, channel: ChannelKind, sender: str) -> str:
    return normalise_address(channel, sender, ctx.settings.default_region)


def _storable(text: str | None) -> str | None:
    # A NUL character is valid in JSON but not in PostgreSQL text; it carries no meaning.
    return text.replace("\x00", "") if text else text


def _inbound_payload(event: InboundMessage) -> str | None:
    extras: dict[str, object] = {}
    if event.media is not None:
        extras["media"] = {"id": event.media.provider_media_id, "mime_type": event.media.mime_type,
                           "caption": event.media.caption, "filename": event.media.filename,
                           "url": event.media.url}
    if event.location is not None:
        extras["location"] = {"latitude": event.location.latitude,
                              "longitude": event.location.longitude,
                              "name": event.location.name}
    if event.shared_contacts:
        extras["contacts"] = list(event.shared_contacts)
    if event.payload is not None:
        extras["button"] = event.payload
    if event.reply_to:
        extras["reply_to"] = event.reply_to
    if event.sender_name:
        extras["sender_name"] = event.sender_name
    return json.dumps(extras, ensure_ascii=False) if extras else None


def _status_update(session: Session, ctx: Context, event: StatusUpdate) -> None:
    row = session.scalar(
        select(Message).where(
            Message.channel == event.channel.value,
            Message.provider_message_id == event.provider_message_id,
            Message.direction == "out",
        )
    )
    if row is not None:
        advance_message(session, ctx, row, event)
    elif not apply_delivery_status(session, ctx, event):
        # Perhaps ours, its id not stored yet: kept until it is (early_statuses).
        keep_early_status(session, ctx, event)


def _preference_change(session: Session, ctx: Context, event: PreferenceChange) -> None:
    identity = session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == event.channel.value,
            ChannelIdentity.address == _address(ctx, event.channel, event.sender),
        )
    )
    if event.value is PreferenceValue.RESUME:
        # A "resume" inside the messenger app is no consent under EU law: it is kept as the
        # stored event only, and the person must opt in again through us.
        return
    if identity is None:
        # Someone we have never heard of objects: keep the objection, so that no later
        # import can subscribe them.
        contact = _new_contact(ctx, None)
        session.add(contact)
        session.flush()
        identity = add_identity(session, ctx, contact, event.channel,
                                _address(ctx, event.channel, event.sender))
        session.flush()
    purposes = None if event.category == "all" else [MARKETING]
    detail = f" ({event.detail})" if event.detail else ""
    withdraw_in(
        session, ctx, identity.contact_id, event.channel, ConsentSource.PROVIDER,
        purposes=purposes, note=f"{event.channel.value} {event.category}: stop{detail}",
    )

