"""Gate lookup benchmark: what the outbound gate reads about one person, on a big history.

Seeds a fresh SQLite database (or the PostgreSQL URL given) with MESSAGES messages spread
over conversations of several people (a mix of service replies, marketing, a STOP
confirmation now and then), then times the lookups ``services.recipients`` makes on every
gate decision of a single message, and prints one JSON line with the medians in ms:

    uv run python bench/gate_lookup.py --messages 100000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

from sqlalchemy import insert

from botschaft.domain.channels import ChannelKind
from botschaft.domain.gate import MessageKind
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.services.recipients import (
    _last_sent,
    _last_sent_query,
    _marketing_times_query,
    recipient_for,
)
from botschaft.settings import Settings
from botschaft.storage.database import Database
from botschaft.storage.migrate import upgrade
from botschaft.storage.models import ChannelIdentity, Contact, Conversation, Message

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BATCH = 5000
KINDS = (("service", 6), ("marketing", 3), ("stop_confirmation", 1))


def seed(ctx: Context, messages: int, per_person: int, rng: Random) -> int:
    """Insert the history in bulk; returns how many people it holds."""
    people = max(1, messages // per_person)
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    with ctx.db.write() as session:
        for first in range(1, people + 1, BATCH):
            ids = range(first, min(first + BATCH, people + 1))
            session.execute(insert(Contact), [
                {"id": i, "display_name": f"Person {i}", "language": "de",
                 "time_zone": "Europe/Berlin", "created_at": NOW - timedelta(days=90)}
                for i in ids])
            session.execute(insert(ChannelIdentity), [
                {"id": i, "contact_id": i, "channel": "whatsapp", "address": f"+49151{i:08d}",
                 "created_at": NOW - timedelta(days=90)} for i in ids])
            session.execute(insert(Conversation), [
                {"id": i, "contact_id": i, "channel": "whatsapp", "status": "open",
                 "created_at": NOW - timedelta(days=90), "last_message_at": NOW} for i in ids])
        rows = []
        for n in range(messages):
            person = n % people + 1
            outbound = rng.random() < 0.6
            rows.append({
                "conversation_id": person, "channel": "whatsapp",
                "direction": "out" if outbound else "in",
                "author": "agent" if outbound else "contact",
                "purpose_kind": rng.choice(kinds) if outbound else None,
                "content_type": "text", "text": "…",
                "status": rng.choice(("sent", "delivered", "read")) if outbound else "received",
                "created_at": NOW - timedelta(minutes=rng.randrange(90 * 24 * 60)),
            })
            if len(rows) == BATCH:
                session.execute(insert(Message), rows)
                rows = []
        if rows:
            session.execute(insert(Message), rows)
    return people


def explain(ctx: Context, contact_id: int) -> None:
    """The engine's plan for each lookup, so an index that is not used shows."""
    statements = {
        "last_sent": _last_sent_query(contact_id, ChannelKind.WHATSAPP,
                                      MessageKind.STOP_CONFIRMATION),
        "marketing_times": _marketing_times_query(contact_id, NOW - timedelta(days=7)),
    }
    prefix = "EXPLAIN QUERY PLAN " if ctx.db.dialect == "sqlite" else "EXPLAIN "
    with ctx.db.engine.connect() as connection:
        for name, statement in statements.items():
            sql = str(statement.compile(ctx.db.engine, compile_kwargs={"literal_binds": True}))
            plan = connection.exec_driver_sql(prefix + sql).all()
            print(f"-- {name}", *(" | ".join(map(str, row)) for row in plan), sep="\n",
                  file=sys.stderr)


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--per-person", type=int, default=20, help="messages per person")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--explain", action="store_true",
                        help="also print the engine's plan of each lookup to stderr")
    args = parser.parse_args()
    rng = Random(7)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        db = Database(url)
        upgrade(db)
        ctx = Context(db, Settings(data_dir=Path(folder), database_url=url), ManualClock(NOW))
        started = time.perf_counter()
        people = seed(ctx, args.messages, args.per_person, rng)
        seeded = time.perf_counter() - started
        if db.dialect == "postgresql":
            # autovacuum would gather these statistics soon after such a load; SQLite has
            # none unless someone runs ANALYZE, which Botschaft does not.
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        picks = [rng.randrange(1, people + 1) for _ in range(args.runs + 1)]

        def last_sent() -> object:
            with ctx.db.read() as session:
                return _last_sent(session, picks[rng.randrange(len(picks))],
                                  ChannelKind.WHATSAPP, MessageKind.STOP_CONFIRMATION)

        def gate_facts() -> object:
            with ctx.db.read() as session:
                contact_id = picks[rng.randrange(len(picks))]
                contact = session.get_one(Contact, contact_id)
                identity = session.get_one(ChannelIdentity, contact_id)
                return recipient_for(session, ctx, contact, identity)

        if args.explain:
            explain(ctx, picks[0])
        figures = {
            "engine": db.dialect,
            "messages": args.messages,
            "people": people,
            "seed_s": round(seeded, 1),
            "last_sent_ms": median_ms(last_sent, args.runs),
            "recipient_for_ms": median_ms(gate_facts, args.runs),
        }
        ctx.close()
        db.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
