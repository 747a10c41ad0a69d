"""Live streams wake on news at once instead of waiting for their fallback poll: the inbox
list, an open thread's delivery ticks and the sandbox phone, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from admin_login import AppUser, create_app_user, logged_in_client
from botschaft.channels.events import DeliveryStatus, StatusUpdate
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.roles import Role
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.services.inbound import handle_pending
from botschaft.services.inbox import conversation_id_for_address
from botschaft.services.inbox_feed import INBOX_TOPIC
from botschaft.services.intake import store_events
from botschaft.settings import Settings
from botschaft.storage.inbox import InboxEvent
from botschaft.storage.models import Message
from botschaft.web.app import create_app
from sse_client import sse_events
from web_app import RunningApp, app_running, wait_for

NUMBER = "+4915155556666"
SLOW_POLL = 30.0  # so that only a wake-up can explain a prompt event
PROMPT = 1.0


@contextmanager
def _app(ctx: Context, settings: Settings, clock: ManualClock,
         poll_seconds: float) -> Iterator[RunningApp]:
    inbox = settings.inbox.model_copy(update={"live_poll_seconds": poll_seconds})
    app = create_app(settings.model_copy(update={"embedded_worker": False, "inbox": inbox}),
                     clock=clock)
    with app_running(ctx, app) as running:
        yield running


@pytest.fixture
def live_app(ctx: Context, settings: Settings, clock: ManualClock) -> Iterator[RunningApp]:
    with _app(ctx, settings, clock, SLOW_POLL) as running:
        yield running


def _agent(app: RunningApp) -> AppUser:
    return create_app_user(app.ctx, role=Role.AGENT, name="Anna Schmidt",
                           email="anna@sonnenschein.example")


def _signed_in(app: RunningApp, who: AppUser) -> httpx.AsyncClient:
    with logged_in_client(app, who) as client:
        cookies = client.cookies
    return httpx.AsyncClient(base_url=app.base_url, cookies=cookies, timeout=10,
                             headers={"Authorization": f"Bearer {app.token}"})


def _phone_conversation(app: RunningApp) -> int:
    httpx.post(f"{app.base_url}/sandbox/api/messages",
               json={"number": NUMBER, "text": "Hallo"}).raise_for_status()
    found: int = wait_for(
        lambda: conversation_id_for_address(app.ctx, ChannelKind.SANDBOX, NUMBER))
    return found


def test_an_inbound_message_wakes_the_inbox_and_the_phone_long_before_the_poll(
    live_app: RunningApp,
) -> None:
    async def scenario() -> tuple[float, float, float, str, str]:
        async with (_signed_in(live_app, _agent(live_app)) as client,
                    sse_events(client, "/app/inbox-stream") as inbox,
                    sse_events(client, "/sandbox/api/stream", number=NUMBER) as phone):
            written = time.monotonic()
            (await client.post("/sandbox/api/messages",
                               json={"number": NUMBER, "text": "Habt ihr offen?"})
             ).raise_for_status()
            listed = await inbox.next("changed")
            shown = await phone.next("message")
        return written, listed.at, shown.at, listed.data, shown.data

    written, listed_at, shown_at, listed, shown = asyncio.run(scenario())
    conversation = conversation_id_for_address(live_app.ctx, ChannelKind.SANDBOX, NUMBER)
    assert json.loads(listed) == [conversation]
    assert json.loads(shown)["text"] == "Habt ihr offen?"
    assert listed_at - written < PROMPT, listed_at - written
    assert shown_at - written < PROMPT, shown_at - written


def test_a_delivery_tick_reaches_the_open_thread_and_the_phone_at_once(
    live_app: RunningApp, settings: Settings, clock: ManualClock,
) -> None:
    conversation = _phone_conversation(live_app)
    with httpx.Client(base_url=live_app.base_url,
                      headers={"Authorization": f"Bearer {live_app.token}"}) as api:
        reply = api.post(f"/api/v1/conversations/{conversation}/messages",
                         json={"text": "Ja, bis 18 Uhr"}).json()
    assert reply["status"] == "sent"
    with live_app.ctx.db.read() as session:
        provider_id = session.get_one(Message, reply["id"]).provider_message_id
    assert provider_id is not None
    tick = StatusUpdate(channel=ChannelKind.SANDBOX, account="sandbox",
                        provider_message_id=provider_id,
                        status=DeliveryStatus.DELIVERED, at=clock.now(), recipient=NUMBER)

    async def scenario() -> tuple[float, float, float, str, str]:
        channels = Channels.from_settings(settings, clock)
        async with (_signed_in(live_app, _agent(live_app)) as client,
                    sse_events(client, "/app/inbox-stream", conversation=conversation) as thread,
                    sse_events(client, "/sandbox/api/stream", number=NUMBER) as phone):
            await phone.next("message")  # the phone shows what it has; now it watches
            written = time.monotonic()
            await asyncio.to_thread(store_events, live_app.ctx, [tick])
            await handle_pending(live_app.ctx, channels)
            ticked = await thread.next("changed")
            status = await phone.next("status")
        await channels.close()
        return written, ticked.at, status.at, ticked.data, status.data

    written, ticked_at, status_at, ticked, status = asyncio.run(scenario())
    assert json.loads(ticked) == [conversation]
    assert json.loads(status)["status"] == "delivered"
    assert ticked_at - written < PROMPT, ticked_at - written
    assert status_at - written < PROMPT, status_at - written


def test_a_note_wakes_the_inbox_list(live_app: RunningApp) -> None:
    conversation = _phone_conversation(live_app)
    agent = _agent(live_app)

    async def scenario() -> tuple[float, float, str]:
        async with (_signed_in(live_app, agent) as client,
                    sse_events(client, "/app/inbox-stream") as inbox):
            with logged_in_client(live_app, agent) as forms:
                written = time.monotonic()
                await asyncio.to_thread(
                    forms.post, f"/app/inbox/{conversation}/note",
                    data=forms.form({"text": "Ruft morgen an"}))
            changed = await inbox.next("changed")
        return written, changed.at, changed.data

    written, changed_at, changed = asyncio.run(scenario())
    assert json.loads(changed) == [conversation]
    assert changed_at - written < PROMPT, changed_at - written


def test_a_change_nobody_announced_still_shows_after_the_fallback_poll(
    ctx: Context, settings: Settings, clock: ManualClock,
) -> None:
    with _app(ctx, settings, clock, poll_seconds=0.3) as app:
        conversation = _phone_conversation(app)

        async def scenario() -> str:
            async with (_signed_in(app, _agent(app)) as client,
                        sse_events(client, "/app/inbox-stream") as inbox):
                # A row written without its announcement, as when a notification is lost.
                with ctx.db.write() as session:
                    session.add(InboxEvent(conversation_id=conversation, kind="test.silent",
                                           at=clock.now()))
                return (await inbox.next("changed", timeout=3.0)).data

        assert json.loads(asyncio.run(scenario())) == [conversation]


def test_streams_let_go_of_their_subscriptions_when_the_client_leaves(
    live_app: RunningApp,
) -> None:
    notifier = live_app.app.state.notifier

    async def scenario() -> int:
        async with (_signed_in(live_app, _agent(live_app)) as client,
                    sse_events(client, "/app/inbox-stream"),
                    sse_events(client, "/sandbox/api/stream", number=NUMBER),
                    sse_events(client, "/sandbox/api/stream", number="+4915100000001")):
            return int(notifier.subscribers(INBOX_TOPIC))

    assert asyncio.run(scenario()) == 3
    wait_for(lambda: notifier.subscribers(INBOX_TOPIC) == 0)
