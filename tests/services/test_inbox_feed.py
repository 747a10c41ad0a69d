"""The inbox's announcements: a conversation is announced when its change commits, never
when it rolls back; from any handle on the database, notifier or not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

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
from botschaft.storage.notifier import Notifier
from inbox_people import writes

NUMBER = "+4915155556666"
BOT = Actor(None, "Botschaft")


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
        return await subscription.wait(5.0)

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
        return await subscription.wait(1.0)

    assert asyncio.run(scenario()) == []


def test_an_inbound_message_announces_its_conversation(
    ctx: Context, notifier: Notifier, channels: Channels,
) -> None:
    async def scenario() -> tuple[int, list[str]]:
        subscription = notifier.subscribe(INBOX_TOPIC)
        conversation = await asyncio.to_thread(writes, ctx, channels, NUMBER)
        return conversation, await subscription.wait(5.0)

    conversation, payloads = asyncio.run(scenario())
    assert set(payloads) == {str(conversation)}


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
        payloads = await subscription.wait(5.0)
        while len(payloads) < 2 and (more := await subscription.wait(5.0)):
            payloads += more
        return payloads

    assert asyncio.run(scenario()) == [str(conversation)] * 2


def test_a_handle_without_a_notifier_wakes_this_process_s_listeners(
    ctx: Context, notifier: Notifier, conversation: int,
) -> None:
    other = Context(Database(ctx.db.url.render_as_string(hide_password=False)), ctx.settings,
                    ctx.clock)

    async def scenario() -> list[str]:
        subscription = notifier.subscribe(INBOX_TOPIC)
        await asyncio.to_thread(add_note, other, BOT, conversation, "von der Kommandozeile")
        return await subscription.wait(5.0)

    try:
        assert asyncio.run(scenario()) == [str(conversation)]
    finally:
        other.close()
