"""Early-status benchmark: what ``record_results`` pays per batch to look for early reports.

Seeds a fresh SQLite database (or the PostgreSQL URL given) with KEPT unmatched status
reports (statuses of messages that are not ours, as a shared number collects in a day),
then times ``services.early_statuses.apply_early_statuses`` for a batch of BATCH provider
ids of which none has a report waiting (the usual case), and of which every tenth has one
(a provider under load). Prints one JSON line with the medians in ms:

    uv run python bench/early_statuses.py --kept 10000 --batch 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.services.early_statuses import apply_early_statuses
from botschaft.settings import Settings
from botschaft.storage.broadcast import Delivery
from botschaft.storage.database import Database
from botschaft.storage.early_statuses import EarlyStatus
from botschaft.storage.migrate import upgrade

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WA = ChannelKind.WHATSAPP


def seed(ctx: Context, kept: int, batch: int) -> list[str]:
    """The kept reports and a batch of sent deliveries; returns their provider ids.

    No campaign row: its counters' UPDATE then touches nothing, and costs the same.
    """
    ids = [f"wamid.batch{n}" for n in range(batch)]
    with ctx.db.write() as session:
        session.execute(insert(EarlyStatus), [
            {"channel": "whatsapp", "provider_message_id": f"wamid.foreign{n}",
             "status": "delivered", "status_at": NOW, "received_at": NOW}
            for n in range(kept)])
        session.execute(insert(Delivery), [
            {"campaign_id": 1, "contact_id": n, "channel": "whatsapp", "state": "sent",
             "attempts": 1, "provider_message_id": wamid, "created_at": NOW, "sent_at": NOW}
            for n, wamid in enumerate(ids)])
    if ctx.db.dialect == "postgresql":
        with ctx.db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")  # as autovacuum would after such a load
    return ids


def median_ms(ctx: Context, ids: list[str], runs: int, waiting_every: int | None) -> float:
    times = []
    for _ in range(runs):
        if waiting_every:
            with ctx.db.write() as session:
                session.execute(insert(EarlyStatus), [
                    {"channel": "whatsapp", "provider_message_id": wamid, "status": "read",
                     "status_at": NOW, "received_at": NOW} for wamid in ids[::waiting_every]])
        with Session(ctx.db.engine) as session:
            started = time.perf_counter()
            apply_early_statuses(session, ctx, WA, ids)
            session.flush()
            times.append((time.perf_counter() - started) * 1000)
            session.rollback()  # the next run finds the same deliveries
        if waiting_every:
            with ctx.db.write() as session:
                session.execute(delete(EarlyStatus).where(EarlyStatus.status == "read"))
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kept", type=int, default=10_000, help="unmatched reports kept")
    parser.add_argument("--batch", type=int, default=500, help="provider ids per batch")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        db = Database(url)
        upgrade(db)
        ctx = Context(db, Settings(data_dir=Path(folder), database_url=url), ManualClock(NOW))
        ids = seed(ctx, args.kept, args.batch)
        figures = {
            "engine": db.dialect,
            "kept": args.kept,
            "batch": args.batch,
            "none_waiting_ms": median_ms(ctx, ids, args.runs, None),
            "tenth_waiting_ms": median_ms(ctx, ids, args.runs, 10),
        }
        ctx.close()
        db.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
