"""Appending to and reading the consent ledger. There is no update or delete here, by design."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from botschaft.domain.consent import ConsentEventKind, ConsentFact
from botschaft.domain.ledger import (
    ChainHead,
    LedgerContent,
    LedgerRow,
    PersonalData,
    personal_digest,
    row_hash,
)
from botschaft.storage.models import ConsentEvent, LedgerHead


@dataclass(frozen=True)
class NewEntry:
    contact_id: int
    channel: str
    purpose: str
    kind: ConsentEventKind
    source: str
    occurred_at: datetime
    personal: PersonalData
    consent_text_id: int | None = None
    text_hash: str | None = None
    provider_message_id: str | None = None
    note: str | None = None
    until: datetime | None = None
    per_period: int | None = None

    def terms(self) -> str | None:
        """The entry's terms as canonical JSON, or None when it has none."""
        terms: dict[str, object] = {}
        if self.until is not None:
            terms["until"] = self.until.astimezone(UTC).isoformat()
        if self.per_period is not None:
            terms["per_period"] = self.per_period
        return json.dumps(terms, sort_keys=True) if terms else None


def append(session: Session, entry: NewEntry) -> ConsentEvent:
    """Append one row at the end of the chain.

    The chain head is locked first (FOR UPDATE on PostgreSQL; SQLite's writer lock is held
    from BEGIN IMMEDIATE), so concurrent appends queue up and ``seq`` stays gapless.
    """
    head = session.execute(
        select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
    ).scalar_one()
    salt = secrets.token_hex(16)
    content = LedgerContent(
        contact_id=entry.contact_id,
        channel=entry.channel,
        purpose=entry.purpose,
        kind=entry.kind.value,
        source=entry.source,
        occurred_at=entry.occurred_at,
        consent_text_id=entry.consent_text_id,
        text_hash=entry.text_hash,
        provider_message_id=entry.provider_message_id,
        note=entry.note,
        personal_digest=personal_digest(salt, entry.personal),
        terms=entry.terms(),
    )
    seq = head.seq + 1
    digest = row_hash(seq, head.hash, content)
    row = ConsentEvent(
        seq=seq,
        contact_id=content.contact_id,
        channel=content.channel,
        purpose=content.purpose,
        kind=content.kind,
        source=content.source,
        occurred_at=content.occurred_at,
        consent_text_id=content.consent_text_id,
        text_hash=content.text_hash,
        provider_message_id=content.provider_message_id,
        note=content.note,
        terms=content.terms,
        address=entry.personal.address,
        ip=entry.personal.ip,
        user_agent=entry.personal.user_agent,
        evidence=entry.personal.evidence,
        salt=salt,
        personal_digest=content.personal_digest,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(row)
    head.seq, head.hash = seq, digest
    session.flush()
    return row


def subject_events(
    session: Session, contact_id: int, channel: str, purpose: str
) -> Sequence[ConsentEvent]:
    return session.scalars(
        select(ConsentEvent)
        .where(
            ConsentEvent.contact_id == contact_id,
            ConsentEvent.channel == channel,
            ConsentEvent.purpose == purpose,
        )
        .order_by(ConsentEvent.seq)
    ).all()


def facts_of(rows: Sequence[ConsentEvent]) -> list[ConsentFact]:
    return [_fact(r) for r in rows]


def _fact(row: ConsentEvent) -> ConsentFact:
    terms = json.loads(row.terms) if row.terms else {}
    until = terms.get("until")
    return ConsentFact(
        ConsentEventKind(row.kind),
        row.occurred_at,
        until=datetime.fromisoformat(until) if until else None,
        per_period=terms.get("per_period"),
    )


def contact_events(session: Session, contact_id: int) -> Sequence[ConsentEvent]:
    return session.scalars(
        select(ConsentEvent).where(ConsentEvent.contact_id == contact_id).order_by(ConsentEvent.seq)
    ).all()


def overdue_requests(session: Session, cutoff: datetime) -> Sequence[ConsentEvent]:
    """Requests older than ``cutoff`` that are still the last word for their subject."""
    later = aliased(ConsentEvent)
    newer_exists = exists().where(
        and_(
            later.contact_id == ConsentEvent.contact_id,
            later.channel == ConsentEvent.channel,
            later.purpose == ConsentEvent.purpose,
            later.seq > ConsentEvent.seq,
        )
    )
    return session.scalars(
        select(ConsentEvent)
        .where(
            ConsentEvent.kind == ConsentEventKind.REQUESTED.value,
            ConsentEvent.occurred_at <= cutoff,
            ~newer_exists,
        )
        .order_by(ConsentEvent.seq)
    ).all()


def read_head(session: Session) -> ChainHead | None:
    head = session.get(LedgerHead, 1)
    return ChainHead(head.seq, head.hash) if head else None


def iter_chain(session: Session, batch: int = 2000) -> Iterator[LedgerRow]:
    """Every row in ``seq`` order, keyset-paged so memory stays flat on a large ledger."""
    last = 0
    while True:
        rows = session.scalars(
            select(ConsentEvent).where(ConsentEvent.seq > last).order_by(ConsentEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield as_ledger_row(row)
        last = rows[-1].seq
        session.expunge_all()


def as_ledger_row(row: ConsentEvent) -> LedgerRow:
    content = LedgerContent(
        contact_id=row.contact_id,
        channel=row.channel,
        purpose=row.purpose,
        kind=row.kind,
        source=row.source,
        occurred_at=row.occurred_at,
        consent_text_id=row.consent_text_id,
        text_hash=row.text_hash,
        provider_message_id=row.provider_message_id,
        note=row.note,
        personal_digest=row.personal_digest,
        terms=row.terms,
    )
    personal = (
        PersonalData(row.address, row.ip, row.user_agent, row.evidence)
        if row.address is not None
        else None
    )
    return LedgerRow(row.seq, content, row.prev_hash, row.hash, personal, row.salt)
