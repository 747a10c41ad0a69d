"""The inbound lane: handles stored webhook events as soon as they arrive.

It is its own task with its own queue (the ``inbound_events`` table), so a broadcast that
keeps the dispatcher busy never delays a customer's message reaching the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from botschaft.channels.registry import Channels
from botschaft.services.context import Context
from botschaft.services.inbound import handle_pending
from botschaft.services.intake import IntakeQueue

log = logging.getLogger(__name__)

# Without a wake-up (another process stored the event) the lane still looks this often.
POLL_SECONDS = 1.0
# Small batches keep SQLite's single write lock free for the intake most of the time.
BATCH = 10
# While webhooks pour in, the lane pauses this long between batches: answering providers
# fast (so they do not time out and retry) comes first, and the lane catches up after.
YIELD_SECONDS = 0.1


class InboundLane:
    def __init__(self, ctx: Context, channels: Channels, intake: IntakeQueue | None = None
                 ) -> None:
        self._ctx = ctx
        self._channels = channels
        self._intake = intake
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after storing events, from the event loop's thread."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                taken = await handle_pending(self._ctx, self._channels, BATCH)
            except Exception:
                # The process boundary of the lane: log, breathe, carry on.
                log.exception("inbound lane round failed")
                taken = 0
            if taken:
                if self._intake is not None and self._intake.busy():
                    await asyncio.sleep(YIELD_SECONDS)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
