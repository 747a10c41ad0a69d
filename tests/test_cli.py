"""The CLI as a user runs it: a real process, settings from the environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.services.clock import ManualClock
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contacts import ContactView
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.migrate import head_revision


def botschaft(
    settings: Settings | None, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BOTSCHAFT_")}
    if settings is not None:
        environ["BOTSCHAFT_DATABASE_URL"] = settings.effective_database_url
        environ["BOTSCHAFT_DATA_DIR"] = str(settings.data_dir)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "botschaft", *args],
        capture_output=True, text=True, env=environ, timeout=60, check=False,
    )


def _subscribe_and_stop(ctx: Context, contact: ContactView, text_id: int,
                        clock: ManualClock) -> None:
    def record(kind: ConsentEventKind, source: ConsentSource, **extra: object) -> None:
        record_consent(ctx, ConsentRecord(contact.id, ChannelKind.WHATSAPP, MARKETING, kind,
                                          source, **extra))  # type: ignore[arg-type]

    record(ConsentEventKind.REQUESTED, ConsentSource.WEB_FORM, consent_text_id=text_id,
           ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    clock.advance(timedelta(minutes=4))
    record(ConsentEventKind.CONFIRMED, ConsentSource.KEYWORD, evidence="Start",
           provider_message_id="wamid.HBgLNDkxNTEyMzQ1Njc4OQ")
    clock.advance(timedelta(days=9))
    record(ConsentEventKind.WITHDRAWN, ConsentSource.KEYWORD, evidence="STOPP")


def test_consent_verify_passes_on_an_intact_ledger(
    ctx: Context, settings: Settings, contact: ContactView, text_version: PublishedText,
    clock: ManualClock,
) -> None:
    _subscribe_and_stop(ctx, contact, text_version.id, clock)
    run = botschaft(settings, "consent", "verify")
    assert run.returncode == 0, run.stderr
    assert "intact: 3 rows" in run.stdout


def _tamper(ctx: Context, statement: str) -> None:
    """What someone with database access might do: switch the guard off and edit."""
    with ctx.db.engine.begin() as connection:
        if ctx.db.is_sqlite:
            connection.execute(text("DROP TRIGGER consent_events_no_update"))
            connection.execute(text("DROP TRIGGER consent_events_no_delete"))
        else:
            connection.execute(text("ALTER TABLE consent_events DISABLE TRIGGER USER"))
        connection.execute(text(statement))


@pytest.mark.parametrize(
    ("statement", "row", "reason"),
    [
        ("UPDATE consent_events SET kind = 'granted' WHERE seq = 3", 3, "content was changed"),
        ("UPDATE consent_events SET ip = '198.51.100.1' WHERE seq = 1", 1, "personal data"),
        ("DELETE FROM consent_events WHERE seq = 2", 3, "row 2 is missing"),
        ("DELETE FROM consent_events WHERE seq = 3", 3, "were removed"),
    ],
)
def test_consent_verify_names_the_first_broken_row(
    ctx: Context, settings: Settings, contact: ContactView, text_version: PublishedText,
    clock: ManualClock, statement: str, row: int, reason: str,
) -> None:
    _subscribe_and_stop(ctx, contact, text_version.id, clock)
    _tamper(ctx, statement)
    run = botschaft(settings, "consent", "verify")
    assert run.returncode == 1
    assert f"broken at row {row}" in run.stderr
    assert reason in run.stderr


def test_consent_proof_tells_the_whole_story(
    ctx: Context, settings: Settings, contact: ContactView, text_version: PublishedText,
    clock: ManualClock,
) -> None:
    _subscribe_and_stop(ctx, contact, text_version.id, clock)
    run = botschaft(settings, "consent", "proof", "0151 23456789")
    assert run.returncode == 0, run.stderr
    # Panels wrap long lines at the terminal's width; read it as one stream of words.
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", run.stdout).split())
    for expected in ("requested", "confirmed", "withdrawn", "203.0.113.7", "Firefox/140.0",
                     "'Start'", "wamid.HBgLNDkxNTEyMzQ1Njc4OQ", "Meta Platforms Ireland",
                     "matches the recorded hash", "row intact"):
        assert expected in words


def test_consent_proof_json_is_machine_readable(
    ctx: Context, settings: Settings, contact: ContactView, text_version: PublishedText,
    clock: ManualClock,
) -> None:
    _subscribe_and_stop(ctx, contact, text_version.id, clock)
    run = botschaft(settings, "consent", "proof", f"#{contact.id}", "--json")
    proof = json.loads(run.stdout)
    assert [e["kind"] for e in proof["events"]] == ["requested", "confirmed", "withdrawn"]
    assert proof["events"][0]["text"]["sha256"] == text_version.sha256
    assert proof["states"][0]["state"]["status"] == "withdrawn"


def test_consent_proof_of_an_unknown_contact_is_one_clear_line(
    ctx: Context, settings: Settings
) -> None:
    run = botschaft(settings, "consent", "proof", "+4915199999999")
    assert run.returncode == 2
    assert run.stderr.strip().endswith("No contact has the address '+4915199999999'.")
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BOTSCHAFT_PORT", "eighty", "Setting BOTSCHAFT_PORT: Input should be a valid integer"),
        ("BOTSCHAFT_DEFAULT_REGION", "XY", "Setting BOTSCHAFT_DEFAULT_REGION: 'XY' is not"),
        ("BOTSCHAFT_TELEGRAM__ENABLED", "true",
         "Setting BOTSCHAFT_TELEGRAM__BOT_TOKEN must be set"),
        ("BOTSCHAFT_DATABSE_URL", "sqlite://", "Setting BOTSCHAFT_DATABSE_URL: there is no"),
    ],
)
def test_a_wrong_setting_stops_with_one_line_naming_it(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    run = botschaft(None, "db", "upgrade", **{variable: value,
                                              "BOTSCHAFT_DATA_DIR": str(tmp_path)})
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_db_upgrade_creates_the_embedded_database(tmp_path: Path) -> None:
    run = botschaft(None, "db", "upgrade", BOTSCHAFT_DATA_DIR=str(tmp_path / "d"))
    assert run.returncode == 0, run.stderr
    assert f"Upgraded the schema from nothing to {head_revision()}" in run.stdout
    assert (tmp_path / "d" / "botschaft.db").exists()
