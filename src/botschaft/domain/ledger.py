"""The hash chain over the consent ledger.

Each row's hash covers its content and the previous row's hash, so changing, removing or
inserting a row breaks the chain from that row on. Personal data (address, IP, user agent,
evidence text) enters the row hash only through a salted digest: a later lawful erasure can
blank those fields and the salt without breaking the chain for every other person.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class PersonalData:
    address: str
    ip: str | None = None
    user_agent: str | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class LedgerContent:
    """What one ledger row asserts, apart from its place in the chain."""

    contact_id: int
    channel: str
    purpose: str
    kind: str
    source: str
    occurred_at: datetime
    consent_text_id: int | None
    text_hash: str | None
    provider_message_id: str | None
    note: str | None
    personal_digest: str
    terms: str | None = None  # JSON of a preference's terms (pause until, messages per period)


@dataclass(frozen=True)
class LedgerRow:
    seq: int
    content: LedgerContent
    prev_hash: str
    hash: str
    personal: PersonalData | None  # None once erased
    salt: str | None


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def personal_digest(salt: str, personal: PersonalData) -> str:
    payload = json.dumps(
        [salt, personal.address, personal.ip, personal.user_agent, personal.evidence],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def row_hash(seq: int, prev_hash: str, content: LedgerContent) -> str:
    """SHA-256 over the canonical JSON of the row's place, predecessor and content."""
    fields: dict[str, object] = {
        "seq": seq,
        "prev": prev_hash,
        "contact": content.contact_id,
        "channel": content.channel,
        "purpose": content.purpose,
        "kind": content.kind,
        "source": content.source,
        "at": _canonical_time(content.occurred_at),
        "text_id": content.consent_text_id,
        "text_hash": content.text_hash,
        "provider_id": content.provider_message_id,
        "note": content.note,
        "personal": content.personal_digest,
    }
    if content.terms is not None:
        # Only rows with terms hash them, so rows written before terms existed still verify.
        fields["terms"] = content.terms
    payload = json.dumps(
        fields,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def verify_chain(rows: Iterable[LedgerRow], head: ChainHead | None) -> ChainBreak | None:
    """Walk the rows in ``seq`` order and return the first break, or None if intact.

    ``head`` is the chain head stored beside the ledger; it catches rows cut from the end.
    """
    expected_seq, expected_prev = 1, GENESIS_HASH
    for row in rows:
        problem = _check_row(row, expected_seq, expected_prev)
        if problem:
            return ChainBreak(row.seq, problem)
        expected_seq, expected_prev = row.seq + 1, row.hash
    last_seq = expected_seq - 1
    if head is None:
        if last_seq:
            return ChainBreak(last_seq, "the chain head is missing")
        return None
    if head.seq > last_seq:
        return ChainBreak(last_seq + 1, f"rows {last_seq + 1}..{head.seq} were removed")
    if head.seq < last_seq:
        return ChainBreak(head.seq + 1, "rows were added behind the recorded chain head")
    if head.hash != expected_prev:
        return ChainBreak(last_seq, "the last row differs from the recorded chain head")
    return None


def _check_row(row: LedgerRow, expected_seq: int, expected_prev: str) -> str | None:
    if row.seq != expected_seq:
        if row.seq > expected_seq:
            return f"row {expected_seq} is missing before row {row.seq}"
        return f"row {row.seq} appears out of order"
    if row.prev_hash != expected_prev:
        return "its link to the previous row does not match (a row was removed or inserted)"
    # An erasure blanks the personal data and its salt together; anything else is tampering.
    if (row.personal is None) != (row.salt is None):
        return "its personal data or its salt was removed without the other"
    if (
        row.personal is not None
        and row.salt is not None
        and personal_digest(row.salt, row.personal) != row.content.personal_digest
    ):
        return "its personal data (address, IP, user agent or evidence) was changed"
    if row_hash(row.seq, row.prev_hash, row.content) != row.hash:
        return "its content was changed"
    return None


def _canonical_time(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
