"""Recording consent facts in the ledger and reading the state they add up to."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import (
    MARKETING,
    ConsentEventKind,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    check_transition,
    derive_state,
)
from botschaft.domain.errors import ConsentConflict, NotFound
from botschaft.domain.ledger import PersonalData
from botschaft.services.context import Context
from botschaft.services.delivery_skips import skip_queued_deliveries
from botschaft.storage import ledger
from botschaft.storage.models import ChannelIdentity, ConsentEvent, ConsentText, Contact

log = logging.getLogger(__name__)

# Facts that assert an agreement must say which text the person agreed to.
_NEEDS_TEXT = frozenset(
    {ConsentEventKind.REQUESTED, ConsentEventKind.GRANTED, ConsentEventKind.IMPORTED}
)


@dataclass(frozen=True)
class ConsentRecord:
    """What a caller says happened; the service adds time, text hash and chain."""

    contact_id: int
    channel: ChannelKind
    purpose: str
    kind: ConsentEventKind
    source: ConsentSource
    consent_text_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    provider_message_id: str | None = None
    evidence: str | None = None  # e.g. the confirming message as the person wrote it
    note: str | None = None
    occurred_at: datetime | None = None  # for imports: when the consent was given
    until: datetime | None = None  # PAUSED: no marketing before this time
    per_period: int | None = None  # LIMITED: marketing messages per cap period


@dataclass(frozen=True)
class RecordedEvent:
    seq: int
    kind: ConsentEventKind
    state: ConsentState
    hash: str


def record_consent(ctx: Context, record: ConsentRecord) -> RecordedEvent:
    """Append one consent fact after checking that the current state admits it."""
    with ctx.db.write() as session:
        return record_in(session, ctx, record)


def record_in(session: Session, ctx: Context, record: ConsentRecord) -> RecordedEvent:
    """``record_consent`` inside a caller's write transaction."""
    now = ctx.clock.now()
    contact = session.get(Contact, record.contact_id)
    if contact is None:
        raise NotFound(f"There is no contact #{record.contact_id}.")
    identity = _identity(contact, record.channel)
    expiry = ctx.settings.double_opt_in_expiry
    rows = ledger.subject_events(session, contact.id, record.channel.value, record.purpose)
    state = derive_state(ledger.facts_of(rows), now, expiry)
    check_transition(state, record.kind)
    _check_terms(record)
    text_id, text_hash = _text_for(session, record, rows)
    row = ledger.append(
        session,
        ledger.NewEntry(
            contact_id=contact.id,
            channel=record.channel.value,
            purpose=record.purpose,
            kind=record.kind,
            source=record.source.value,
            occurred_at=record.occurred_at or now,
            personal=PersonalData(
                identity.address, record.ip, record.user_agent, record.evidence
            ),
            consent_text_id=text_id,
            text_hash=text_hash,
            provider_message_id=record.provider_message_id,
            note=record.note,
            until=record.until,
            per_period=record.per_period,
        ),
    )
    new_state = derive_state(ledger.facts_of([*rows, row]), now, expiry)
    if record.kind is ConsentEventKind.WITHDRAWN:
        # The same transaction stops the person's pending campaign deliveries, so no batch
        # claimed after this commit picks them up (the gate re-check catches the rest).
        skip_queued_deliveries(session, contact.id, record.channel.value, [record.purpose], now)
    log.info(
        "consent recorded",
        extra={"contact_id": contact.id, "channel": record.channel.value,
               "purpose": record.purpose, "kind": record.kind.value, "seq": row.seq},
    )
    return RecordedEvent(row.seq, record.kind, new_state, row.hash)


def consent_state(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind, purpose: str
) -> ConsentState:
    rows = ledger.subject_events(session, contact_id, channel.value, purpose)
    return derive_state(ledger.facts_of(rows), ctx.clock.now(), ctx.settings.double_opt_in_expiry)


