from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource, ConsentStatus
from botschaft.services.consent import ConsentRecord, consent_state, record_consent
from botschaft.services.consent_texts import PublishedText, publish_consent_text
from botschaft.services.contact_fields import tags_of
from botschaft.services.contact_import import BATCH_ROWS, ImportSummary, import_contacts
from botschaft.services.contacts import ContactView, create_contact, find_contact
from botschaft.services.context import Context
from botschaft.services.evidence import consent_proof, verify_ledger
from botschaft.services.import_file import ImportFileInvalid, Refusal
from botschaft.storage.models import ChannelIdentity, ConsentEvent, Contact

from factories import marketing_text

HEADER = ["phone", "name", "language", "time_zone", "consent_purpose", "consent_at",
          "consent_source", "consent_text", "ip", "user_agent", "evidence"]
GIVEN_AT = "2025-05-04T10:15:00+02:00"


def _row(phone: str, name: str = "", *, consent: bool = True, **changes: str) -> dict[str, str]:
    row = {column: "" for column in HEADER}
    row.update(phone=phone, name=name)
    if consent:
        row.update(consent_purpose="marketing", consent_at=GIVEN_AT,
                   consent_source="web_form 2025", consent_text="newsletter:1",
                   ip="203.0.113.7", user_agent="Mozilla/5.0 Firefox/140.0",
                   evidence="Bestätigt per E-Mail-Link")
    row.update(changes)
    return row


def write_csv(path: Path, rows: Iterable[dict[str, str]], *, header: list[str] | None = None,
              delimiter: str = ",", encoding: str = "utf-8") -> Path:
    columns = header or HEADER
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, columns, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _contacts(ctx: Context) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(Contact)) or 0


def _ledger_rows(ctx: Context) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(ConsentEvent)) or 0


def _status(ctx: Context, phone: str) -> ConsentStatus:
    with ctx.db.read() as session:
        contact = find_contact(session, ctx, phone)
        return consent_state(session, ctx, contact.id, ChannelKind.WHATSAPP, MARKETING).status


def _reasons(summary: ImportSummary) -> dict[int, str]:
    return {r.line: r.reason for r in summary.refused}


def test_a_row_with_evidence_imports_a_consent_whose_proof_shows_it(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "kunden.csv", [_row("0151 23456789", "Anna Müller")])
    summary = import_contacts(ctx, path)
    assert (summary.contacts_created, summary.consents_imported) == (1, 1)

    proof = consent_proof(ctx, "+4915123456789")
    (event,) = proof.events
    assert event.kind == ConsentEventKind.IMPORTED.value
    assert event.source == ConsentSource.IMPORT.value
    assert event.occurred_at == datetime(2025, 5, 4, 8, 15, tzinfo=UTC)
    assert event.text is not None and event.text.sha256 == text_version.sha256
    assert event.text.matches_hash
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "Mozilla/5.0 Firefox/140.0"
    assert event.evidence == "source: web_form 2025; evidence: Bestätigt per E-Mail-Link"
    assert event.note == "imported from kunden.csv, line 2"
    assert event.row_intact
    assert proof.contact.display_name == "Anna Müller"
    assert proof.states[0].state.status is ConsentStatus.ACTIVE


