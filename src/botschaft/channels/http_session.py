"""The one long-lived HTTP session of an adapter, opened lazily in the running event loop."""

from __future__ import annotations

import aiohttp


class HttpSession:
    """An ``aiohttp.ClientSession`` with a bounded connection pool, opened on first use.

    Opening it on first use makes it belong to the event loop that runs the adapter; keeping
    it open lets kept-alive connections save a TLS handshake per request, and the pool limit
    bounds sockets under load. After ``close`` the next use opens a new one. Use one per
    adapter and event loop.
    """

    def __init__(self, *, connections: int, timeout: aiohttp.ClientTimeout) -> None:
        self._connections = connections
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> aiohttp.ClientSession:
        """The open session, created now if there is none (or it was closed)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=self._timeout,
                # Provider APIs authenticate by token, never by cookie: keeping none spares
                # a jar lookup per request and keeps a provider's cookies out of our calls.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        """Close the session and its kept-alive connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
