"""The dispatcher: sends the queued deliveries of running campaigns, batch by batch.

Any number of dispatchers may run against PostgreSQL (``botschaft worker`` on any machine):
claims use ``FOR UPDATE SKIP LOCKED``, so each delivery is claimed once. On SQLite one
dispatcher runs inside ``serve`` (embedded mode). Each campaign is drained by a few lanes
at once, so one lane's database work overlaps another lane's provider requests; the sender
account's token bucket and concurrency limit are shared by all lanes of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.rate_limit import AccountLimits
from botschaft.services.campaign_send import (
    MAX_HOLD_SECONDS,
    PROGRESS_TOPIC,
    Result,
    SenderAccount,
    send_claimed,
)
from botschaft.services.context import Context
from botschaft.storage.notifier import Notifier
from botschaft.worker.db_stage import Stage, stage_for

log = logging.getLogger(__name__)

# A campaign is drained by this many lanes: while one sends, others claim or record. With
# two, sending paused whenever both were at the database at once; four keep the provider
# busy (measured: a fifth more messages a second on SQLite), at the price of up to four
# batches left ``sending`` by a crash.
LANES = 4
# With the daily tier reached, look again this often (sends of 24 h ago age out).
TIER_RECHECK_SECONDS = 60.0
# Topic a starting campaign is announced on, so idle dispatchers begin at once.
START_TOPIC = "campaign_start"


def worker_name() -> str:
    """Who claimed a delivery, as stored in ``claimed_by``: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class Dispatcher:
    """Runs until cancelled; ``only`` restricts it to one campaign and ends it with it.

    Its database work runs on ``stage``; by default on the one the settings ask for
    (``db_stage.stage_for``).
    """

    def __init__(
        self, ctx: Context, channels: Channels, *, notifier: Notifier | None = None,
        only: int | None = None, lanes: int = LANES,
        on_results: Callable[[list[Result]], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic, stage: Stage | None = None,
    ) -> None:
        self._ctx = ctx
        self._stage = stage or stage_for(ctx, channels, notifier)
        self._channels = channels
        self._notifier = notifier
        self._only = only
        self._lanes = lanes
        self._on_results = on_results
        self._monotonic = monotonic
        self._accounts: dict[ChannelKind, SenderAccount] = {}
        self.worker = worker_name()

    async def run(self) -> None:
        """Send until cancelled (or, with ``only``, until that campaign stops running)."""
        wake = self._notifier.subscribe(START_TOPIC) if self._notifier else None
        try:
            await self._stage.start()
            while True:
                try:
                    pause = await self.run_once()
                except Exception:
                    if self._only is not None:
                        raise  # one campaign, run by a person at a terminal: show them
                    # The boundary of a long-running dispatcher: log, breathe, go on.
                    log.exception("dispatcher round failed")
                    pause = self._ctx.settings.dispatch.idle_poll_seconds
                if pause is None:
                    return
                if pause > 0:
                    if wake is not None:
                        await wake.wait(pause)
                    else:
                        await asyncio.sleep(pause)
        finally:
            if wake is not None and self._notifier is not None:
                self._notifier.unsubscribe(wake)
            await self._stage.close()

    async def run_until_idle(self) -> None:
        """Send until nothing is due now (tests and one-off runs with a fixed clock)."""
        try:
            while (await self.run_once()) == 0.0:
                pass
        finally:
            await self._stage.close()

    async def run_once(self) -> float | None:
        """Drain every running campaign once; the seconds until more is due.

        None only with ``only``, once that campaign no longer runs.
        """
        campaigns = await self._stage.running_campaigns()
        if self._only is not None:
            campaigns = [c for c in campaigns if c[0] == self._only]
            if not campaigns:
                return None
        waits = [self._ctx.settings.dispatch.idle_poll_seconds]
        for campaign_id, channel in campaigns:
            wait = await self._drain(campaign_id, channel)
            if wait is not None:
                waits.append(wait)
        return min(waits)

    async def _drain(self, campaign_id: int, channel: ChannelKind) -> float | None:
        """Send what is due now; the seconds until more is due, or None when none is left."""
        allowance = await self._stage.daily_allowance(channel)
        if allowance == 0:
            log.info("daily tier reached", extra={"campaign_id": campaign_id,
                                                  "channel": channel.value})
            return TIER_RECHECK_SECONDS
        limit = self._batch_limit(channel)
        lanes_now = self._lanes
        if allowance is not None:
            # Near the tier, one lane claims no more than the account may still reach.
            limit, lanes_now = min(limit, allowance), 1 if allowance < limit else self._lanes
        await self._stage.prepare(campaign_id)
        cursor = _Cursor()  # this round's lanes go through the queue once, front to back
        lanes = [asyncio.create_task(self._lane(campaign_id, channel, limit, cursor,
                                                once=allowance is not None))
                 for _ in range(lanes_now)]
        try:
            await asyncio.gather(*lanes)
        finally:
            for lane in lanes:
                lane.cancel()
            for lane in lanes:
                with contextlib.suppress(asyncio.CancelledError):
                    await lane
        due = await self._stage.next_due(campaign_id)
        paused = self._account(channel).paused_for()
        if due is not None and paused > MAX_HOLD_SECONDS:
            return max(due, paused)  # queued rows are due, but the provider said "wait"
        return due

    async def _lane(self, campaign_id: int, channel: ChannelKind, limit: int,
                    cursor: _Cursor, *, once: bool = False) -> None:
        """Claim, send and record batches until nothing more is due (``once``: one batch)."""
        account = self._account(channel)
        adapter = self._channels.get(channel)
        while True:
            if account.paused_for() > MAX_HOLD_SECONDS:
                # The provider paused the account: claiming now would only mark batch after
                # batch ``sending`` and put it back, through the whole campaign.
                return
            batch = await self._stage.claim(campaign_id, self.worker, limit, cursor.after_id)
            cursor.after_id = max(cursor.after_id, batch.last_id)
            if batch.items:
                results = await send_claimed(adapter, account, batch.items)
                recorded = await self._stage.record(campaign_id, channel, results)
                if self._on_results is not None:
                    self._on_results(results)
                if recorded.halted is not None:
                    return
                if recorded.requeued and not batch.more:
                    return
            if not batch.more or once:
                return

    def _account(self, channel: ChannelKind) -> SenderAccount:
        account = self._accounts.get(channel)
        if account is None:
            rates = self._ctx.settings.dispatch.rates(channel.value)
            account = SenderAccount.for_limits(
                AccountLimits(per_second=rates.per_second, concurrency=rates.concurrency),
                self._monotonic,
            )
            self._accounts[channel] = account
        return account

    def _batch_limit(self, channel: ChannelKind) -> int:
        # About a second's worth of sending per lane, so claimed rows do not sit ``sending``
        # for long behind the rate limit (a crash would leave them uncertain).
        rates = self._ctx.settings.dispatch.rates(channel.value)
        per_lane = int(rates.per_second / self._lanes) or 1
        return max(1, min(self._ctx.settings.dispatch.batch_size, per_lane))


@dataclass
class _Cursor:
    """Where a round's next claim starts. Deliveries requeued behind it (a retry, a slowed
    account) are due again in the next round, which starts from the front."""

    after_id: int = 0


def announce_start(notifier: Notifier, campaign_id: int) -> None:
    """Wake idle dispatchers in every process: a campaign has just started."""
    notifier.publish(START_TOPIC, str(campaign_id))


__all__ = ["PROGRESS_TOPIC", "START_TOPIC", "Dispatcher", "announce_start", "worker_name"]