def test_a_german_excel_file_with_semicolons_and_a_byte_order_mark_imports(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    rows = [_row("0151 23456789", "Jürgen Groß"), _row("+43 664 1234567", "Brigitte Höß")]
    path = write_csv(tmp_path / "excel.csv", rows, delimiter=";", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfphone;")
    summary = import_contacts(ctx, path)
    assert (summary.rows_read, summary.consents_imported, summary.refused_count) == (2, 2, 0)
    with ctx.db.read() as session:
        assert find_contact(session, ctx, "+4915123456789").display_name == "Jürgen Groß"


def test_an_invalid_phone_number_is_refused_quoting_it_with_its_line(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    rows = [_row("0151 23456789"), _row("0151 2345"), _row("Anrufen!")]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    reasons = _reasons(summary)
    assert sorted(reasons) == [3, 4]
    assert "'0151 2345' is not a valid phone number" in reasons[3]
    assert "'Anrufen!'" in reasons[4]
    assert {r.refusal for r in summary.refused} == {Refusal.PHONE_INVALID}
    assert summary.consents_imported == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"consent_at": ""}, "without evidence: consent_at is empty"),
        ({"consent_text": ""}, "without evidence: consent_text is empty"),
        ({"consent_at": "", "consent_text": ""},
         "consent_at and consent_text are empty"),
        ({"consent_at": "2026-03-03T10:00:00+01:00"}, "lies in the future"),
        ({"consent_at": "2025-05-04 10:15"}, "has no time zone"),
        ({"consent_at": "04.05.2025"}, "is not an ISO 8601 time"),
        ({"consent_purpose": ""}, "consent_purpose is empty"),
    ],
)
def test_a_consent_claimed_without_usable_evidence_is_refused_by_line(
    ctx: Context, text_version: PublishedText, tmp_path: Path, changes: dict[str, str],
    expected: str,
) -> None:
    rows = [_row("0151 23456789"), _row("0170 1234567", **changes)]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    (refused,) = summary.refused
    assert refused.line == 3
    assert refused.refusal is Refusal.EVIDENCE_MISSING
    assert expected in refused.reason
    assert _contacts(ctx) == 1, "the refused row's contact is not created either"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("newsletter:7", "no published consent text newsletter:7 (published: newsletter:1:de)"),
        ("newsletter:1:en", "no published consent text newsletter:1:en"),
        ("angebote:1", "no text has the key 'angebote'"),
        ("newsletter", "is not key:version or key:version:language"),
        ("sensible-daten:1", "is for 'sensitive_data', not for 'marketing'"),
    ],
)
def test_a_consent_text_that_is_not_published_for_the_purpose_is_refused(
    ctx: Context, text_version: PublishedText, tmp_path: Path, reference: str, expected: str
) -> None:
    publish_consent_text(ctx, marketing_text(key="sensible-daten",
                                             consent_purpose="sensitive_data"))
    rows = [_row("0151 23456789", consent_text=reference)]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    (refused,) = summary.refused
    assert refused.refusal is Refusal.CONSENT_TEXT_UNKNOWN
    assert expected in refused.reason
    assert _ledger_rows(ctx) == 0


