"""Inbox list benchmark: how fast the team inbox's list and a thread's header answer.

Seeds a temporary SQLite database (or the PostgreSQL URL given) with CONVERSATIONS
conversations of two messages each, a third of them labelled and assigned, then times
``conversations.list_page`` (first page, a page deep in the history by keyset, each filter)
and ``conversations.thread``; prints one JSON line with the median of each, in ms:

    uv run python bench/inbox_list.py --conversations 50000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from botschaft.domain.channels import ChannelKind
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.services.conversations import InboxFilter, Status, list_page, thread
from botschaft.settings import Settings
from botschaft.storage.accounts import User
from botschaft.storage.database import Database
from botschaft.storage.inbox import ConversationLabel, Label
from botschaft.storage.migrate import upgrade
from botschaft.storage.models import ChannelIdentity, Contact, Conversation, Message

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BATCH = 5000


def seed(ctx: Context, count: int) -> None:
    with ctx.db.write() as session:
        session.add(User(id=1, email="anna@bench.example", display_name="Anna", role="agent",
                         created_at=START))
        session.add(Label(id=1, name="VIP", color="amber", created_at=START))
    for first in range(1, count + 1, BATCH):
        ids = range(first, min(first + BATCH, count + 1))
        at = {i: START + timedelta(seconds=i) for i in ids}
        with ctx.db.write() as session:
            session.execute(insert(Contact), [
                {"id": i, "display_name": f"Person {i}", "language": "de",
                 "time_zone": "Europe/Berlin", "created_at": at[i]} for i in ids])
            session.execute(insert(ChannelIdentity), [
                {"id": i, "contact_id": i, "channel": "sandbox", "address": f"+49151{i:08d}",
                 "created_at": at[i], "last_inbound_at": at[i]} for i in ids])
            session.execute(insert(Conversation), [
                {"id": i, "contact_id": i, "channel": "sandbox",
                 "status": ("open", "pending", "resolved")[i % 3], "created_at": at[i],
                 "last_message_at": at[i], "assignee_id": 1 if i % 3 == 0 else None}
                for i in ids])
            session.execute(insert(Message), [
                {"conversation_id": i, "channel": "sandbox", "direction": d, "author": a,
                 "content_type": "text", "text": f"Nachricht {i}", "status": s,
                 "created_at": at[i]}
                for i in ids for d, a, s in (("in", "contact", "received"),
                                            ("out", "agent", "sent"))])
            session.execute(insert(ConversationLabel), [
                {"conversation_id": i, "label_id": 1, "added_at": at[i]}
                for i in ids if i % 3 == 0])


def median_ms(call: Callable[[], object], runs: int = 20) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        settings = Settings(data_dir=Path(folder), database_url=url)
        db = Database(url)
        upgrade(db)
        ctx = Context(db, settings, ManualClock(START + timedelta(days=1)))
        started = time.perf_counter()
        seed(ctx, args.conversations)
        seeded = time.perf_counter() - started
        deep = list_page(ctx, InboxFilter(limit=50))
        for _ in range(20):  # 20 pages down, by keyset
            deep = list_page(ctx, InboxFilter(limit=50, before=deep.next))
        cursor = deep.next
        figures = {
            "conversations": args.conversations,
            "engine": db.dialect,
            "seed_s": round(seeded, 1),
            "first_page_ms": median_ms(lambda: list_page(ctx, InboxFilter())),
            "page_21_ms": median_ms(lambda: list_page(ctx, InboxFilter(before=cursor))),
            "status_pending_ms": median_ms(
                lambda: list_page(ctx, InboxFilter(status=Status.PENDING))),
            "assignee_ms": median_ms(lambda: list_page(ctx, InboxFilter(assignee=1))),
            "label_ms": median_ms(lambda: list_page(ctx, InboxFilter(label=1))),
            "channel_ms": median_ms(
                lambda: list_page(ctx, InboxFilter(channel=ChannelKind.SANDBOX))),
            "thread_header_ms": median_ms(
                lambda: thread(ctx, args.conversations // 2, templates=True)),
        }
        ctx.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
