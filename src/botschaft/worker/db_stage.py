"""Where the dispatcher's database work runs: in threads, or in a process of its own.

Claiming (the gate's facts, the gate, rendering, encoding) and recording cost the
dispatcher more CPU per message than the provider request does. In threads they share one
interpreter lock with the event loop that sends, so sending and claiming take turns on one
core. In a process of their own they run beside the sending on another core; the sending
process then does little more than a bare loop of requests, and in ``serve`` the web app
keeps its interpreter for webhooks while a campaign runs.

Both stages do the same work through ``DatabaseWork``; only where it runs differs. The
process stage needs a database that two processes can open (not SQLite in memory) and a
clock that can be pickled; tests with a hand-moved clock use the thread stage.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from typing import Any, Protocol, cast

from botschaft.channels.base import WireChannel
from botschaft.channels.outcomes import SendOutcome, Sent
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError
from botschaft.services.campaign_content import PreparedCampaign, prepare_campaign
from botschaft.services.campaign_send import (
    PROGRESS_TOPIC,
    Claimed,
    ClaimedBatch,
    Encode,
    Recorded,
    Result,
    claim_batch,
    daily_allowance,
    next_due,
    record_results,
    running_campaigns,
)
from botschaft.services.clock import Clock
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.notifier import Notifier

log = logging.getLogger(__name__)


class Stage(Protocol):
    async def start(self) -> None:
        """Be ready for work (the process stage starts its child: about a second)."""

    async def running_campaigns(self) -> list[tuple[int, ChannelKind]]: ...

    async def daily_allowance(self, channel: ChannelKind) -> int | None: ...

    async def prepare(self, campaign_id: int) -> None:
        """Read the campaign's content once for the round that follows."""

    async def claim(self, campaign_id: int, worker: str, limit: int, after_id: int
                    ) -> ClaimedBatch: ...

    async def record(self, campaign_id: int, channel: ChannelKind, results: Sequence[Result]
                     ) -> Recorded: ...

    async def next_due(self, campaign_id: int) -> float | None: ...

    async def close(self) -> None: ...


class DatabaseWork:
    """The dispatcher's database calls, with the campaigns prepared for this round."""

    def __init__(self, ctx: Context, channels: Channels, notifier: Notifier | None) -> None:
        self.ctx = ctx
        self._channels = channels
        self._notifier = notifier
        self._prepared: dict[int, PreparedCampaign] = {}

    def running_campaigns(self) -> list[tuple[int, ChannelKind]]:
        return running_campaigns(self.ctx)

    def daily_allowance(self, channel: ChannelKind) -> int | None:
        return daily_allowance(self.ctx, channel)

    def prepare(self, campaign_id: int) -> None:
        self._prepared[campaign_id] = prepare_campaign(self.ctx, campaign_id)

    def claim(self, campaign_id: int, worker: str, limit: int, after_id: int) -> ClaimedBatch:
        prepared = self._prepared[campaign_id]
        return claim_batch(self.ctx, prepared, worker, limit, self._notifier,
                           after_id=after_id, encode=self._encoder(prepared.channel))

    def record(self, campaign_id: int, channel: ChannelKind, results: Sequence[Result]
               ) -> Recorded:
        return record_results(self.ctx, campaign_id, channel, results, self._notifier)

    def record_compact(self, campaign_id: int, channel: ChannelKind,
                       rows: list[_CompactResult]) -> Recorded:
        return self.record(campaign_id, channel, [
            Result(Claimed(delivery_id, contact_id, attempt, ("", b"")),
                   Sent(outcome) if isinstance(outcome, str) else outcome, seconds)
            for delivery_id, contact_id, attempt, outcome, seconds in rows
        ])

    def next_due(self, campaign_id: int) -> float | None:
        due = next_due(self.ctx, campaign_id)
        if due is None:
            self._prepared.pop(campaign_id, None)
        return due

    def _encoder(self, channel: ChannelKind) -> Encode | None:
        try:
            adapter = self._channels.get(channel)
        except BotschaftError:
            return None  # switched off: the send will say so
        return adapter.encode if isinstance(adapter, WireChannel) else None


class _Stage(ABC):
    """The stage's calls, each the ``DatabaseWork`` method of that name, run by ``_call``."""

    @abstractmethod
    async def _call(self, name: str, *args: Any) -> Any:
        """Run ``DatabaseWork.<name>(*args)`` where this stage runs it."""

    async def running_campaigns(self) -> list[tuple[int, ChannelKind]]:
        return cast(list[tuple[int, ChannelKind]], await self._call("running_campaigns"))

    async def daily_allowance(self, channel: ChannelKind) -> int | None:
        return cast(int | None, await self._call("daily_allowance", channel))

    async def prepare(self, campaign_id: int) -> None:
        await self._call("prepare", campaign_id)

    async def claim(self, campaign_id: int, worker: str, limit: int, after_id: int
                    ) -> ClaimedBatch:
        return cast(ClaimedBatch,
                    await self._call("claim", campaign_id, worker, limit, after_id))

    async def record(self, campaign_id: int, channel: ChannelKind, results: Sequence[Result]
                     ) -> Recorded:
        return cast(Recorded, await self._call("record", campaign_id, channel, results))

    async def next_due(self, campaign_id: int) -> float | None:
        return cast(float | None, await self._call("next_due", campaign_id))


