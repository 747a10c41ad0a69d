"""Contact search benchmark: the admin app's search and paging over many contacts.

Fills a fresh SQLite database (in a temporary folder) with contacts and their identities,
then times ``search_contacts`` for the first page, a page deep in the list (keyset, no
OFFSET), a name search and a phone-number search; prints one JSON line:

    uv run python bench/contact_search.py --contacts 50000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from botschaft.services.clock import ManualClock
from botschaft.services.contact_directory import search_contacts
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.database import Database
from botschaft.storage.migrate import upgrade
from botschaft.storage.models import ChannelIdentity, Contact

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def fill(ctx: Context, count: int) -> None:
    """Bulk rows straight into the tables: the benchmark is about reading them."""
    with ctx.db.write() as session:
        session.execute(Contact.__table__.insert(), [
            {"id": n, "display_name": f"Person {n:06d}", "language": "de",
             "time_zone": "Europe/Berlin", "created_at": NOW} for n in range(1, count + 1)
        ])
        session.execute(ChannelIdentity.__table__.insert(), [
            {"contact_id": n, "channel": "whatsapp", "address": f"+49151{n:08d}",
             "created_at": NOW} for n in range(1, count + 1)
        ])


def timed(call: Callable[[], object], runs: int) -> float:
    """The median of ``runs`` calls, in milliseconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=f"sqlite:///{folder}/b.db")
        db = Database(settings.effective_database_url)
        upgrade(db)
        ctx = Context(db, settings, ManualClock(NOW))
        fill(ctx, args.contacts)
        deep = args.contacts // 2
        figures = {
            "contacts": args.contacts,
            "first_page_ms": timed(lambda: search_contacts(ctx), args.runs),
            "deep_page_ms": timed(lambda: search_contacts(ctx, before_id=deep), args.runs),
            "name_search_ms": timed(lambda: search_contacts(ctx, "person 0123"), args.runs),
            "number_search_ms": timed(lambda: search_contacts(ctx, "0151 0001 23"), args.runs),
        }
        ctx.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
