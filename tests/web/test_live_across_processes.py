"""Live updates cross processes on PostgreSQL: a `botschaft serve` process streams what
another `serve` process and this test's process store, long before its fallback poll."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from admin_login import create_app_user, log_in
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import SERVICE
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.domain.roles import Role
from botschaft.services.context import Context
from botschaft.services.inbox import conversation_id_for_address, get_conversation
from botschaft.services.inbox_feed import Actor
from botschaft.services.notes import add_note
from botschaft.services.outbound import send_message
from botschaft.settings import Settings
from sse_client import sse_events
from web_app import free_port

NUMBER = "+4915155556666"
PROMPT = 1.5  # a wake-up; the fallback poll is 30 s


@dataclass(frozen=True)
class Server:
    base_url: str
    process: subprocess.Popen[str]


@pytest.fixture
def postgres_only(ctx: Context) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("on SQLite no other process can wake a stream (no LISTEN/NOTIFY);"
                    " set BOTSCHAFT_TEST_POSTGRES_URL")


@contextmanager
def _serve(settings: Settings, name: str) -> Iterator[Server]:
    """A `botschaft serve` process on a free port, its output in a file next to the data."""
    port = free_port()
    log = settings.data_dir / f"serve-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BOTSCHAFT_")}
    environ.update(BOTSCHAFT_DATABASE_URL=settings.effective_database_url,
                   BOTSCHAFT_DATA_DIR=str(settings.data_dir),
                   BOTSCHAFT_EMBEDDED_WORKER="false",
                   BOTSCHAFT_INBOX__LIVE_POLL_SECONDS="30")
    process = subprocess.Popen(
        [sys.executable, "-m", "botschaft", "serve", "--port", str(port)], env=environ,
        stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        _wait_until_up(server, log.read_text)
        yield server
    finally:
        process.terminate()
        process.wait(10)


def _wait_until_up(server: Server, output: object) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"serve ended: {output() if callable(output) else ''}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not come up in time")


def _session_cookies(server: Server, email: str, password: str) -> httpx.Cookies:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert log_in(client, email, password).status_code == 303
        return client.cookies


@pytest.mark.usefixtures("postgres_only")
def test_a_serve_process_streams_what_other_processes_store_at_once(
    ctx: Context, settings: Settings,
) -> None:
    agent = create_app_user(ctx, role=Role.AGENT, name="Anna Schmidt",
                            email="anna@sonnenschein.example")
    with _serve(settings, "streams") as streams, _serve(settings, "webhooks") as webhooks:
        cookies = _session_cookies(streams, agent.email, agent.password)

        async def scenario() -> dict[str, float]:
            lag: dict[str, float] = {}
            async with (httpx.AsyncClient(base_url=streams.base_url, cookies=cookies,
                                          timeout=10) as client,
                        sse_events(client, "/app/inbox-stream") as inbox,
                        sse_events(client, "/sandbox/api/stream", number=NUMBER) as phone):
                # The phone writes to the other server, whose inbound lane stores it.
                written = time.monotonic()
                async with httpx.AsyncClient(base_url=webhooks.base_url) as other:
                    (await other.post("/sandbox/api/messages",
                                      json={"number": NUMBER, "text": "Habt ihr offen?"})
                     ).raise_for_status()
                shown = await phone.next("message")
                assert json.loads(shown.data)["text"] == "Habt ihr offen?"
                lag["inbound on the phone"] = shown.at - written
                listed = await inbox.next("changed")
                lag["inbound in the inbox"] = listed.at - written

                # This test's own process replies and notes, as a worker or a command would.
                conversation = conversation_id_for_address(ctx, ChannelKind.SANDBOX, NUMBER)
                assert conversation is not None
                contact = get_conversation(ctx, conversation).contact_id
                channels = Channels.from_settings(settings, ctx.clock)
                written = time.monotonic()
                await send_message(ctx, channels, contact_id=contact,
                                   channel=ChannelKind.SANDBOX,
                                   content=OutboundMessage(to="", text="Ja, bis 18 Uhr"),
                                   intent=Outbound(MessageKind.SERVICE, SERVICE))
                await channels.close()
                reply = await phone.next("message")
                assert json.loads(reply.data)["text"] == "Ja, bis 18 Uhr"
                lag["reply on the phone"] = reply.at - written

                await inbox.settle()  # the reply's own news, one or two events
                written = time.monotonic()
                await asyncio.to_thread(add_note, ctx, Actor(agent.id, "Anna"), conversation,
                                        "Ruft morgen an")
                noted = await inbox.next("changed")
                assert json.loads(noted.data) == [conversation]
                lag["note in the inbox"] = noted.at - written
            return lag

        lag = asyncio.run(scenario())
    assert all(seconds < PROMPT for seconds in lag.values()), lag
