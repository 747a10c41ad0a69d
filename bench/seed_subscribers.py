"""Seed many subscribers fast, with a ledger whose hash chain verifies; then time planning.

``seed(ctx, n, ...)`` writes ``n`` contacts with a WhatsApp identity each: most with a
granted marketing consent, some without any, some who withdrew, and some who had three
marketing messages this week already (over the cap). Rows go in with COPY on PostgreSQL and
batched executemany on SQLite; the ledger rows are hashed in order in Python, exactly as
``storage/ledger.append`` would have chained them, so ``botschaft consent verify`` passes.

Run alone, it seeds a fresh database, plans one campaign to everyone and prints one JSON
line with the seeding and planning times::

    uv run python bench/seed_subscribers.py --subscribers 1000000 --db postgres
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text, update

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING
from botschaft.domain.consent_text import ConsentTextDraft
from botschaft.domain.ledger import LedgerContent, PersonalData, personal_digest, row_hash
from botschaft.services.audiences import create_audience
from botschaft.services.campaign_planning import plan_campaign
from botschaft.services.campaigns import CampaignSpec, create_campaign
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import publish_consent_text
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.broadcast import Campaign
from botschaft.storage.database import Database
from botschaft.storage.migrate import upgrade
from botschaft.storage.models import ChannelIdentity, Contact, LedgerHead

BATCH = 10_000
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning
_TEMPLATE = {
    "kind": "template",
    "template": {"name": "wochenangebot", "language": "de", "params": ["{{ first_name }}"],
                 "text": "Hallo {{1}}, das Angebot der Woche von Botschaft. Abmelden: STOP"},
}


@dataclass(frozen=True)
class Seeded:
    contacts: int
    consenting: int
    without_consent: int
    withdrawn: int
    over_cap: int
    first_contact_id: int
    seconds: float


_FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ida", "Jonas",
    "Karl", "Lena", "Mia", "Noah", "Olga", "Paul", "Rosa", "Sophie", "Tim", "Ulrike",
    "Vera", "Wolfgang", "Yusuf", "Zoe", "Aylin", "Bernd", "Carla", "Dieter", "Elif", "Frank",
)


def display_name(n: int) -> str:
    """A customer's name: some 2,400 different first names in a shuffled order (real lists
    repeat first names too; the campaign text reads the first name)."""
    first = _FIRST_NAMES[(n * 7919) % len(_FIRST_NAMES)]
    variant = (n // len(_FIRST_NAMES) * 104729) % 80
    return f"{first}{'-' + str(variant) if variant else ''} Muster{n}"


def kind_of(n: int, no_consent: float, withdrawn: float, over_cap: float) -> str:
    """Which group the n-th subscriber is in; spread evenly so any prefix has each group."""
    point = (n * 0.6180339887) % 1.0  # the golden ratio spreads the groups evenly
    if point < no_consent:
        return "none"
    if point < no_consent + withdrawn:
        return "withdrawn"
    if point < no_consent + withdrawn + over_cap:
        return "over_cap"
    return "granted"


def seed(
    ctx: Context, n: int, *, no_consent: float = 0.05, withdrawn: float = 0.03,
    over_cap: float = 0.02, now: datetime = NOW, phone_prefix: str = "+49151",
) -> Seeded:
    """Insert ``n`` subscribers (see the module docstring) and return how many of each."""
    started = time.perf_counter()
    text_id, text_hash = _consent_text(ctx)
    with ctx.db.read() as session:
        first = int(session.scalar(select(func.max(Contact.id))) or 0) + 1
        identity_offset = int(session.scalar(select(func.max(ChannelIdentity.id))) or 0) + 1 - first
        head = session.get_one(LedgerHead, 1)
        seq, prev = head.seq, head.hash
    given = now - timedelta(days=30)
    counts = {"none": 0, "withdrawn": 0, "over_cap": 0, "granted": 0}
    writer = _Writer(ctx)
    over_cap_ids: list[int] = []
    for start in range(0, n, BATCH):
        contacts, identities, events = [], [], []
        for i in range(start, min(n, start + BATCH)):
            contact_id = first + i
            group = kind_of(i, no_consent, withdrawn, over_cap)
            counts[group] += 1
            address = f"{phone_prefix}{i:08d}"
            contacts.append((contact_id, display_name(i), "de", "Europe/Berlin", _naive(given)))
            identities.append(
                (contact_id + identity_offset, contact_id, "whatsapp", address, _naive(given))
            )
            if group == "none":
                continue
            seq, prev = seq + 1, _event(events, seq + 1, prev, contact_id, address, "granted",
                                        given, text_id, text_hash)
            if group == "withdrawn":
                seq, prev = seq + 1, _event(events, seq + 1, prev, contact_id, address,
                                            "withdrawn", given + timedelta(days=5), None, None)
            if group == "over_cap":
                over_cap_ids.append(contact_id)
        writer.rows("contacts", ("id", "display_name", "language", "time_zone", "created_at"),
                    contacts)
        writer.rows("channel_identities",
                    ("id", "contact_id", "channel", "address", "created_at"), identities)
        writer.rows("consent_events", _EVENT_COLUMNS, events)
    writer.finish(seq, prev)
    _earlier_campaigns(ctx, over_cap_ids, now)
    return Seeded(n, counts["granted"] + counts["over_cap"], counts["none"],
                  counts["withdrawn"], counts["over_cap"], first,
                  time.perf_counter() - started)


_EVENT_COLUMNS = ("seq", "contact_id", "channel", "purpose", "kind", "source", "occurred_at",
                  "consent_text_id", "text_hash", "address", "salt", "personal_digest",
                  "prev_hash", "hash")


def _event(rows: list[tuple[Any, ...]], seq: int, prev: str, contact_id: int, address: str,
           kind: str, at: datetime, text_id: int | None, text_hash: str | None) -> str:
    """Append one chained ledger row to ``rows``; returns its hash (the next row's prev)."""
    salt = secrets.token_hex(16)
    digest = personal_digest(salt, PersonalData(address))
    source = "web_form" if kind == "granted" else "keyword"
    content = LedgerContent(contact_id, "whatsapp", MARKETING, kind, source, at, text_id,
                            text_hash, None, None, digest)
    hashed = row_hash(seq, prev, content)
    rows.append((seq, contact_id, "whatsapp", MARKETING, kind, source, _naive(at), text_id,
                 text_hash, address, salt, digest, prev, hashed))
    return hashed


class _Writer:
    """COPY on PostgreSQL, executemany on SQLite, in one transaction per batch."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def rows(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        raw = self.ctx.db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.ctx.db.is_sqlite:
                cursor.execute("BEGIN IMMEDIATE")
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
                cursor.execute("COMMIT")
            else:
                with cursor.copy(  # type: ignore[attr-defined]
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.commit()
        finally:
            raw.close()

    def finish(self, seq: int, last_hash: str) -> None:
        with self.ctx.db.write() as session:
            session.execute(update(LedgerHead).where(LedgerHead.id == 1)
                            .values(seq=seq, hash=last_hash))
            if not self.ctx.db.is_sqlite:
                for table in ("contacts", "channel_identities"):
                    session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    ))


def _earlier_campaigns(ctx: Context, contact_ids: list[int], now: datetime) -> None:
    """Three campaigns this week that reached ``contact_ids``: they are over the weekly cap."""
    if not contact_ids:
        return
    audience = create_audience(ctx, f"Seed {secrets.token_hex(3)}", {})
    writer = _Writer(ctx)
    for day in (1, 2, 3):
        at = now - timedelta(days=day)
        campaign = create_campaign(ctx, CampaignSpec(
            name=f"Earlier {day}", channel=ChannelKind.WHATSAPP, audience_id=audience.id,
            content=_TEMPLATE))
        with ctx.db.write() as session:
            session.execute(update(Campaign).where(Campaign.id == campaign.id).values(
                status="done", started_at=at, finished_at=at, planned_count=len(contact_ids),
                sent=len(contact_ids)))
        for chunk in _chunks(contact_ids, BATCH):
            writer.rows(
                "deliveries",
                ("campaign_id", "contact_id", "channel", "state", "attempts", "created_at",
                 "sent_at"),
                [(campaign.id, c, "whatsapp", "delivered", 1, _naive(at), _naive(at))
                 for c in chunk],
            )


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _consent_text(ctx: Context) -> tuple[int, str]:
    published = publish_consent_text(ctx, ConsentTextDraft(
        key="newsletter", language="de", consent_purpose=MARKETING,
        company="Botschaft Demo GmbH, Hauptstraße 1, 10115 Berlin",
        purpose="Angebote per WhatsApp", data_categories="Telefonnummer, Name",
        recipients="Meta Platforms Ireland Ltd. als Betreiber von WhatsApp",
        frequency="höchstens zwei Nachrichten pro Woche",
        withdrawal="Jederzeit mit der Nachricht STOP widerrufbar",
        privacy_policy_url="https://demo.example/datenschutz",
    ))
    return published.id, published.sha256


def _naive(at: datetime) -> datetime:
    """How UTCDateTime stores a time: UTC without a zone."""
    return at.astimezone(UTC).replace(tzinfo=None)


def _database(kind: str, folder: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", None
    base = os.environ.get("BOTSCHAFT_TEST_POSTGRES_URL")
    if not base:
        sys.exit("--db postgres needs BOTSCHAFT_TEST_POSTGRES_URL")
    schema = "bench_" + secrets.token_hex(4)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in base else "?"

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{base}{joiner}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, drop = _database(args.db, Path(folder))
        try:
            settings = Settings(data_dir=Path(folder) / "data", database_url=url)
            ctx = Context(Database(url), settings, ManualClock(NOW))
            upgrade(ctx.db)
            seeded = seed(ctx, args.subscribers)
            if not ctx.db.is_sqlite:
                with ctx.db.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                        text("VACUUM ANALYZE"))
            audience = create_audience(ctx, "Everyone", {})
            campaign = create_campaign(ctx, CampaignSpec(
                name="Bench", channel=ChannelKind.WHATSAPP, audience_id=audience.id,
                content=_TEMPLATE))
            planned = plan_campaign(ctx, campaign.id)
            print(json.dumps({
                "db": args.db, "subscribers": args.subscribers,
                "seed_seconds": round(seeded.seconds, 2),
                "planning_seconds": round(planned.seconds, 2),
                "planned": planned.planned, "queued": planned.queued,
                "skipped": planned.skipped,
            }))
            ctx.close()
        finally:
            if drop is not None:
                drop()


if __name__ == "__main__":
    main()
