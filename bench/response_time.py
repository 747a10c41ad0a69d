"""Response-time badge benchmark: how long one badge computation takes on a busy history.

Seeds a fresh SQLite database (or the PostgreSQL URL given) with conversations, each with
several requests over 90 days (an inbound message, a system auto-reply, an agent reply),
then times ``services.response_time.response_time`` and prints one JSON line:

    uv run python bench/response_time.py --conversations 20000 --requests 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

from sqlalchemy import insert

from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.services.response_time import response_time
from botschaft.settings import Settings
from botschaft.storage.business import RequestOpening
from botschaft.storage.database import Database
from botschaft.storage.migrate import upgrade
from botschaft.storage.models import Contact, Conversation, Message

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def seed(ctx: Context, conversations: int, requests: int, rng: Random) -> int:
    """Insert the history in bulk; returns how many messages it holds."""
    contacts, threads, messages, openings = [], [], [], []
    message_id = 0
    for n in range(1, conversations + 1):
        contacts.append({"id": n, "display_name": f"Person {n}", "language": "de",
                         "time_zone": "Europe/Berlin", "created_at": NOW - timedelta(days=90)})
        threads.append({"id": n, "contact_id": n, "channel": "sandbox", "status": "open",
                        "created_at": NOW - timedelta(days=90), "last_message_at": NOW})
        for r in range(requests):
            opened = NOW - timedelta(days=90 * (requests - r) / requests,
                                     minutes=rng.randrange(600))
            answer = opened + timedelta(minutes=rng.choice([1, 3, 8, 20, 45, 180]))
            for direction, author, at in (("in", "contact", opened),
                                          ("out", "system", opened),
                                          ("out", "agent", answer)):
                message_id += 1
                messages.append({"id": message_id, "conversation_id": n, "channel": "sandbox",
                                 "direction": direction, "author": author,
                                 "content_type": "text", "text": "…", "status": "sent",
                                 "created_at": at})
                if author == "contact":
                    openings.append({"message_id": message_id, "conversation_id": n,
                                      "opened_at": opened})
    with ctx.db.write() as session:
        for table, rows in ((Contact, contacts), (Conversation, threads), (Message, messages),
                            (RequestOpening, openings)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start:start + 5000])
    return len(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=5, help="requests per conversation")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        settings = Settings(data_dir=Path(folder), database_url=url)
        ctx = Context(Database(url), settings, ManualClock(NOW))
        upgrade(ctx.db)
        messages = seed(ctx, args.conversations, args.requests, Random(7))
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            measured = response_time(ctx)
            timings.append((time.perf_counter() - started) * 1000)
        ctx.close()
    print(json.dumps({
        "benchmark": "response_time", "conversations": args.conversations,
        "messages": messages, "requests_in_30_days": measured.samples,
        "badge": measured.badge.value if measured.badge else None,
        "p50_ms": round(statistics.median(timings), 2), "max_ms": round(max(timings), 2),
        "engine": url.split(":", 1)[0],
    }))


if __name__ == "__main__":
    main()
