"""Live message streams (server-sent events) for the sandbox phone and the chat widget.

A stream waits on the ``inbox`` topic of the process's ``Notifier`` (one LISTEN connection
for all streams of the process) and reads the database with a keyset (``id > last``) when
it is woken for its conversation. Every write of a message or of its status announces the
conversation (``services.inbox_feed.announce``), from whichever process it comes on
PostgreSQL. A stream still reads every ``inbox.live_poll_seconds`` without a wake-up: on
SQLite another process (``botschaft demo``, a command) cannot wake it, and a listener that
lost its connection misses notifications until it is back.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import datetime

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from botschaft.services import inbox
from botschaft.services.context import Context
from botschaft.services.inbox_feed import INBOX_TOPIC
from botschaft.storage.notifier import Notifier, Subscription

# A comment line now and then keeps proxies from closing an idle stream.
KEEPALIVE_SECONDS = 15.0
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Beat(enum.Enum):
    LOOK = "look"  # read the database
    KEEPALIVE = "keepalive"  # send a comment line


class Pulse:
    """When a live stream looks again: at once when woken for what it shows, else after
    ``poll_seconds``; and a keep-alive after ``KEEPALIVE_SECONDS`` of silence."""

    def __init__(self, subscription: Subscription, poll_seconds: float) -> None:
        self._subscription = subscription
        self._poll_seconds = poll_seconds
        now = time.monotonic()
        self._next_look = now + poll_seconds
        self._next_keepalive = now + KEEPALIVE_SECONDS

    def spoke(self) -> None:
        """The stream sent something, so the keep-alive can wait."""
        self._next_keepalive = time.monotonic() + KEEPALIVE_SECONDS

    async def beat(self, wanted: Callable[[list[str]], bool]) -> Beat:
        """Wait for the next beat; ``wanted`` says whether payloads concern this stream."""
        while True:
            now = time.monotonic()
            if now >= self._next_keepalive:
                self.spoke()
                return Beat.KEEPALIVE
            if now >= self._next_look:
                break
            payloads = await self._subscription.wait(
                min(self._next_look, self._next_keepalive) - now
            )
            if payloads and wanted(payloads):
                break
        self._next_look = time.monotonic() + self._poll_seconds
        return Beat.LOOK


def notifier_of(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


def message_json(message: inbox.MessageView) -> str:
    return json.dumps(asdict(message), default=_plain, ensure_ascii=False)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def stream_messages(
    request: Request,
    ctx: Context,
    conversation_id: Callable[[], int | None],
    after_id: int,
    visible: Callable[[inbox.MessageView], bool] = lambda message: True,
) -> StreamingResponse:
    """An SSE response with every new message of a conversation, as ``message`` events.

    ``conversation_id`` is asked again while none exists yet (a first message is coming).
    Status changes of messages already sent arrive as ``status`` events.
    """
    notifier = notifier_of(request)

    async def events() -> AsyncIterator[str]:
        last_id = after_id
        watched: dict[int, str] = {}  # outbound messages whose status may still change
        found: int | None = None
        with notifier.subscribed(INBOX_TOPIC) as subscription:
            pulse = Pulse(subscription, ctx.settings.inbox.live_poll_seconds)
            yield "retry: 2000\n\n"
            beat = Beat.LOOK  # look once at the start: something may have come meanwhile
            while not await request.is_disconnected():
                if beat is Beat.KEEPALIVE:
                    yield ": keep-alive\n\n"
                elif (found := await run_in_threadpool(conversation_id)) is not None:
                    fresh = await run_in_threadpool(_newer, ctx, found, last_id)
                    changed = await run_in_threadpool(inbox.messages_by_ids, ctx, list(watched))
                    for message in changed:
                        if watched.get(message.id) != message.status:
                            yield f"event: status\ndata: {message_json(message)}\n\n"
                            pulse.spoke()
                        _watch(watched, message)
                    for message in fresh:
                        last_id = message.id
                        if visible(message):
                            yield (f"event: message\nid: {message.id}\n"
                                   f"data: {message_json(message)}\n\n")
                            pulse.spoke()
                            _watch(watched, message)
                beat = await pulse.beat(_about(found))

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


def _about(conversation: int | None) -> Callable[[list[str]], bool]:
    """Payloads concern a stream of ``conversation``; any does while it has none yet."""
    return lambda payloads: conversation is None or str(conversation) in payloads


def _newer(ctx: Context, conversation: int, last_id: int) -> list[inbox.MessageView]:
    return inbox.list_messages(ctx, conversation, after_id=last_id, limit=500)


_FINAL = frozenset({"read", "failed", "skipped", "received"})


def _watch(watched: dict[int, str], message: inbox.MessageView) -> None:
    if message.status in _FINAL:
        watched.pop(message.id, None)
    else:
        watched[message.id] = message.status
