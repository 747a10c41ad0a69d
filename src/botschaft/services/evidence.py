"""Evidence of consent: checking the whole ledger, and the proof for one person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from botschaft.domain.consent import ConsentState, derive_state
from botschaft.domain.ledger import ChainBreak, personal_digest, row_hash, verify_chain
from botschaft.services.consent_texts import draft_of
from botschaft.services.contacts import ContactView, find_contact, view_of
from botschaft.services.context import Context
from botschaft.storage import ledger
from botschaft.storage.models import ConsentEvent, ConsentText


@dataclass(frozen=True)
class LedgerCheck:
    rows: int
    head_hash: str | None
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_ledger(ctx: Context) -> LedgerCheck:
    """Walk the hash chain from the first row to the stored head."""
    with ctx.db.read() as session:
        head = ledger.read_head(session)
        broken = verify_chain(ledger.iter_chain(session), head)
    return LedgerCheck(head.seq if head else 0, head.hash if head else None, broken)


@dataclass(frozen=True)
class ShownText:
    id: int
    key: str
    version: int
    language: str
    sha256: str
    text: str
    matches_hash: bool  # the stored text still hashes to what the event recorded


@dataclass(frozen=True)
class ProofEvent:
    seq: int
    kind: str
    source: str
    channel: str
    purpose: str
    occurred_at: datetime
    address: str | None
    ip: str | None
    user_agent: str | None
    evidence: str | None
    provider_message_id: str | None
    note: str | None
    terms: str | None
    text: ShownText | None
    row_intact: bool


@dataclass(frozen=True)
class SubjectState:
    channel: str
    purpose: str
    state: ConsentState


@dataclass(frozen=True)
class Proof:
    contact: ContactView
    generated_at: datetime
    states: tuple[SubjectState, ...]
    events: tuple[ProofEvent, ...] = field(default_factory=tuple)


def consent_proof(ctx: Context, contact_ref: str) -> Proof:
    """Everything the ledger holds about one person's consents, with integrity checks."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        contact = find_contact(session, ctx, contact_ref)
        rows = ledger.contact_events(session, contact.id)
        texts = {r.consent_text_id for r in rows if r.consent_text_id is not None}
        shown = {t: session.get(ConsentText, t) for t in texts}
        events = tuple(_proof_event(r, shown.get(r.consent_text_id or -1)) for r in rows)
        subjects = sorted({(r.channel, r.purpose) for r in rows})
        states = tuple(
            SubjectState(
                channel,
                purpose,
                derive_state(
                    ledger.facts_of([r for r in rows if (r.channel, r.purpose) == subject]),
                    now,
                    ctx.settings.double_opt_in_expiry,
                ),
            )
            for subject in subjects
            for channel, purpose in [subject]
        )
        return Proof(view_of(contact), now, states, events)


def _proof_event(row: ConsentEvent, text: ConsentText | None) -> ProofEvent:
    as_row = ledger.as_ledger_row(row)
    intact = row_hash(row.seq, row.prev_hash, as_row.content) == row.hash and (
        as_row.personal is None
        or as_row.salt is None
        or personal_digest(as_row.salt, as_row.personal) == row.personal_digest
    )
    return ProofEvent(
        seq=row.seq,
        kind=row.kind,
        source=row.source,
        channel=row.channel,
        purpose=row.purpose,
        occurred_at=row.occurred_at,
        address=row.address,
        ip=row.ip,
        user_agent=row.user_agent,
        evidence=row.evidence,
        provider_message_id=row.provider_message_id,
        note=row.note,
        terms=row.terms,
        text=_shown(text, row.text_hash) if text is not None else None,
        row_intact=intact,
    )


def _shown(text: ConsentText, recorded_hash: str | None) -> ShownText:
    draft = draft_of(text)
    return ShownText(
        id=text.id,
        key=text.key,
        version=text.version,
        language=text.language,
        sha256=text.sha256,
        text=draft.rendered(),
        matches_hash=draft.sha256() == text.sha256 == recorded_hash,
    )
