"""A running app for web tests: real uvicorn on a loopback port, real HTTP clients."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from botschaft.services.api_tokens import create_token
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.web.app import create_app


@dataclass
class RunningApp:
    base_url: str
    token: str
    ctx: Context
    app: FastAPI

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10,
                            headers={"Authorization": f"Bearer {self.token}"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_in_thread(app: object, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    # Open event streams would hold a graceful shutdown forever; one second is plenty.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",  # type: ignore[arg-type]
                            lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    return server, thread


@pytest.fixture
def running_app(ctx: Context, settings: Settings, clock: ManualClock) -> Iterator[RunningApp]:
    """The app with the test's database and clock, its embedded scheduler off."""
    with app_running(ctx, create_app(settings.model_copy(update={"embedded_worker": False}),
                                     clock=clock)) as running:
        yield running


@contextmanager
def app_running(ctx: Context, app: FastAPI) -> Iterator[RunningApp]:
    """Serve ``app`` on a free loopback port while the block runs."""
    port = free_port()
    server, thread = serve_in_thread(app, port)
    token = create_token(ctx, "tests").token
    try:
        yield RunningApp(f"http://127.0.0.1:{port}", token, ctx, app)
    finally:
        server.should_exit = True
        thread.join(10)


def wait_for(predicate, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    """Poll until ``predicate()`` returns something truthy; the inbound lane is async."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
