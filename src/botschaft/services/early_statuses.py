"""Status reports that overtake the send's answer: kept, then applied once the id is stored.

WhatsApp and Messenger may report "delivered" for a message before Botschaft has written
the provider's id: a single message gets its id when the send request returns, a campaign
batch all its ids after the whole batch was sent. A report that matches no message and no
delivery is kept in ``early_statuses``; storing a provider id applies what is waiting for
it, with the same forward-only rules as a report that comes later (``message_status``,
``delivery_status``).

Two writers can still miss each other on PostgreSQL: a report handled in the very moment a
batch's ids are being recorded finds neither the delivery (not committed yet) nor is it seen
by the batch (not committed yet either). ``settle_early_statuses``, a scheduler job, applies
those a minute later and deletes reports that never found their message.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from botschaft.channels.events import DeliveryStatus, ProviderError, StatusUpdate
from botschaft.domain.channels import ChannelKind
from botschaft.services.context import Context
from botschaft.services.delivery_status import advance_delivery
from botschaft.services.message_status import advance_message
from botschaft.storage.broadcast import Delivery, bump_counters
from botschaft.storage.early_statuses import EarlyStatus
from botschaft.storage.id_list import among
from botschaft.storage.models import Message

log = logging.getLogger(__name__)

# A provider id is stored seconds after the send, minutes at worst (a batch held back by
# its account's rate). A report still unmatched after a day is for a message that is not
# ours (another app on the same number) or whose send was never recorded (an uncertain
# delivery): it will never match, and a day of them is all that may pile up.
EXPIRY = timedelta(hours=24)


def keep_early_status(session: Session, ctx: Context, event: StatusUpdate) -> None:
    """Keep a report whose provider id matches nothing yet; the same report twice once."""
    first = event.errors[0] if event.errors else None
    row = {
        "channel": event.channel.value,
        "provider_message_id": event.provider_message_id,
        "status": event.status.value,
        "status_at": event.at,
        "error_code": first.code if first else None,
        "error_detail": (first.details or first.title) if first else None,
        "received_at": ctx.clock.now(),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(EarlyStatus).on_conflict_do_nothing(
        index_elements=["channel", "provider_message_id", "status"]), [row])
    log.info("status kept until its message is known",
             extra={"channel": event.channel.value, "status": event.status.value})


def apply_early_statuses(session: Session, ctx: Context, channel: ChannelKind,
                         provider_ids: Iterable[str]) -> int:
    """Apply the reports waiting for these deliveries' provider ids; returns how many.

    For a batch that has just stored its ids: one SELECT on the (channel, provider id) key
    for the whole batch, which finds nothing in the usual case; only when reports wait,
    one more for their deliveries, and one counter UPDATE per campaign.
    """
    waiting = _waiting(session, channel, list(provider_ids))
    if not waiting:
        return 0
    rows = session.scalars(
        select(Delivery).where(Delivery.channel == channel.value, among(
            Delivery.provider_message_id, {early.provider_message_id for early in waiting}))
        .with_for_update()
    ).all()
    by_id = {row.provider_message_id: row for row in rows}
    deltas: defaultdict[int, Counter[str]] = defaultdict(Counter)
    applied = [early for early in waiting if early.provider_message_id in by_id]
    for early in applied:
        row = by_id[early.provider_message_id]
        deltas[row.campaign_id].update(advance_delivery(session, ctx, row, _event(early)))
    for campaign_id, counts in deltas.items():
        bump_counters(session, campaign_id, **counts)
    _forget(session, applied)
    return len(applied)


def apply_early_statuses_to_message(session: Session, ctx: Context, row: Message) -> int:
    """Apply the reports waiting for this message's provider id; returns how many."""
    if row.provider_message_id is None:
        return 0
    waiting = _waiting(session, ChannelKind(row.channel), [row.provider_message_id])
    for early in waiting:
        advance_message(session, ctx, row, _event(early))
    _forget(session, waiting)
    return len(waiting)


def settle_early_statuses(ctx: Context) -> int:
    """Apply reports whose id has been stored meanwhile; delete expired ones (scheduler)."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        result = session.execute(delete(EarlyStatus).where(EarlyStatus.received_at < now - EXPIRY))
        expired = int(getattr(result, "rowcount", 0) or 0)
        applied = 0
        for channel, ids in _matched(session, Delivery.channel,
                                     Delivery.provider_message_id).items():
            applied += apply_early_statuses(session, ctx, channel, ids)
        for channel, ids in _matched(session, Message.channel, Message.provider_message_id,
                                     Message.direction == "out").items():
            for row in session.scalars(select(Message).where(
                    Message.channel == channel.value, Message.provider_message_id.in_(ids),
                    Message.direction == "out")):
                applied += apply_early_statuses_to_message(session, ctx, row)
    if applied:
        log.info("statuses applied late", extra={"count": applied})
    return expired + applied


def _matched(session: Session, channel: InstrumentedAttribute[str],
             provider_id: InstrumentedAttribute[str | None], *more: ColumnElement[bool]
             ) -> dict[ChannelKind, set[str]]:
    # Driven from the small table: EXISTS makes both engines look each kept report up in
    # the (channel, provider id) index, where a join let SQLite scan every delivery.
    found: defaultdict[ChannelKind, set[str]] = defaultdict(set)
    for kind, provider_message_id in session.execute(
        select(EarlyStatus.channel, EarlyStatus.provider_message_id).where(exists().where(
            channel == EarlyStatus.channel, provider_id == EarlyStatus.provider_message_id,
            *more))
    ):
        found[ChannelKind(kind)].add(provider_message_id)
    return found


def _waiting(session: Session, channel: ChannelKind, provider_ids: list[str]
             ) -> list[EarlyStatus]:
    if not provider_ids:
        return []
    found = session.scalars(
        select(EarlyStatus).where(EarlyStatus.channel == channel.value,
                                  among(EarlyStatus.provider_message_id, provider_ids))
    ).all()
    # Lowest rank first, so each report is judged as if it had come after the ones below
    # it: delivered, then read; failed last, as it ranks above every other.
    return sorted(found, key=lambda early: DeliveryStatus(early.status).rank)


def _forget(session: Session, applied: Sequence[EarlyStatus]) -> None:
    if applied:
        session.execute(delete(EarlyStatus).where(EarlyStatus.id.in_([e.id for e in applied])))


def _event(early: EarlyStatus) -> StatusUpdate:
    errors = (
        (ProviderError(code=early.error_code, title=early.error_detail or ""),)
        if early.error_code is not None else ()
    )
    # account and recipient are not kept: applying a status needs neither.
    return StatusUpdate(channel=ChannelKind(early.channel), account="",
                        provider_message_id=early.provider_message_id,
                        status=DeliveryStatus(early.status), at=early.status_at,
                        recipient="", errors=errors)
