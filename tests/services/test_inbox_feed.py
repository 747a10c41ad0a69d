"""The inbox's announcements: a conversation is announced when its change commits, never
when it rolls back; from any handle on the database, notifier or not."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from botschaft.channels.messages import OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import SERVICE
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services.context import Context
from botschaft.services.inbox import get_conversation
from botschaft.services.inbox_feed import INBOX_TOPIC, Actor, changed
from botschaft.services.notes import add_note
from botschaft.services.outbound import send_message
from botschaft.storage.database import Database
from botschaft.storage.notifier import Notifier, Subscription
from inbox_people import writes

NUMBER = "+4915155556666"
BOT = Actor(None, "Botschaft")


@pytest.fixture(autouse=True)
def conversation_ids_of_our_own(ctx: Context) -> None:
    """A PostgreSQL database's NOTIFY channels are shared by all its schemas, so other test
    runs announce on ``inbox`` too: this schema's conversations get ids nobody else uses."""
    if not ctx.db.is_sqlite:
        with ctx.db.write() as session:
            session.execute(text("SELECT setval(pg_get_serial_sequence('conversations', 'id'),"
                                 " :start)"), {"start": 10**6 + secrets.randbelow(10**9)})


async def _heard(subscription: Subscription, conversation: int, count: int = 1,
                 seconds: float = 5.0) -> list[str]:
    """The announcements of ``conversation`` (others' are passed over), until ``count`` came
    or ``seconds`` passed."""
    ours: list[str] = []
    deadline = time.monotonic() + seconds
    while len(ours) < count and (left := deadline - time.monotonic()) > 0:
        ours += [p for p in await subscription.wait(left) if p == str(conversation)]
    return ours


@pytest.fixture
def notifier(ctx: Context) -> Iterator[Notifier]:
    notifier = Notifier(ctx.db)
    yield notifier
    notifier.close()


@pytest.fixture
def channels(ctx: Context) -> Channels:
    return Channels.from_settings(ctx.settings, ctx.clock)


@pytest.fixture
def conversation(ctx: Context, channels: Channels) -> int:
    return writes(ctx, channels, NUMBER)


def test_a_note_announces_its_conversation(ctx: Context, notifier: Notifier,
                                           conversation: int) -> None:
    async def scenario() -> list[str]:
        subscription = notifier.subscribe(INBOX_TOPIC)
        await asyncio.to_thread(add_note, ctx, BOT, conversation, "Ruft morgen an")
        return await _heard(subscription, conversation)

    assert asyncio.run(scenario()) == [str(conversation)]


def test_a_rolled_back_change_announces_nothing(ctx: Context, notifier: Notifier,
                                                conversation: int) -> None:
    def change_and_fail() -> None:
        with pytest.raises(RuntimeError), ctx.db.write() as session:
            changed(session, ctx, BOT, conversation, kind="conversation.note_added", detail={})
            raise RuntimeError("rolled back")

    async def scenario() -> list[str]:
        subscription = notifier.subscribe(INBOX_TOPIC)
        await asyncio.to_thread(change_and_fail)
        return await _heard(subscription, conversation, seconds=1.0)

    assert asyncio.run(scenario()) == []


def test_an_inbound_message_announces_its_conversation(
    ctx: Context, notifier: Notifier, channels: Channels,
) -> None:
    async def scenario() -> tuple[int, list[str]]:
        subscription = notifier.subscribe(INBOX_TOPIC)
        conversation = await asyncio.to_thread(writes, ctx, channels, NUMBER)
        return conversation, await _heard(subscription, conversation)

    conversation, payloads = asyncio.run(scenario())
    assert payloads == [str(conversation)]


def test_a_reply_is_announced_when_written_and_again_when_sent(
    ctx: Context, notifier: Notifier, channels: Channels, conversation: int,
) -> None:
    contact = get_conversation(ctx, conversation).contact_id

    async def scenario() -> list[str]:
        subscription = notifier.subscribe(INBOX_TOPIC)
        sent = await send_message(ctx, channels, contact_id=contact, channel=ChannelKind.SANDBOX,
                                  content=OutboundMessage(to="", text="Ja, bis 18 Uhr"),
                                  intent=Outbound(MessageKind.SERVICE, SERVICE))
        assert sent.status == "sent"
        return await _heard(subscription, conversation, count=2)

    assert asyncio.run(scenario()) == [str(conversation)] * 2


def test_a_handle_without_a_notifier_wakes_this_process_s_listeners(
    ctx: Context, notifier: Notifier, conversation: int,
) -> None:
    other = Context(Database(ctx.db.url.render_as_string(hide_password=False)), ctx.settings,
                    ctx.clock)

    async def scenario() -> list[str]:
        subscription = notifier.subscribe(INBOX_TOPIC)
        await asyncio.to_thread(add_note, other, BOT, conversation, "von der Kommandozeile")
        return await _heard(subscription, conversation)

    try:
        assert asyncio.run(scenario()) == [str(conversation)]
    finally:
        other.close()
