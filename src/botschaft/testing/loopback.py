"""What every fake provider shares: an aiohttp server on loopback, and posting webhooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web


class LoopbackServer(ABC):
    """An ``aiohttp.web`` server on 127.0.0.1 at a port the system picks.

    A fake provider adds its routes in ``_routes``. Use ``async with fake`` (or ``start`` and
    ``stop``); ``base_url`` then says where it listens.
    """

    _runner: web.AppRunner | None = None
    _base_url: str | None = None

    @abstractmethod
    def _routes(self, router: web.UrlDispatcher) -> None:
        """Add the provider's routes."""

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        app = web.Application()
        self._routes(app.router)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, the ``api_base`` to give the adapter."""
        if self._base_url is None:
            raise RuntimeError(f"{type(self).__name__} is not started.")
        return self._base_url


async def post_webhook(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POST ``body`` to a Botschaft webhook URL as a provider would; return the HTTP status."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        await response.read()
        return response.status
