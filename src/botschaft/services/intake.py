"""The webhook intake: store verified events durably, once each, before answering 200.

Handling happens afterwards in its own lane (``services.inbound``), so a provider gets its
answer in a few milliseconds however busy the rest of the system is.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from botschaft.channels.codec import dump_event, kind_of
from botschaft.channels.events import Event, IgnoredEvent
from botschaft.domain.channels import ChannelKind
from botschaft.services.context import Context
from botschaft.storage.models import InboundEvent

PENDING = "pending"
HANDLED = "handled"
IGNORED = "ignored"
FAILED = "failed"


@dataclass(frozen=True)
class IntakeResult:
    stored: int
    duplicates: int


def store_events(ctx: Context, events: Sequence[Event]) -> IntakeResult:
    """Insert the events in one transaction; ones seen before (same dedupe key) are skipped."""
    return store_batches(ctx, [events])[0]


def store_batches(ctx: Context, batches: Sequence[Sequence[Event]]) -> list[IntakeResult]:
    """Store several requests' events in one transaction (group commit), a result for each.

    One commit for many webhooks is what lets SQLite keep up with a provider's bursts: the
    cost of a transaction is paid once per batch instead of once per request.
    """
    rows = [_row(ctx, event) for events in batches for event in events]
    if not rows:
        return [IntakeResult(0, 0) for _ in batches]
    dialect_insert = pg_insert if ctx.db.dialect == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(InboundEvent)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(InboundEvent.dedupe_key)
    )
    with ctx.db.write() as session:
        # RETURNING yields only the rows that were new: the rest were duplicates.
        new_keys = set(session.scalars(statement, rows).all())
    results, position = [], 0
    for events in batches:
        stored = 0
        for row in rows[position:position + len(events)]:
            if row["dedupe_key"] in new_keys:
                new_keys.discard(row["dedupe_key"])  # a repeat within the batch is a duplicate
                stored += 1
        position += len(events)
        results.append(IntakeResult(stored, len(events) - stored))
    return results


def _row(ctx: Context, event: Event) -> dict[str, object]:
    return {
            "channel": event.channel.value,
        "dedupe_key": event.dedupe_key or f"{event.channel.value}:anon:{secrets.token_hex(8)}",
        "kind": kind_of(event),
        "payload": dump_event(event),
        "received_at": ctx.clock.now(),
        # Ignored events are kept for the record but never handled.
        "state": IGNORED if isinstance(event, IgnoredEvent) else PENDING,
        "attempts": 0,
    }


class IntakeQueue:
    """Collects the events of concurrent webhook requests and stores them together.

    Each request still waits until its own events are committed before it answers, so the
    promise "stored durably before the 200" holds; requests that arrive while a commit is
    running simply ride along in the next one.
    """

    MAX_BATCH = 500

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._waiting: list[tuple[Sequence[Event], asyncio.Future[IntakeResult]]] = []
        self._wake = asyncio.Event()
        self._last_commit = 0.0

    def busy(self, within: float = 0.05) -> bool:
        """Whether webhooks were stored in the last ``within`` seconds or are waiting."""
        return bool(self._waiting) or time.monotonic() - self._last_commit < within

    async def store(self, events: Sequence[Event]) -> IntakeResult:
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, future))
        self._wake.set()
        return await future

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch = self._waiting[: self.MAX_BATCH]
                del self._waiting[: self.MAX_BATCH]
                await self._commit(batch)

    async def _commit(
        self, batch: list[tuple[Sequence[Event], asyncio.Future[IntakeResult]]]
    ) -> None:
        try:
            results = await asyncio.to_thread(store_batches, self._ctx, [e for e, _ in batch])
        except Exception as exc:
            # Every request of the failed batch answers with an error; the provider retries.
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self._last_commit = time.monotonic()
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def store_unreadable(
    ctx: Context, channel: ChannelKind, digest: str, body: bytes, reason: str
) -> None:
    """Keep a verified body we could not read as a dead letter, once per distinct body."""
    row = {
        "channel": channel.value,
        "dedupe_key": f"{channel.value}:unreadable:{digest}",
        "kind": "unreadable",
        # PostgreSQL text cannot hold NUL; the dead letter keeps it visibly escaped.
        "payload": body.decode("utf-8", errors="replace").replace("\x00", "\\u0000"),
        "received_at": ctx.clock.now(),
        "state": FAILED,
        "attempts": 0,
        "error": reason,
    }
    dialect_insert = pg_insert if ctx.db.dialect == "postgresql" else sqlite_insert
    with ctx.db.write() as session:
        session.execute(
            dialect_insert(InboundEvent).on_conflict_do_nothing(index_elements=["dedupe_key"]),
            [row],
        )