class ThreadStage(_Stage):
    """The database work in threads of the dispatcher's own process."""

    def __init__(self, ctx: Context, channels: Channels, notifier: Notifier | None) -> None:
        self._work = DatabaseWork(ctx, channels, notifier)

    async def start(self) -> None:
        pass  # the threads are asyncio's own

    async def close(self) -> None:
        pass  # nor anything to end

    async def _call(self, name: str, *args: Any) -> Any:
        return await asyncio.to_thread(getattr(self._work, name), *args)


class ProcessStage(_Stage):
    """The database work in a child process with its own connections (one call at a time).

    The child is started on first use and again after it died; a call it did not finish
    raises ``BrokenProcessPool`` into the dispatcher's round, whose rows stay ``sending``
    and are reported as uncertain, as after any crash. On SQLite, where wake-ups stay
    within a process, the stage wakes this process's live views itself after each call.
    """

    def __init__(self, ctx: Context, notifier: Notifier | None) -> None:
        self._settings, self._clock = ctx.settings, ctx.clock
        self._notifier = notifier
        self._wake_here = ctx.db.is_sqlite and notifier is not None
        self._pool: ProcessPoolExecutor | None = None

    async def start(self) -> None:
        await self._call("running_campaigns")
        log.info("dispatcher database process started", extra={"pid": self.child_pid()})

    def child_pid(self) -> int | None:
        """The database process's id while it runs."""
        if self._pool is None:
            return None
        return next(iter(self._pool._processes), None)  # concurrent.futures keeps them here

    async def claim(self, campaign_id: int, worker: str, limit: int, after_id: int
                    ) -> ClaimedBatch:
        batch = await super().claim(campaign_id, worker, limit, after_id)
        if batch.skipped:
            self._wake(campaign_id)
        return batch

    async def record(self, campaign_id: int, channel: ChannelKind, results: Sequence[Result]
                     ) -> Recorded:
        recorded = cast(Recorded, await self._call("record_compact", campaign_id, channel,
                                                   _compact(results)))
        self._wake(campaign_id)
        return recorded

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def _call(self, name: str, *args: Any) -> Any:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child, initargs=(self._settings, self._clock),
            )
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, _run_in_child, name, args)
        except BrokenProcessPool:
            broken, self._pool = self._pool, None
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            raise

    def _wake(self, campaign_id: int) -> None:
        if self._wake_here and self._notifier is not None:
            self._notifier.wake_here(PROGRESS_TOPIC, str(campaign_id))


# A result as it crosses to the database process: the message is not needed there, and a
# ``Sent`` (nearly every result) travels as its provider id, a plain string.
_CompactResult = tuple[int, int, int, str | SendOutcome, float]


def _compact(results: Sequence[Result]) -> list[_CompactResult]:
    return [(r.item.delivery_id, r.item.contact_id, r.item.attempt,
             r.outcome.provider_message_id if type(r.outcome) is Sent else r.outcome,
             r.seconds) for r in results]


def stage_for(ctx: Context, channels: Channels, notifier: Notifier | None) -> Stage:
    """The stage the settings ask for (``dispatch.database_process``); threads where the
    database cannot be opened by a second process."""
    if ctx.settings.dispatch.database_process and not ctx.db.in_memory:
        return ProcessStage(ctx, notifier)
    return ThreadStage(ctx, channels, notifier)


# -- in the child process -----------------------------------------------------------------

_CHILD: dict[str, DatabaseWork] = {}  # the child's one DatabaseWork, once started


def _start_child(settings: Settings, clock: Clock) -> None:
    import gc

    # The parent decides when to stop (Ctrl+C reaches the whole process group), and when
    # it dies (SIGKILL, OOM) this process goes with it: it would otherwise wait for work
    # forever, since it holds its own queue's other end too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="parent-watch",
                         daemon=True).start()
    ctx = Context.open(settings, clock)
    _CHILD["work"] = DatabaseWork(ctx, Channels.from_settings(settings, clock), Notifier(ctx.db))
    gc.collect()
    # What start-up loaded lives as long as the process: out of the collector's scans. The
    # thresholds stay Python's: with ``serve``'s rare collections (made for request
    # latency, which this process has none of) a million-message campaign left ~80 MB of
    # cyclic garbage waiting here.
    gc.freeze()


def _end_with(parent: BaseProcess) -> None:
    parent.join()
    os._exit(1)  # mid-transaction: rolled back, so nothing claimed is left ``sending``


def _run_in_child(name: str, args: tuple[Any, ...]) -> Any:
    return getattr(_CHILD["work"], name)(*args)


__all__ = ["DatabaseWork", "ProcessStage", "Stage", "ThreadStage", "stage_for"]
