"""The webhook intake: store verified events durably, once each, before answering 200.

Handling happens afterwards in its own lane (``services.inbound``), so a provider gets its
answer in a few milliseconds however busy the rest of the system is.
"""

from __future__ import annotations

import secrets
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
    if not events:
        return IntakeResult(0, 0)
    now = ctx.clock.now()
    rows = [
        {
            "channel": event.channel.value,
            "dedupe_key": event.dedupe_key or f"{event.channel.value}:anon:{secrets.token_hex(8)}",
            "kind": kind_of(event),
            "payload": dump_event(event),
            "received_at": now,
            # Ignored events are kept for the record but never handled.
            "state": IGNORED if isinstance(event, IgnoredEvent) else PENDING,
            "attempts": 0,
        }
        for event in events
    ]
    dialect_insert = pg_insert if ctx.db.dialect == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(InboundEvent)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(InboundEvent.id)
    )
    with ctx.db.write() as session:
        # RETURNING yields only the rows that were new: the rest were duplicates.
        stored = len(session.execute(statement, rows).all())
    return IntakeResult(stored, len(rows) - stored)


def store_unreadable(
    ctx: Context, channel: ChannelKind, digest: str, body: bytes, reason: str
) -> None:
    """Keep a verified body we could not read as a dead letter, once per distinct body."""
    row = {
        "channel": channel.value,
        "dedupe_key": f"{channel.value}:unreadable:{digest}",
        "kind": "unreadable",
        "payload": body.decode("utf-8", errors="replace"),
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
