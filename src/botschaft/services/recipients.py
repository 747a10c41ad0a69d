"""Gathering what the outbound gate needs to know about one person on one channel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentEventKind, ConsentState, derive_state
from botschaft.domain.gate import MessageKind, Recipient
from botschaft.services.context import Context
from botschaft.storage import ledger
from botschaft.storage.models import ChannelIdentity, Contact, Conversation, Message

# Statuses of an outbound message that count as "it went out".
SENT_STATUSES = ("sending", "sent", "delivered", "read")


def recipient_for(
    session: Session, ctx: Context, contact: Contact, identity: ChannelIdentity
) -> Recipient:
    """The gate's view of ``contact`` on ``identity``'s channel, as of the clock's now."""
    now = ctx.clock.now()
    channel = ChannelKind(identity.channel)
    rows = ledger.contact_events(session, contact.id)
    on_channel = [r for r in rows if r.channel == channel.value]
    consents: dict[str, ConsentState] = {}
    for purpose in {r.purpose for r in on_channel}:
        facts = ledger.facts_of([r for r in on_channel if r.purpose == purpose])
        consents[purpose] = derive_state(facts, now, ctx.settings.double_opt_in_expiry)
    stopped_at = max(
        (r.occurred_at for r in on_channel if r.kind == ConsentEventKind.WITHDRAWN.value),
        default=None,
    )
    policy = ctx.settings.policy.policy()
    return Recipient(
        channel=channel,
        time_zone=ZoneInfo(contact.time_zone),
        consents=consents,
        last_inbound_at=identity.last_inbound_at,
        stopped_at=stopped_at,
        stop_confirmed_at=_last_sent(session, contact.id, channel, MessageKind.STOP_CONFIRMATION),
        marketing_sent=_marketing_times(session, contact.id, channel, now - policy.cap_period),
        erased=contact.erased_at is not None,
        unreachable=identity.unreachable_at is not None,
    )


def _last_sent(
    session: Session, contact_id: int, channel: ChannelKind, kind: MessageKind
) -> datetime | None:
    return session.scalar(_last_sent_query(contact_id, channel, kind))


def _last_sent_query(
    contact_id: int, channel: ChannelKind, kind: MessageKind
) -> Select[datetime | None]:
    # The conversation first (one per contact and channel), then its messages of this kind
    # through ix_messages_kind: a join lets SQLite's planner start from every message of
    # the channel instead, a scan that grows with the whole history.
    conversation = (
        select(Conversation.id)
        .where(Conversation.contact_id == contact_id, Conversation.channel == channel.value)
        .scalar_subquery()
    )
    return select(func.max(Message.created_at)).where(
        Message.conversation_id == conversation,
        Message.purpose_kind == kind.value,
        Message.status.in_(SENT_STATUSES),
    )


def _marketing_times(
    session: Session, contact_id: int, channel: ChannelKind, since: datetime
) -> tuple[datetime, ...]:
    return tuple(session.scalars(_marketing_times_query(contact_id, since)).all())


def _marketing_times_query(contact_id: int, since: datetime) -> Select[datetime]:
    # The cap is per person, across channels: three offers a week in total, not per app.
    return (
        select(Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.contact_id == contact_id,
            Message.purpose_kind == MessageKind.MARKETING.value,
            Message.status.in_(SENT_STATUSES),
            Message.created_at > since,
        )
    )
