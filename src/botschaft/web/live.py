"""Live message streams (server-sent events) for the sandbox phone and the chat widget.

Streams poll the database with a keyset (``id > last``), so they work across any number of
processes without a broker; a poll is one indexed query.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import datetime

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from botschaft.services import inbox
from botschaft.services.context import Context

POLL_SECONDS = 0.3
# A comment line now and then keeps proxies from closing an idle stream.
KEEPALIVE_SECONDS = 15.0


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

    async def events() -> AsyncIterator[str]:
        last_id, quiet = after_id, 0.0
        watched: dict[int, str] = {}  # outbound messages whose status may still change
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            found = await run_in_threadpool(conversation_id)
            if found is not None:
                fresh = await run_in_threadpool(_newer, ctx, found, last_id)
                changed = await run_in_threadpool(inbox.messages_by_ids, ctx, list(watched))
                for message in changed:
                    if watched.get(message.id) != message.status:
                        yield f"event: status\ndata: {message_json(message)}\n\n"
                        quiet = 0.0
                    _watch(watched, message)
                for message in fresh:
                    last_id = message.id
                    if visible(message):
                        yield f"event: message\nid: {message.id}\ndata: {message_json(message)}\n\n"
                        quiet = 0.0
                        _watch(watched, message)
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _newer(ctx: Context, conversation: int, last_id: int) -> list[inbox.MessageView]:
    return inbox.list_messages(ctx, conversation, after_id=last_id, limit=500)


_FINAL = frozenset({"read", "failed", "skipped", "received"})


def _watch(watched: dict[int, str], message: inbox.MessageView) -> None:
    if message.status in _FINAL:
        watched.pop(message.id, None)
    else:
        watched[message.id] = message.status
