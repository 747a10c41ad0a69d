"""What the gate learns about a person from the stored messages, on a real database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from botschaft.domain.channels import ChannelKind
from botschaft.domain.gate import Recipient
from botschaft.services.contacts import ContactView, add_identity
from botschaft.services.context import Context
from botschaft.services.inbox import conversation_for
from botschaft.services.recipients import recipient_for
from botschaft.storage.models import ChannelIdentity, Contact, Message

WA, TG = ChannelKind.WHATSAPP, ChannelKind.TELEGRAM


def _outbound(ctx: Context, contact: ContactView, channel: ChannelKind, kind: str, status: str,
              at: datetime) -> None:
    with ctx.db.write() as session:
        conversation = conversation_for(session, ctx, contact.id, channel)
        session.add(Message(conversation_id=conversation.id, channel=channel.value,
                            direction="out", author="system", purpose_kind=kind,
                            content_type="text", text="…", status=status, created_at=at))


def _recipient(ctx: Context, contact: ContactView, channel: ChannelKind) -> Recipient:
    with ctx.db.read() as session:
        identity = session.scalars(select(ChannelIdentity).where(
            ChannelIdentity.contact_id == contact.id,
            ChannelIdentity.channel == channel.value)).one()
        return recipient_for(session, ctx, session.get_one(Contact, contact.id), identity)


def test_the_last_stop_confirmation_is_the_newest_one_that_went_out_on_that_channel(
    ctx: Context, contact: ContactView
) -> None:
    with ctx.db.write() as session:
        add_identity(session, ctx, session.get_one(Contact, contact.id), TG, "4242")
    now = ctx.clock.now()
    _outbound(ctx, contact, WA, "stop_confirmation", "read", now - timedelta(days=3))
    _outbound(ctx, contact, WA, "stop_confirmation", "sent", now - timedelta(days=2))
    _outbound(ctx, contact, WA, "stop_confirmation", "skipped", now - timedelta(days=1))
    _outbound(ctx, contact, WA, "service", "sent", now - timedelta(hours=1))
    _outbound(ctx, contact, TG, "stop_confirmation", "sent", now - timedelta(hours=2))

    assert _recipient(ctx, contact, WA).stop_confirmed_at == now - timedelta(days=2)
    assert _recipient(ctx, contact, TG).stop_confirmed_at == now - timedelta(hours=2)


def test_a_person_never_sent_a_stop_confirmation_has_none(
    ctx: Context, contact: ContactView
) -> None:
    _outbound(ctx, contact, WA, "stop_confirmation", "failed", ctx.clock.now())

    assert _recipient(ctx, contact, WA).stop_confirmed_at is None
