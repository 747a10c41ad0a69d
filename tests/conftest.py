"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured), fixed clocks."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from botschaft.domain.channels import ChannelKind
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import PublishedText, publish_consent_text
from botschaft.services.contacts import ContactView, create_contact
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.database import Database
from botschaft.storage.migrate import upgrade
from botschaft.testing.fake_whatsapp import FakeWhatsApp

from factories import marketing_text

POSTGRES_URL = os.environ.get("BOTSCHAFT_TEST_POSTGRES_URL", "")
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning


def _postgres_schema_url(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each engine; PostgreSQL gets a schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'botschaft.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need BOTSCHAFT_TEST_POSTGRES_URL (CI sets it)")
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The dispatcher's database work in threads: the tests' hand-moved clock does not reach
    # a second process. tests/worker/test_db_stage.py runs the process stage.
    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    dispatch={"database_process": False})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def ctx(settings: Settings, clock: ManualClock) -> Iterator[Context]:
    db = Database(settings.effective_database_url)
    upgrade(db)
    context = Context(db, settings, clock)
    yield context
    context.close()


@pytest.fixture
def text_version(ctx: Context) -> PublishedText:
    return publish_consent_text(ctx, marketing_text())


@pytest.fixture
def contact(ctx: Context) -> ContactView:
    return create_contact(
        ctx, identities=[(ChannelKind.WHATSAPP, "0151 23456789")], display_name="Anna Müller"
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def fake(ctx: Context) -> AsyncIterator[FakeWhatsApp]:
    """The fake WhatsApp Cloud API on loopback, on the test's clock, with no rate limit."""
    async with FakeWhatsApp(clock=ctx.clock.now, throughput_per_second=None) as server:
        yield server
