"""The consent ledger's hash chain: changed, removed, inserted or cut rows are found."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from botschaft.domain.ledger import (
    GENESIS_HASH,
    ChainBreak,
    ChainHead,
    LedgerContent,
    LedgerRow,
    PersonalData,
    personal_digest,
    row_hash,
    verify_chain,
)

T0 = datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=UTC)
PERSONAL_REASON = "its personal data (address, IP, user agent or evidence) was changed"
CONTENT_REASON = "its content was changed"


def person(n: int) -> PersonalData:
    return PersonalData(
        address=f"+49151{n:08d}",
        ip=f"203.0.113.{n}",
        user_agent="Mozilla/5.0 (Android 15)",
        evidence=f"START (message wamid.{n})",
    )


def content(n: int, personal: PersonalData, salt: str) -> LedgerContent:
    return LedgerContent(
        contact_id=n,
        channel="whatsapp",
        purpose="marketing",
        kind="confirmed" if n % 2 else "requested",
        source="web_form",
        occurred_at=T0 + timedelta(minutes=n),
        consent_text_id=7,
        text_hash="ab" * 32,
        provider_message_id=f"wamid.{n}",
        note=None,
        personal_digest=personal_digest(salt, personal),
    )


def link(seq: int, prev_hash: str, body: LedgerContent, personal, salt) -> LedgerRow:
    """A row that is correct in itself and links to ``prev_hash``: what a forger can make."""
    return LedgerRow(seq, body, prev_hash, row_hash(seq, prev_hash, body), personal, salt)


def build_chain(length: int) -> tuple[list[LedgerRow], ChainHead]:
    rows: list[LedgerRow] = []
    prev = GENESIS_HASH
    for seq in range(1, length + 1):
        salt = f"salt-{seq:032x}"
        personal = person(seq)
        row = link(seq, prev, content(seq, personal, salt), personal, salt)
        rows.append(row)
        prev = row.hash
    return rows, ChainHead(length, prev)


def relink(rows: list[LedgerRow], start_seq: int = 1) -> list[LedgerRow]:
    """Renumber and rehash every row: a forger who rewrites the whole chain."""
    out: list[LedgerRow] = []
    prev = GENESIS_HASH
    for seq, row in enumerate(rows, start=start_seq):
        new = link(seq, prev, row.content, row.personal, row.salt)
        out.append(new)
        prev = new.hash
    return out


def test_intact_chain_verifies():
    rows, head = build_chain(5)

    assert verify_chain(rows, head) is None


def test_empty_chain_without_head_verifies():
    assert verify_chain([], None) is None


def test_rows_without_a_recorded_head_are_a_break():
    rows, _ = build_chain(3)

    assert verify_chain(rows, None) == ChainBreak(3, "the chain head is missing")


CONTENT_CHANGES = {
    "contact_id": 99,
    "channel": "telegram",
    "purpose": "service",
    "kind": "granted",
    "source": "import",
    "occurred_at": T0 - timedelta(days=30),
    "consent_text_id": 8,
    "text_hash": "cd" * 32,
    "provider_message_id": "wamid.forged",
    "note": "added later",
}


@pytest.mark.parametrize(("field", "value"), CONTENT_CHANGES.items(), ids=CONTENT_CHANGES.keys())
def test_changed_content_field_breaks_the_chain_at_that_row(field, value):
    rows, head = build_chain(5)
    rows[2] = replace(rows[2], content=replace(rows[2].content, **{field: value}))

    assert verify_chain(rows, head) == ChainBreak(3, CONTENT_REASON)


def test_occurred_at_moved_by_one_microsecond_breaks_the_chain():
    rows, head = build_chain(5)
    moved = rows[2].content.occurred_at + timedelta(microseconds=1)
    rows[2] = replace(rows[2], content=replace(rows[2].content, occurred_at=moved))

    assert verify_chain(rows, head) == ChainBreak(3, CONTENT_REASON)


@pytest.mark.parametrize(
    ("field", "value"),
    [("address", "+4917099999999"), ("ip", "198.51.100.1"), ("user_agent", "curl/8"),
     ("evidence", "forged START"), ("ip", None)],
)
def test_changed_personal_data_breaks_the_chain_at_that_row(field, value):
    rows, head = build_chain(5)
    rows[3] = replace(rows[3], personal=replace(rows[3].personal, **{field: value}))

    assert verify_chain(rows, head) == ChainBreak(4, PERSONAL_REASON)


def test_changed_salt_breaks_the_chain_at_that_row():
    rows, head = build_chain(5)
    rows[1] = replace(rows[1], salt="salt-forged")

    assert verify_chain(rows, head) == ChainBreak(2, PERSONAL_REASON)


def test_changed_personal_data_with_a_matching_digest_breaks_the_chain_at_that_row():
    rows, head = build_chain(5)
    forged = replace(rows[3].personal, address="+4917099999999")
    digest = personal_digest(rows[3].salt, forged)
    rows[3] = replace(
        rows[3], personal=forged, content=replace(rows[3].content, personal_digest=digest)
    )

    assert verify_chain(rows, head) == ChainBreak(4, CONTENT_REASON)


def test_changed_personal_data_with_its_salt_blanked_breaks_the_chain():
    rows, head = build_chain(5)
    forged = replace(rows[3].personal, address="+4917099999999")
    rows[3] = replace(rows[3], personal=forged, salt=None)

    assert verify_chain(rows, head) is not None


def test_erased_row_still_verifies():
    rows, head = build_chain(5)
    rows[2] = replace(rows[2], personal=None, salt=None)

    assert verify_chain(rows, head) is None


def test_every_row_erased_still_verifies():
    rows, head = build_chain(4)

    erased = [replace(row, personal=None, salt=None) for row in rows]

    assert verify_chain(erased, head) is None


def test_same_instant_in_another_time_zone_or_naive_utc_verifies():
    # Databases hand back naive UTC (SQLite) or another offset; the instant is what counts.
    rows, head = build_chain(3)
    berlin = rows[0].content.occurred_at.astimezone(ZoneInfo("Europe/Berlin"))
    naive = rows[1].content.occurred_at.replace(tzinfo=None)
    rows[0] = replace(rows[0], content=replace(rows[0].content, occurred_at=berlin))
    rows[1] = replace(rows[1], content=replace(rows[1].content, occurred_at=naive))

    assert verify_chain(rows, head) is None


def test_removed_middle_row_breaks_the_chain_at_the_gap():
    rows, head = build_chain(5)
    del rows[2]

    assert verify_chain(rows, head) == ChainBreak(4, "row 3 is missing before row 4")


def test_removed_middle_row_with_the_rest_renumbered_breaks_the_chain():
    rows, head = build_chain(5)
    kept = [rows[0], rows[1], *(replace(r, seq=r.seq - 1) for r in rows[3:])]

    found = verify_chain(kept, head)

    assert found is not None
    assert found.seq == 3


def test_inserted_row_breaks_the_chain():
    rows, head = build_chain(5)
    salt = "salt-forged"
    forged = link(3, rows[1].hash, content(42, person(42), salt), person(42), salt)
    tampered = [rows[0], rows[1], forged, *(replace(r, seq=r.seq + 1) for r in rows[2:])]

    found = verify_chain(tampered, head)

    assert found is not None
    assert found.seq == 4


def test_inserted_row_sharing_a_seq_breaks_the_chain():
    rows, head = build_chain(5)
    salt = "salt-forged"
    forged = link(3, rows[1].hash, content(42, person(42), salt), person(42), salt)
    tampered = [*rows[:2], forged, *rows[2:]]

    assert verify_chain(tampered, head) == ChainBreak(3, "row 3 appears out of order")


def test_rewritten_chain_is_caught_by_the_head():
    rows, head = build_chain(5)
    salt = "salt-forged"
    forged = link(3, rows[1].hash, content(42, person(42), salt), person(42), salt)

    rewritten = relink([*rows[:2], forged, *rows[2:]])

    assert verify_chain(rewritten, head) is not None


def test_rows_cut_from_the_end_break_via_the_head():
    rows, head = build_chain(5)

    assert verify_chain(rows[:3], head) == ChainBreak(4, "rows 4..5 were removed")


def test_all_rows_removed_break_via_the_head():
    _, head = build_chain(2)

    assert verify_chain([], head) == ChainBreak(1, "rows 1..2 were removed")


def test_rows_appended_beyond_the_head_break_the_chain():
    rows, head = build_chain(5)
    longer, _ = build_chain(7)

    found = verify_chain(longer, head)

    assert longer[:5] == rows
    assert found == ChainBreak(6, "rows were added behind the recorded chain head")


def test_rewritten_last_row_is_reported_at_its_own_seq():
    rows, head = build_chain(5)
    salt = "salt-forged"
    rows[4] = link(5, rows[3].hash, content(42, person(42), salt), person(42), salt)

    found = verify_chain(rows, head)

    assert found is not None
    assert found.seq == 5
    assert "added" not in found.reason


def test_rewritten_last_row_is_a_break():
    rows, head = build_chain(5)
    salt = "salt-forged"
    rows[4] = link(5, rows[3].hash, content(42, person(42), salt), person(42), salt)

    assert verify_chain(rows, head) is not None


def test_reordered_rows_break_the_chain():
    rows, head = build_chain(5)
    rows[1], rows[2] = rows[2], rows[1]

    assert verify_chain(rows, head) == ChainBreak(3, "row 2 is missing before row 3")


def test_reordered_and_renumbered_rows_break_the_chain():
    rows, head = build_chain(5)
    swapped = [rows[0], replace(rows[2], seq=2), replace(rows[1], seq=3), *rows[3:]]

    found = verify_chain(swapped, head)

    assert found is not None
    assert found.seq == 2


def test_row_hash_depends_on_its_place_in_the_chain():
    rows, _ = build_chain(2)
    body = rows[1].content

    assert row_hash(2, rows[0].hash, body) == rows[1].hash
    assert row_hash(3, rows[0].hash, body) != rows[1].hash
    assert row_hash(2, GENESIS_HASH, body) != rows[1].hash
