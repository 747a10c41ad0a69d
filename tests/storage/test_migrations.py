from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.contacts import ContactView
from botschaft.services.context import Context
from botschaft.storage.database import Database
from botschaft.storage.migrate import current_revision, head_revision, needs_upgrade, upgrade


def test_upgrade_creates_the_schema_and_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    assert needs_upgrade(db)
    upgrade(db)
    upgrade(db)
    assert current_revision(db) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"contacts", "channel_identities", "consent_texts", "consent_events",
            "ledger_head"} <= tables
    db.dispose()


def _withdraw(ctx: Context, contact: ContactView) -> None:
    record_consent(
        ctx,
        ConsentRecord(contact.id, ChannelKind.WHATSAPP, MARKETING, ConsentEventKind.WITHDRAWN,
                      ConsentSource.KEYWORD),
    )


@pytest.mark.parametrize(
    "statement",
    ["UPDATE consent_events SET kind = 'granted'", "DELETE FROM consent_events",
     "UPDATE consent_texts SET company = 'x'", "DELETE FROM consent_texts"],
)
def test_the_database_refuses_to_change_ledger_and_consent_texts(
    ctx: Context, contact: ContactView, text_version: object, statement: str
) -> None:
    _withdraw(ctx, contact)
    with pytest.raises(DBAPIError, match="append-only"), ctx.db.write() as session:
        session.execute(text(statement))


def test_sqlite_runs_in_wal_mode(ctx: Context) -> None:
    if not ctx.db.is_sqlite:
        pytest.skip("a SQLite setting")
    with ctx.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
