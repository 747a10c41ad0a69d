"""Periodic jobs that keep the ledger truthful without anyone watching."""

from __future__ import annotations

import asyncio
import logging

from botschaft.services.consent import expire_overdue_requests
from botschaft.services.context import Context

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60.0


async def run_scheduler(ctx: Context, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
    """Run the periodic jobs every ``interval`` seconds until cancelled."""
    while True:
        await run_jobs_once(ctx)
        await asyncio.sleep(interval)


async def run_jobs_once(ctx: Context) -> None:
    try:
        expired = await asyncio.to_thread(expire_overdue_requests, ctx)
    except Exception:
        # A process boundary: log and keep the scheduler alive for the next round.
        log.exception("scheduler job failed", extra={"job": "expire_overdue_requests"})
        return
    if expired:
        log.info("double opt-in requests expired", extra={"count": expired})