def expire_overdue_requests(ctx: Context) -> int:
    """Write ``expired`` for every double opt-in left unconfirmed past its deadline."""
    now = ctx.clock.now()
    cutoff = now - ctx.settings.double_opt_in_expiry
    with ctx.db.write() as session:
        overdue = ledger.overdue_requests(session, cutoff)
        for request in overdue:
            ledger.append(
                session,
                ledger.NewEntry(
                    contact_id=request.contact_id,
                    channel=request.channel,
                    purpose=request.purpose,
                    kind=ConsentEventKind.EXPIRED,
                    source=ConsentSource.SYSTEM.value,
                    occurred_at=request.occurred_at + ctx.settings.double_opt_in_expiry,
                    personal=PersonalData(request.address or ""),
                    consent_text_id=request.consent_text_id,
                    text_hash=request.text_hash,
                    note=f"double opt-in request #{request.seq} was not confirmed in time",
                ),
            )
        return len(overdue)


def _check_terms(record: ConsentRecord) -> None:
    if record.kind is ConsentEventKind.PAUSED and record.until is None:
        raise ConsentConflict("A pause must say until when.")
    if record.kind is ConsentEventKind.LIMITED and (
        record.per_period is None or record.per_period < 1
    ):
        raise ConsentConflict("A limit must allow at least one message per period.")


def _identity(contact: Contact, channel: ChannelKind) -> ChannelIdentity:
    for identity in contact.identities:
        if identity.channel == channel.value:
            return identity
    raise NotFound(f"Contact #{contact.id} has no {channel.value} identity.")


def _text_for(
    session: Session, record: ConsentRecord, rows: Sequence[ConsentEvent]
) -> tuple[int | None, str | None]:
    if record.consent_text_id is not None:
        text = session.get(ConsentText, record.consent_text_id)
        if text is None:
            raise NotFound(f"There is no consent text #{record.consent_text_id}.")
        if text.consent_purpose != record.purpose:
            raise ConsentConflict(
                f"Consent text #{text.id} is for '{text.consent_purpose}',"
                f" not for '{record.purpose}'."
            )
        return text.id, text.sha256
    if record.kind in _NEEDS_TEXT:
        raise ConsentConflict(
            f"A '{record.kind.value}' event must name the consent text the person was shown."
        )
    if record.kind is ConsentEventKind.CONFIRMED:
        # A confirmation agrees to the text of the request it answers.
        for row in reversed(rows):
            if row.kind == ConsentEventKind.REQUESTED.value:
                return row.consent_text_id, row.text_hash
    return None, None


def withdraw_in(
    session: Session,
    ctx: Context,
    contact_id: int,
    channel: ChannelKind,
    source: ConsentSource,
    *,
    purposes: Iterable[str] | None = None,
    evidence: str | None = None,
    provider_message_id: str | None = None,
    note: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> list[RecordedEvent]:
    """Withdraw ``purposes`` (default: every purpose on record) on ``channel``.

    A purpose already withdrawn gets no second row unless the person said so themselves
    again (a keyword): a provider repeating its refusal adds nothing. With nothing on record
    the marketing withdrawal is still written: the objection must outlast a later import.
    """
    rows = ledger.contact_events(session, contact_id)
    on_record = {r.purpose for r in rows if r.channel == channel.value}
    targets = set(purposes) if purposes is not None else (on_record or {MARKETING})
    recorded: list[RecordedEvent] = []
    for purpose in sorted(targets):
        state = consent_state(session, ctx, contact_id, channel, purpose)
        if state.status is ConsentStatus.WITHDRAWN and source is not ConsentSource.KEYWORD:
            continue
        recorded.append(
            record_in(
                session,
                ctx,
                ConsentRecord(
                    contact_id=contact_id, channel=channel, purpose=purpose,
                    kind=ConsentEventKind.WITHDRAWN, source=source, evidence=evidence,
                    provider_message_id=provider_message_id, note=note, ip=ip,
                    user_agent=user_agent,
                ),
            )
        )
    return recorded
