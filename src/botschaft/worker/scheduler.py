"""Periodic jobs that keep the ledger truthful without anyone watching."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from botschaft.services.app_sessions import remove_expired_sessions
from botschaft.services.campaigns import start_due_campaigns
from botschaft.services.consent import expire_overdue_requests
from botschaft.services.context import Context
from botschaft.services.early_statuses import settle_early_statuses
from botschaft.services.opt_in_requests import expire_overdue_agreements

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60.0


async def run_scheduler(ctx: Context, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
    """Run the periodic jobs every ``interval`` seconds until cancelled."""
    while True:
        await run_jobs_once(ctx)
        await asyncio.sleep(interval)


JOBS: tuple[tuple[str, Callable[[Context], int]], ...] = (
    ("expire_overdue_requests", expire_overdue_requests),
    ("expire_overdue_agreements", expire_overdue_agreements),
    ("remove_expired_sessions", remove_expired_sessions),
    ("start_due_campaigns", start_due_campaigns),
    ("settle_early_statuses", settle_early_statuses),
)


async def run_jobs_once(ctx: Context) -> None:
    for name, job in JOBS:
        try:
            count = await asyncio.to_thread(job, ctx)
        except Exception:
            # A process boundary: log and keep the scheduler alive for the next round.
            log.exception("scheduler job failed", extra={"job": name})
            continue
        if count:
            log.info("scheduler job done", extra={"job": name, "count": count})
