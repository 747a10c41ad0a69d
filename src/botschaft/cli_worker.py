"""``botschaft worker``: the dispatcher and the scheduler in a process of their own.

Scale mode runs any number of these against PostgreSQL, on any number of machines; they
share running campaigns through ``FOR UPDATE SKIP LOCKED`` and wake each other through
LISTEN/NOTIFY. Ctrl+C (or SIGTERM) stops it; deliveries it had claimed and not recorded
stay ``sending`` and are reported as uncertain.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botschaft.services.context import Context


def worker() -> None:
    """Run the dispatcher and the scheduler on their own (scale mode: any number of these)."""
    from botschaft.cli import _migrated_context, _tune_garbage_collector, out

    ctx = _migrated_context()
    _tune_garbage_collector()
    out.print("Worker running (dispatcher and scheduler); Ctrl+C stops it.")
    try:
        asyncio.run(run_worker(ctx))
    except KeyboardInterrupt:
        pass
    finally:
        ctx.close()


async def run_worker(ctx: Context) -> None:
    """The dispatcher and the scheduler until cancelled or SIGTERM."""
    from botschaft.channels.registry import Channels
    from botschaft.storage.notifier import Notifier
    from botschaft.worker.dispatcher import Dispatcher
    from botschaft.worker.scheduler import run_scheduler

    notifier = Notifier(ctx.db)
    channels = Channels.from_settings(ctx.settings, ctx.clock)
    tasks = [asyncio.create_task(Dispatcher(ctx, channels, notifier=notifier).run(),
                                 name="dispatcher"),
             asyncio.create_task(run_scheduler(ctx), name="scheduler")]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM,):
        loop.add_signal_handler(sig, lambda: [task.cancel() for task in tasks])
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await channels.close()
        notifier.close()
