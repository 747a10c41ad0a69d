"""The response-time badge from the messages table, and the request openings it measures from.

A person's message that opens or reopens a conversation is noted in ``request_openings``
by the inbound lane. The badge reads the openings of the last 30 days (indexed by time) and,
per opening, the first agent reply after it (indexed by conversation and id): one query,
with no scan of the message history. With tens of thousands of requests a month that still
takes a few hundred milliseconds (``bench/response_time.py``), and a badge over 30 days does
not move from one minute to the next, so pages ask ``ResponseTimeCache``, which measures at
most every ``CACHE_FOR``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botschaft.domain.auto_reply import opens_request
from botschaft.domain.response_time import PERIOD, Measurement, Request, measure
from botschaft.services.context import Context
from botschaft.storage.business import RequestOpening
from botschaft.storage.models import Conversation, Message


def note_request_opening(
    session: Session, conversation: Conversation, message: Message, *, was_resolved: bool,
    now: datetime,
) -> bool:
    """Record ``message`` as the start of a request if it opens or reopens the conversation."""
    previous = session.scalar(
        select(Message.created_at)
        .where(Message.conversation_id == conversation.id, Message.id < message.id)
        .order_by(Message.id.desc())
        .limit(1)
    )
    opened = opens_request(new_conversation=previous is None, was_resolved=was_resolved,
                           previous_message_at=previous, now=now)
    if opened:
        session.add(RequestOpening(message_id=message.id, conversation_id=conversation.id,
                                   opened_at=message.created_at))
    return opened


def response_time(ctx: Context) -> Measurement:
    """The badge over the last 30 days, with its 75th percentile and sample count."""
    now = ctx.clock.now()
    first_reply = (
        select(func.min(Message.created_at))
        .where(Message.conversation_id == RequestOpening.conversation_id,
               Message.id > RequestOpening.message_id, Message.direction == "out",
               Message.author == "agent")
        .correlate(RequestOpening)
        .scalar_subquery()
    )
    query = select(RequestOpening.opened_at, first_reply).where(
        RequestOpening.opened_at >= now - PERIOD, RequestOpening.opened_at <= now
    )
    with ctx.db.read() as session:
        requests = [Request(opened, answered) for opened, answered in session.execute(query)]
    return measure(requests, now)


CACHE_FOR = timedelta(minutes=10)


class ResponseTimeCache:
    """The last measurement, reused for ``CACHE_FOR`` (one per app; safe across threads)."""

    def __init__(self, ttl: timedelta = CACHE_FOR) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._measured: tuple[datetime, Measurement] | None = None

    def get(self, ctx: Context) -> Measurement:
        now = ctx.clock.now()
        with self._lock:
            if self._measured is not None:
                at, measurement = self._measured
                if at <= now < at + self._ttl:
                    return measurement
            measurement = response_time(ctx)
            self._measured = (now, measurement)
            return measurement
