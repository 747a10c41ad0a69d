"""The dispatcher's database work in a process of its own, and claiming a message as its
request. SQLite (a file) and PostgreSQL; the fakes over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from botschaft.channels.registry import Channels
from botschaft.channels.telegram import TelegramChannel
from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.services.campaign_content import prepare_campaign
from botschaft.services.campaign_send import PROGRESS_TOPIC, claim_batch
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.settings import Settings, TelegramSettings
from botschaft.storage.broadcast import Delivery
from botschaft.storage.database import Database
from botschaft.storage.notifier import Notifier
from botschaft.testing.fake_telegram import FakeTelegram
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from botschaft.worker.db_stage import ProcessStage, ThreadStage, stage_for
from botschaft.worker.dispatcher import Dispatcher
from broadcast_setup import campaign, running_campaign, states, subscribers

pytestmark = pytest.mark.anyio
WA = ChannelKind.WHATSAPP


def _in_a_process(ctx: Context, fake: FakeWhatsApp) -> Context:
    """The same database and clock, with the database process on and WhatsApp at ``fake``
    (the process encodes with its own adapter, made from these settings)."""
    dispatch = ctx.settings.dispatch.model_copy(update={"database_process": True})
    settings = ctx.settings.model_copy(update={"dispatch": dispatch,
                                               "whatsapp": fake.settings()})
    return Context(ctx.db, settings, ctx.clock)


async def test_a_campaign_claimed_in_the_database_process_reaches_everyone_once(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 40)
    without = subscribers(ctx, text_version, 1, first=900, consent=False)
    campaign_id = running_campaign(ctx, people + without)
    here = _in_a_process(ctx, fake)
    channels = Channels({WA: WhatsAppChannel(here.settings.whatsapp)})
    notifier = Notifier(ctx.db)
    stage = stage_for(here, channels, notifier)
    assert isinstance(stage, ProcessStage)
    try:
        with notifier.subscribed(PROGRESS_TOPIC) as progress:
            await Dispatcher(here, channels, notifier=notifier, stage=stage).run_until_idle()
            # The process committed; this process's live views hear of it (on SQLite the
            # stage wakes them, on PostgreSQL the process's NOTIFY does).
            assert str(campaign_id) in await progress.wait(5)
    finally:
        await channels.close()
        notifier.close()
    assert sorted(m.to for m in fake.sent) == sorted(f"49151{n:08d}" for n in range(40))
    assert all(m.body["type"] == "template" for m in fake.sent)
    by_contact = states(ctx, campaign_id)
    assert by_contact.pop(without[0]) == ("skipped", "no_consent")
    assert set(by_contact.values()) == {("sent", None)}
    done = campaign(ctx, campaign_id)
    assert (done.status, done.sent, done.failed) == ("done", 40, 0)
    with ctx.db.read() as session:
        workers = set(session.scalars(select(Delivery.claimed_by)
                                      .where(Delivery.state == "sent")))
    assert workers == {f"{os.uname().nodename}:{os.getpid()}"}  # claimed for this process


async def test_a_dead_database_process_fails_its_call_and_the_next_call_starts_another(
    ctx: Context, fake: FakeWhatsApp
) -> None:
    stage = ProcessStage(_in_a_process(ctx, fake), None)
    try:
        await stage.start()
        first = stage.child_pid()
        assert first is not None and first != os.getpid()
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.2)
        with pytest.raises(BrokenProcessPool):
            await stage.running_campaigns()
        assert await stage.running_campaigns() == []
        assert stage.child_pid() not in (None, first)
    finally:
        await stage.close()
    assert stage.child_pid() is None


def test_the_database_work_stays_in_threads_when_switched_off_or_in_memory(
    settings: Settings, ctx: Context
) -> None:
    channels = Channels({})
    assert isinstance(stage_for(ctx, channels, None), ThreadStage)  # the tests' setting
    on = settings.model_copy(update={
        "dispatch": settings.dispatch.model_copy(update={"database_process": True})})
    assert isinstance(stage_for(Context(ctx.db, on, ctx.clock), channels, None),
                      ProcessStage)
    memory = Database("sqlite://")
    try:
        assert memory.in_memory and not ctx.db.in_memory
        assert isinstance(stage_for(Context(memory, on, ctx.clock), channels, None),
                          ThreadStage)
    finally:
        memory.dispose()


async def test_a_message_the_channel_cannot_carry_fails_when_claimed_and_is_never_sent(
    ctx: Context, text_version: PublishedText
) -> None:
    async with FakeTelegram() as telegram:
        people = subscribers(ctx, text_version, 3, channel=ChannelKind.TELEGRAM)
        for n in range(3):
            telegram.register(7_000_000 + n)
        # A WhatsApp template: Telegram has none, so its adapter cannot encode the message.
        campaign_id = running_campaign(ctx, people, channel=ChannelKind.TELEGRAM)
        adapter = TelegramChannel(TelegramSettings(
            enabled=True, api_base=telegram.base_url, bot_token=SecretStr(telegram.token),
            webhook_secret=SecretStr("s3cr3t")))
        batch = claim_batch(ctx, prepare_campaign(ctx, campaign_id), "w", 10,
                            encode=adapter.encode)
        await adapter.close()
        assert batch.items == []
        assert set(states(ctx, campaign_id).values()) == {("failed", "template_unsupported")}
        assert campaign(ctx, campaign_id).failed == 3
        assert telegram.sent == []


_DISPATCHER_THAT_WAITS = """
import asyncio, sys
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.worker.db_stage import ProcessStage

async def main():
    settings = Settings(database_url=sys.argv[1], data_dir=sys.argv[2])
    stage = ProcessStage(Context.open(settings), None)
    await stage.start()
    print(stage.child_pid(), flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def test_the_database_process_ends_when_its_dispatcher_is_killed(
    settings: Settings, ctx: Context
) -> None:
    dispatcher = subprocess.Popen(
        [sys.executable, "-c", _DISPATCHER_THAT_WAITS, settings.effective_database_url,
         str(settings.data_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert dispatcher.stdout is not None
        child = int(dispatcher.stdout.readline())
        os.kill(dispatcher.pid, signal.SIGKILL)
        dispatcher.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        dispatcher.kill()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except FileNotFoundError:
        return False
    return state != "Z"  # an unreaped zombie has ended
