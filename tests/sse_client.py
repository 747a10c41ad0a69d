"""A server-sent event client for tests: events as they arrive, with their time of arrival."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Received:
    event: str
    data: str
    at: float  # time.monotonic() when the event's last line arrived


class EventStream:
    def __init__(self, queue: asyncio.Queue[Received]) -> None:
        self._queue = queue

    async def next(self, event: str, timeout: float = 5.0) -> Received:
        """The next ``event`` (others are passed over); fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event!r} event within {timeout} s")
            try:
                received = await asyncio.wait_for(self._queue.get(), left)
            except TimeoutError:
                raise AssertionError(f"no {event!r} event within {timeout} s") from None
            if received.event == event:
                return received

    async def settle(self, quiet: float = 0.5) -> None:
        """Pass over what comes until the stream has been quiet for ``quiet`` seconds."""
        with contextlib.suppress(TimeoutError):
            while True:
                await asyncio.wait_for(self._queue.get(), quiet)


@contextlib.asynccontextmanager
async def sse_events(client: httpx.AsyncClient, path: str,
                     **params: str | int) -> AsyncIterator[EventStream]:
    """Open ``path`` as an event stream; the block starts once the server has sent its first
    line (our streams send it once they listen) and the stream closes when the block ends."""
    queue: asyncio.Queue[Received] = asyncio.Queue()
    opened = asyncio.Event()

    async def read() -> None:
        async with client.stream("GET", path, params=params, timeout=None) as response:
            response.raise_for_status()
            event, data = "message", []
            async for line in response.aiter_lines():
                if line.startswith("retry:"):
                    opened.set()
                elif line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data.append(line.removeprefix("data:").strip())
                elif not line and data:
                    queue.put_nowait(Received(event, "\n".join(data), time.monotonic()))
                    event, data = "message", []

    reader = asyncio.create_task(read())
    listening = asyncio.create_task(opened.wait())
    try:
        done, _ = await asyncio.wait([reader, listening], timeout=10,
                                     return_when=asyncio.FIRST_COMPLETED)
        if reader in done:
            reader.result()  # the stream failed or ended; say why
            raise AssertionError(f"the stream {path} ended at once")
        if not opened.is_set():
            raise AssertionError(f"the stream {path} did not open")
        yield EventStream(queue)
    finally:
        for task in (listening, reader):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
