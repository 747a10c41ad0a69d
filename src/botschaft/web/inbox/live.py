"""The inbox's live stream (server-sent events): which conversations changed.

Waits on the ``inbox`` topic like ``web.live`` (whose timing it shares) and, when woken by
any conversation's news or by the slow fallback poll, reads the change feed and the
messages table by keyset. The page then fetches the fresh list and, when the open
conversation changed, the fresh thread: the server draws both.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from botschaft.services.context import Context
from botschaft.services.inbox_feed import (
    INBOX_TOPIC,
    changes_since,
    current_mark,
    open_statuses,
)
from botschaft.web.admin.auth import Ctx, app_router
from botschaft.web.inbox.pages import Agent
from botschaft.web.live import SSE_HEADERS, Beat, Pulse, notifier_of

router = app_router(tags=["inbox"])


@router.get("/inbox-stream", response_model=None)
async def inbox_stream(request: Request, ctx: Ctx, _who: Agent,
                       conversation: int | None = None) -> StreamingResponse:
    """``changed`` events with the ids of conversations that have news; for the open
    ``conversation``, delivery ticks too (a status change is no new row)."""
    notifier = notifier_of(request)

    async def events() -> AsyncIterator[str]:
        with notifier.subscribed(INBOX_TOPIC) as subscription:
            # Subscribed before the mark is taken: a change right after it wakes the stream.
            mark = await run_in_threadpool(current_mark, ctx)
            statuses = await run_in_threadpool(_statuses, ctx, conversation)
            pulse = Pulse(subscription, ctx.settings.inbox.live_poll_seconds)
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                # Any conversation's news may change the list, so every wake-up is wanted.
                if await pulse.beat(lambda payloads: True) is Beat.KEEPALIVE:
                    yield ": keep-alive\n\n"
                    continue
                mark, touched = await run_in_threadpool(changes_since, ctx, mark)
                fresh = await run_in_threadpool(_statuses, ctx, conversation)
                if conversation is not None and fresh != statuses:
                    touched.add(conversation)
                statuses = fresh
                if touched:
                    yield f"event: changed\ndata: {json.dumps(sorted(touched))}\n\n"
                    pulse.spoke()

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


def _statuses(ctx: Context, conversation: int | None) -> dict[int, str]:
    return open_statuses(ctx, conversation) if conversation is not None else {}