def test_a_text_published_in_two_languages_needs_the_language(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    english = publish_consent_text(ctx, marketing_text(language="en"))
    rows = [_row("0151 23456789"), _row("0170 1234567", consent_text="newsletter:1:en")]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    assert "exists in de, en: add the language" in _reasons(summary)[2]
    assert consent_proof(ctx, "+491701234567").events[0].text.id == english.id  # type: ignore[union-attr]


def test_a_person_who_withdrew_is_refused_and_stays_withdrawn(
    ctx: Context, contact: ContactView, text_version: PublishedText, tmp_path: Path
) -> None:
    record_consent(ctx, ConsentRecord(contact.id, ChannelKind.WHATSAPP, MARKETING,
                                      ConsentEventKind.WITHDRAWN, ConsentSource.KEYWORD,
                                      evidence="STOP"))
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", [_row("0151 23456789")]))
    (refused,) = summary.refused
    assert refused.refusal is Refusal.WITHDRAWN
    assert "the person withdrew" in refused.reason
    assert _status(ctx, "+4915123456789") is ConsentStatus.WITHDRAWN
    assert _ledger_rows(ctx) == 1


def test_an_open_double_opt_in_request_is_not_overridden(
    ctx: Context, contact: ContactView, text_version: PublishedText, tmp_path: Path
) -> None:
    record_consent(ctx, ConsentRecord(contact.id, ChannelKind.WHATSAPP, MARKETING,
                                      ConsentEventKind.REQUESTED, ConsentSource.WEB_FORM,
                                      consent_text_id=text_version.id))
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", [_row("0151 23456789")]))
    (refused,) = summary.refused
    assert refused.refusal is Refusal.CONSENT_CONFLICT
    assert _status(ctx, "+4915123456789") is ConsentStatus.PENDING


def test_an_existing_contact_is_not_duplicated_and_gets_only_its_empty_fields(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    named = create_contact(ctx, identities=[(ChannelKind.WHATSAPP, "+4915123456789")],
                           display_name="Anna Müller", language="de")
    unnamed = create_contact(ctx, identities=[(ChannelKind.WHATSAPP, "+491701234567")])
    rows = [_row("0151 23456789", "A. Mueller", language="en"),
            _row("0170 1234567", "Ben Berger")]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    assert (summary.contacts_created, summary.contacts_updated,
            summary.contacts_unchanged) == (0, 1, 1)
    assert _contacts(ctx) == 2
    with ctx.db.read() as session:
        anna = session.get(Contact, named.id)
        ben = session.get(Contact, unnamed.id)
        assert anna is not None and ben is not None
        assert (anna.display_name, anna.language) == ("Anna Müller", "de")
        assert ben.display_name == "Ben Berger"


def test_a_row_without_a_consent_imports_the_contact_alone(
    ctx: Context, tmp_path: Path
) -> None:
    rows = [_row("0151 23456789", "Anna", consent=False, language="en",
                 time_zone="Europe/Vienna")]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    assert (summary.contacts_created, summary.consents_imported) == (1, 0)
    assert _ledger_rows(ctx) == 0
    with ctx.db.read() as session:
        anna = find_contact(session, ctx, "+4915123456789")
        assert (anna.language, anna.time_zone) == ("en", "Europe/Vienna")
    assert _status(ctx, "+4915123456789") is ConsentStatus.NONE


def test_telegram_and_messenger_rows_name_a_channel_and_an_address(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    header = ["channel", "address", "phone", "name", "consent_purpose", "consent_at",
              "consent_text"]
    rows = [
        {"channel": "telegram", "address": "123456789", "name": "Tom",
         "consent_purpose": "marketing", "consent_at": GIVEN_AT, "consent_text": "newsletter:1"},
        {"channel": "Messenger", "address": "6789012345678901", "name": "Mia"},
        {"phone": "0151 23456789", "name": "Anna"},
        {"channel": "telegram", "name": "Nobody"},
        {"channel": "fax", "address": "0301234567"},
    ]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows, header=header))
    assert (summary.contacts_created, summary.consents_imported) == (3, 1)
    with ctx.db.read() as session:
        channels = set(session.scalars(select(ChannelIdentity.channel)))
    assert channels == {"telegram", "messenger", "whatsapp"}
    reasons = _reasons(summary)
    assert reasons[5] == "the telegram address is empty"
    assert "the channel 'fax' is none of" in reasons[6]


def test_a_dry_run_checks_every_row_and_writes_nothing(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    rows = [_row("0151 23456789"), _row("0151 2345"), _row("0170 1234567", consent=False)]
    path = write_csv(tmp_path / "f.csv", rows)
    dry = import_contacts(ctx, path, dry_run=True)
    assert dry.dry_run
    assert (dry.contacts_created, dry.consents_imported, dry.refused_count) == (2, 1, 1)
    assert (_contacts(ctx), _ledger_rows(ctx)) == (0, 0)
    assert verify_ledger(ctx).intact
    real = import_contacts(ctx, path)
    assert (real.contacts_created, real.consents_imported, real.refused) == (
        dry.contacts_created, dry.consents_imported, dry.refused)


def test_the_summary_accounts_for_every_row(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    rows = [
        _row("0151 23456789", "Anna"),
        _row("0151 23456789", "Anna again"),  # the same person twice in one file
        _row("0170 1234567", consent=False),
        {},  # a blank line
        _row("0151 2345"),
        _row("0160 9876543", consent_at=""),
        _row("0160 9876543", consent_at="", consent_text=""),
    ]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    assert summary.rows_read == 6
    assert summary.blank_rows == 1
    assert summary.rows_imported == 3
    assert (summary.contacts_created, summary.contacts_unchanged) == (2, 1)
    assert (summary.consents_imported, summary.consents_already_active) == (1, 1)
    assert summary.refused_count == 3
    assert [(g.refusal, g.rows, g.first_lines) for g in summary.groups] == [
        (Refusal.EVIDENCE_MISSING, 2, (7, 8)),
        (Refusal.PHONE_INVALID, 1, (6,)),
    ]


def test_importing_the_same_file_again_changes_nothing(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", [_row("0151 23456789", "Anna"), _row("0170 1234567")])
    import_contacts(ctx, path)
    again = import_contacts(ctx, path)
    assert (again.contacts_created, again.contacts_unchanged) == (0, 2)
    assert (again.consents_imported, again.consents_already_active, again.refused_count) == (
        0, 2, 0)
    assert _ledger_rows(ctx) == 2


def test_the_report_holds_each_refused_row_with_its_reason_ready_to_import_again(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    rows = [_row("0151 23456789"), _row("0151 2345", "Bea"), _row("0170 1234567", consent_at="")]
    report = tmp_path / "refused.csv"
    import_contacts(ctx, write_csv(tmp_path / "f.csv", rows, delimiter=";"), report=report)
    with report.open(encoding="utf-8-sig", newline="") as handle:
        refused = list(csv.DictReader(handle, delimiter=";"))
    assert [r["phone"] for r in refused] == ["0151 2345", "0170 1234567"]
    assert "'0151 2345' is not a valid phone number" in refused[0]["reason"]
    assert refused[0]["name"] == "Bea" and refused[0]["consent_text"] == "newsletter:1"

    refused[0]["phone"] = "0151 23456780"
    refused[1]["consent_at"] = GIVEN_AT
    fixed = write_csv(tmp_path / "fixed.csv", refused, header=[*HEADER, "reason"],
                      delimiter=";")
    summary = import_contacts(ctx, fixed, report=tmp_path / "still.csv")
    assert (summary.refused_count, summary.consents_imported) == (0, 2)
    assert summary.ignored_columns == ()
    assert (tmp_path / "still.csv").read_text(encoding="utf-8-sig").splitlines() == [
        ";".join([*HEADER, "reason"])]


def test_a_refused_row_rolls_back_alone(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    unnamed = create_contact(ctx, identities=[(ChannelKind.WHATSAPP, "+4915211112222")])
    record_consent(ctx, ConsentRecord(unnamed.id, ChannelKind.WHATSAPP, MARKETING,
                                      ConsentEventKind.WITHDRAWN, ConsentSource.KEYWORD))
    rows = [_row("0151 23456789"), _row("0170 1234567", consent_text="newsletter:9"),
            _row("0152 11112222", "Name From The File"), _row("0160 9876543")]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows))
    assert list(_reasons(summary)) == [3, 4]
    with ctx.db.read() as session:
        addresses = set(session.scalars(select(ChannelIdentity.address)))
        kept = session.get(Contact, unnamed.id)
        assert kept is not None and kept.display_name is None
    assert addresses == {"+4915123456789", "+491609876543", "+4915211112222"}
    assert verify_ledger(ctx).rows == 3


def test_columns_botschaft_does_not_keep_are_named(
    ctx: Context, tmp_path: Path
) -> None:
    header = ["phone", "E-Mail", "tags", ""]
    rows = [{"phone": "0151 23456789", "E-Mail": "anna@example.org", "tags": "vip"}]
    summary = import_contacts(ctx, write_csv(tmp_path / "f.csv", rows, header=header))
    assert summary.ignored_columns == ("E-Mail", "(unnamed column 4)")
    assert summary.contacts_created == 1


def test_the_tags_column_tags_new_and_known_contacts(ctx: Context, tmp_path: Path) -> None:
    rows = [{"phone": "0151 23456789", "tags": "VIP, angebote"},
            {"phone": "0160 9876543", "tags": "angebote"}]
    import_contacts(ctx, write_csv(tmp_path / "f.csv", rows, header=["phone", "tags"]))
    again = [{"phone": "0151 23456789", "tags": "berlin;vip"}]
    import_contacts(ctx, write_csv(tmp_path / "g.csv", again, header=["phone", "tags"]))
    with ctx.db.read() as session:
        tagged = {
            identity.address: tags_of(session, identity.contact_id)
            for identity in session.scalars(select(ChannelIdentity))
        }
    assert tagged == {"+4915123456789": ["angebote", "berlin", "vip"],
                      "+491609876543": ["angebote"]}


def test_a_row_with_more_values_than_columns_is_refused_quoting_them(
    ctx: Context, tmp_path: Path
) -> None:
    path = tmp_path / "f.csv"
    path.write_text("phone,name\n0151 23456789,Anna,Berlin\n0170 1234567,Ben,\n",
                    encoding="utf-8")
    summary = import_contacts(ctx, path)
    assert _reasons(summary) == {
        2: "the row has 3 values but the header names 2 columns (extra: 'Berlin')"}
    assert summary.contacts_created == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name;language\nAnna;de\n", "lacks the column phone (or the columns channel and"
                                     " address) that says whom a row is about. Columns found:"
                                     " name, language"),
        ("phone,consent_purpose,consent_source\n", "lacks the evidence columns consent_at"
                                                   " and consent_text"),
        ("phone,consent_at,consent_text\n", "lacks the column consent_purpose"),
        ("phone,name,Phone\n", "names a column twice: phone"),
        ("", "has no header"),
        ("phone;name\n0151 23456789;J\xfcrgen\n", "is not UTF-8 text (line 2 has the byte 0xfc)"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_before_any_row(
    ctx: Context, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ImportFileInvalid) as refused:
        import_contacts(ctx, path)
    assert expected in refused.value.message
    assert _contacts(ctx) == 0


def test_a_missing_file_is_refused_with_its_name(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(ImportFileInvalid, match=r"Cannot read .*nichts\.csv"):
        import_contacts(ctx, tmp_path / "nichts.csv")


ROWS_AT_SCALE = 20_000


def _resident_bytes() -> int:
    """The process's resident memory now (Linux), not its peak: growth shows at once."""
    pages = Path("/proc/self/statm").read_text(encoding="ascii").split()[1]
    return int(pages) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads Linux's /proc")
def test_twenty_thousand_rows_import_with_flat_memory(
    ctx: Context, text_version: PublishedText, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    write_csv(path, (_row(f"+49151{i:08d}", f"Kundin {i}") for i in range(ROWS_AT_SCALE)))
    samples: list[int] = []
    started = time.perf_counter()
    summary = import_contacts(
        ctx, path, progress=lambda _done, _size: samples.append(_resident_bytes())
    )
    seconds = time.perf_counter() - started
    print(f"\n{ROWS_AT_SCALE:,} rows on {ctx.db.dialect}: {seconds:.1f} s;"
          f" resident MB per batch: {[round(b / 1e6) for b in samples[::10]]}")
    assert (summary.contacts_created, summary.consents_imported) == (ROWS_AT_SCALE,) * 2
    assert summary.refused_count == 0
    # From the first tenth of the file to its end, memory moves by batch noise only; kept
    # rows would add some 3 kB each (60 MB here).
    settled = samples[len(samples) // 10]
    assert max(samples) - settled < 15_000_000, samples
    assert verify_ledger(ctx).rows == ROWS_AT_SCALE


def test_progress_is_reported_in_bytes_up_to_the_file_size(
    ctx: Context, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", (_row(f"+49151{i:08d}", consent=False)
                                          for i in range(700)))
    reports: list[tuple[int, int]] = []
    import_contacts(ctx, path, progress=lambda done, size: reports.append((done, size)))
    assert len(reports) == -(-700 // BATCH_ROWS)  # one report per batch
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert reports[-1] == (path.stat().st_size, path.stat().st_size)


def test_a_report_may_not_overwrite_the_file_being_imported(
    ctx: Context, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", [_row("0151 23456789", consent=False)])
    with pytest.raises(ImportFileInvalid, match="would overwrite the file being imported"):
        import_contacts(ctx, path, report=tmp_path / "." / "f.csv")
    assert _contacts(ctx) == 0
