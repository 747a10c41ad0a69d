"""`botschaft contacts import` as a user runs it: a real process, settings from the env."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy import func, select

from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.models import ConsentEvent, Contact
from test_cli import botschaft

HEADER = "phone;name;consent_purpose;consent_at;consent_source;consent_text;ip\n"
GOOD = [
    "0151 23456789;Anna Müller;marketing;2025-05-04T10:15:00+02:00;web_form 2025;newsletter:1;"
    "203.0.113.7\n",
    "0170 1234567;Ben Berger;;;;;\n",
]
BAD = [
    "0151 2345;Bea;;;;;\n",
    "0160 9876543;Cem;marketing;;web_form 2025;newsletter:1;\n",
    "0152 11112222;Dora;marketing;2025-05-04T10:15:00+02:00;;newsletter:1;\n",
    "0152 33334444;Emil;marketing;2025-05-04T10:15:00+02:00;;newsletter:8;\n",
]


def _file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "kunden.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8-sig")
    return path


def _words(output: str) -> str:
    """Rich wraps table cells at the terminal's width; read the output as one run of words."""
    return " ".join(re.sub(r"[│┃╭╮╰╯─━┏┓┗┛┡┩└┘┳┻╇╈┼╋]", " ", output).split())


def _count(ctx: Context, model: type[Contact] | type[ConsentEvent]) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_prints_the_summary_and_exits_0_when_every_row_was_imported(
    ctx: Context, settings: Settings, text_version: PublishedText, tmp_path: Path
) -> None:
    run = botschaft(settings, "contacts", "import", str(_file(tmp_path, GOOD)))
    assert run.returncode == 0, run.stderr
    words = _words(run.stdout)
    assert "Imported kunden.csv." in words
    assert "Rows read 2" in words
    assert "contacts created 2" in words
    assert "consents imported 1" in words
    assert "Rows refused 0" in words
    assert (_count(ctx, Contact), _count(ctx, ConsentEvent)) == (2, 1)


def test_import_exits_1_naming_refused_rows_by_reason_and_line_and_imports_the_rest(
    ctx: Context, settings: Settings, text_version: PublishedText, tmp_path: Path
) -> None:
    report = tmp_path / "refused.csv"
    run = botschaft(settings, "contacts", "import", str(_file(tmp_path, GOOD + BAD)),
                    "--report", str(report))
    assert run.returncode == 1, run.stderr
    words = _words(run.stdout)
    assert "Rows imported 3" in words and "Rows refused 3" in words
    assert "consent without usable evidence 1 5" in words
    assert "invalid phone number 1 4" in words
    assert "consent text not published or for another purpose 1 7" in words
    assert "'0151 2345' is not a valid phone number" in words
    assert f"Refused rows with their reason: {report}" in words
    with report.open(encoding="utf-8-sig", newline="") as handle:
        refused = list(csv.DictReader(handle, delimiter=";"))
    assert [r["name"] for r in refused] == ["Bea", "Cem", "Emil"]
    assert "consent_at is empty" in refused[1]["reason"]
    assert (_count(ctx, Contact), _count(ctx, ConsentEvent)) == (3, 2)


def test_a_dry_run_says_so_reports_the_same_and_writes_nothing(
    ctx: Context, settings: Settings, text_version: PublishedText, tmp_path: Path
) -> None:
    run = botschaft(settings, "contacts", "import", str(_file(tmp_path, GOOD + BAD)),
                    "--dry-run")
    assert run.returncode == 1, run.stderr
    words = _words(run.stdout)
    assert "Dry run of kunden.csv: nothing was written." in words
    assert "contacts created 3" in words and "Rows refused 3" in words
    assert "Add --report refused.csv" in words
    assert (_count(ctx, Contact), _count(ctx, ConsentEvent)) == (0, 0)


def test_a_file_without_the_required_columns_exits_2_with_one_line_naming_them(
    ctx: Context, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "liste.csv"
    path.write_text("Name;E-Mail\nAnna;anna@example.org\n", encoding="utf-8")
    run = botschaft(settings, "contacts", "import", str(path))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "liste.csv lacks the column phone (or the columns channel and address)" in lines[0]
    assert "Columns found: Name, E-Mail" in lines[0]
    assert _count(ctx, Contact) == 0


def test_a_missing_file_exits_2_without_a_traceback(
    ctx: Context, settings: Settings, tmp_path: Path
) -> None:
    run = botschaft(settings, "contacts", "import", str(tmp_path / "fehlt.csv"))
    assert run.returncode == 2
    assert "Cannot read" in run.stderr and "fehlt.csv" in run.stderr
    assert "Traceback" not in run.stderr
