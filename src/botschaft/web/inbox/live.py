"""The inbox's live stream (server-sent events): which conversations changed.

Polls the change feed and the messages table by keyset, like ``web.live`` (whose timing it
shares), so it works across processes without a broker. The page then fetches the fresh
list and, when the open conversation changed, the fresh thread: the server draws both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from botschaft.services.context import Context
from botschaft.services.inbox_feed import changes_since, current_mark, open_statuses
from botschaft.web.admin.auth import Ctx, app_router
from botschaft.web.inbox.pages import Agent
from botschaft.web.live import KEEPALIVE_SECONDS, POLL_SECONDS

router = app_router(tags=["inbox"])


@router.get("/inbox-stream", response_model=None)
async def inbox_stream(request: Request, ctx: Ctx, _who: Agent,
                       conversation: int | None = None) -> StreamingResponse:
    """``changed`` events with the ids of conversations that have news; for the open
    ``conversation``, delivery ticks too (a status change is no new row)."""

    async def events() -> AsyncIterator[str]:
        mark = await run_in_threadpool(current_mark, ctx)
        statuses = await run_in_threadpool(_statuses, ctx, conversation)
        quiet = 0.0
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            mark, touched = await run_in_threadpool(changes_since, ctx, mark)
            fresh = await run_in_threadpool(_statuses, ctx, conversation)
            if conversation is not None and fresh != statuses:
                touched.add(conversation)
            statuses = fresh
            if touched:
                yield f"event: changed\ndata: {json.dumps(sorted(touched))}\n\n"
                quiet = 0.0
            await asyncio.sleep(POLL_SECONDS * 3)
            quiet += POLL_SECONDS * 3
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _statuses(ctx: Context, conversation: int | None) -> dict[int, str]:
    return open_statuses(ctx, conversation) if conversation is not None else {}
