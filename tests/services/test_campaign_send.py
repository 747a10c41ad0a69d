"""Sending a campaign: the gate at the moment of sending, retries and every slow-down answer.

The providers are the fakes of ``botschaft.testing`` over real HTTP on loopback; the clock is
fixed and moved by the tests, and the dispatcher's rates follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update

from botschaft.channels.messenger import MessengerChannel
from botschaft.channels.registry import Channels
from botschaft.channels.telegram import TelegramChannel
from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.domain.rate_limit import AccountLimits
from botschaft.services.campaign_content import prepare_campaign
from botschaft.services.campaign_send import (
    SenderAccount,
    claim_batch,
    record_results,
    send_claimed,
)
from botschaft.services.clock import ManualClock
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.services.inbound import handle_pending
from botschaft.services.intake import store_events
from botschaft.settings import TelegramRates, TelegramSettings
from botschaft.storage.broadcast import CampaignSkip, Delivery
from botschaft.storage.models import ChannelIdentity
from botschaft.storage.notifier import Notifier
from botschaft.testing.fake_messenger import FakeMessenger
from botschaft.testing.fake_telegram import FakeTelegram
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from botschaft.worker.dispatcher import Dispatcher, announce_start
from broadcast_setup import (
    campaign,
    dispatch_until_idle,
    number,
    running_campaign,
    states,
    subscribers,
)

WA = ChannelKind.WHATSAPP
SECOND = timedelta(seconds=1)
pytestmark = pytest.mark.anyio


async def send(ctx: Context, fake: FakeWhatsApp) -> None:
    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})


async def deliver(ctx: Context, fake: FakeWhatsApp, payload: dict[str, object]) -> None:
    """A webhook from Meta, through the adapter's parser, the intake and the inbound lane."""
    adapter = WhatsAppChannel(fake.settings())
    store_events(ctx, adapter.parse(json.dumps(payload).encode()))
    await handle_pending(ctx, Channels({WA: adapter}))
    await adapter.close()


def wamid_of(ctx: Context, contact_id: int) -> str:
    with ctx.db.read() as session:
        found = session.scalar(select(Delivery.provider_message_id)
                               .where(Delivery.contact_id == contact_id))
    assert found is not None
    return found


def skips(ctx: Context, campaign_id: int) -> dict[str, int]:
    with ctx.db.read() as session:
        return dict(session.execute(select(CampaignSkip.reason, CampaignSkip.count)
                                    .where(CampaignSkip.campaign_id == campaign_id)).all())


# -- the gate at the moment of sending ---------------------------------------------------


async def test_stop_during_campaign_cancels_pending_deliveries(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 10)
    campaign_id = running_campaign(ctx, people)
    prepared = prepare_campaign(ctx, campaign_id)
    first = claim_batch(ctx, prepared, "test", 4)
    adapter = WhatsAppChannel(fake.settings())
    account = SenderAccount.for_limits(AccountLimits(1000, 8))
    record_results(ctx, campaign_id, WA, await send_claimed(adapter, account, first.items))
    await adapter.close()
    # The ninth subscriber writes STOP while the campaign is running.
    await deliver(ctx, fake, fake.receive_from(number(8), "STOP"))
    assert states(ctx, campaign_id)[people[8]] == ("skipped", "withdrawn")
    await send(ctx, fake)
    campaign_messages = [m for m in fake.sent if m.body["type"] == "template"]
    assert number(8) not in {m.to for m in campaign_messages}
    assert len(campaign_messages) == 9
    assert skips(ctx, campaign_id) == {"withdrawn": 1}
    assert campaign(ctx, campaign_id).status == "done"


async def test_the_gate_is_asked_again_for_each_delivery_when_it_is_sent(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    consenting = subscribers(ctx, text_version, 3)
    never_asked = subscribers(ctx, text_version, 1, first=50, consent=False)
    campaign_id = running_campaign(ctx, [*consenting, *never_asked])
    # After planning: one person's identity is reported unreachable, and night falls.
    with ctx.db.write() as session:
        session.execute(update(ChannelIdentity).where(ChannelIdentity.contact_id == consenting[0])
                        .values(unreachable_at=clock.now()))
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {
        consenting[0]: ("skipped", "unreachable"),
        consenting[1]: ("sent", None),
        consenting[2]: ("sent", None),
        never_asked[0]: ("skipped", "no_consent"),
    }
    assert len(fake.sent) == 2


async def test_nothing_goes_out_in_quiet_hours(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    people = subscribers(ctx, text_version, 2)
    campaign_id = running_campaign(ctx, people)
    clock.advance(timedelta(hours=11))  # 22:00 in Berlin
    await send(ctx, fake)
    assert set(states(ctx, campaign_id).values()) == {("skipped", "quiet_hours")}
    assert fake.sent == []


async def test_the_weekly_cap_counts_earlier_campaigns(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    people = subscribers(ctx, text_version, 1)
    for _ in range(3):
        running_campaign(ctx, people)
        await send(ctx, fake)
        clock.advance(timedelta(hours=1))
    fourth = running_campaign(ctx, people)
    await send(ctx, fake)
    assert states(ctx, fourth) == {people[0]: ("skipped", "frequency_cap")}
    assert len(fake.sent) == 3


async def test_marketing_templates_to_us_numbers_are_skipped_with_their_own_reason(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    american = subscribers(ctx, text_version, 1, prefix="+1415555", digits=4,
                           first=100)
    german = subscribers(ctx, text_version, 1)
    campaign_id = running_campaign(ctx, [*american, *german])
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {american[0]: ("skipped", "us_marketing_template"),
                                        german[0]: ("sent", None)}
    assert [m.to for m in fake.sent] == [number(0)]


# -- slow-down answers, retries, failures ------------------------------------------------


async def test_a_throughput_limit_requeues_slows_the_number_and_sends_later(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    people = subscribers(ctx, text_version, 3)
    campaign_id = running_campaign(ctx, people)
    fake.fail_next(number(1), 130429)
    await send(ctx, fake)
    with ctx.db.read() as session:
        waiting = session.scalars(select(Delivery).where(Delivery.state == "queued")).all()
    assert [(d.contact_id, d.error_code, d.attempts) for d in waiting] == [(people[1], "130429", 0)]
    assert waiting[0].not_before == clock.now() + SECOND
    clock.advance(2 * SECOND)
    await send(ctx, fake)
    assert set(states(ctx, campaign_id).values()) == {("sent", None)}
    assert sorted(m.to for m in fake.sent) == [number(0), number(1), number(2)]


async def test_the_pair_rate_limit_makes_only_that_person_wait(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    people = subscribers(ctx, text_version, 2)
    campaign_id = running_campaign(ctx, people)
    fake.fail_next(number(0), 131056)
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {people[0]: ("queued", "131056"),
                                        people[1]: ("sent", None)}
    clock.advance(6 * SECOND)
    await send(ctx, fake)
    assert states(ctx, campaign_id)[people[0]] == ("sent", None)


def test_a_claim_starts_past_the_deliveries_an_earlier_claim_went_through(
    ctx: Context, text_version: PublishedText
) -> None:
    people = subscribers(ctx, text_version, 6)
    campaign_id = running_campaign(ctx, people)
    prepared = prepare_campaign(ctx, campaign_id)
    first = claim_batch(ctx, prepared, "test", 2)
    with ctx.db.write() as session:  # the first one is requeued, as a retry would be
        session.execute(update(Delivery).where(Delivery.id == first.items[0].delivery_id)
                        .values(state="queued"))
    second = claim_batch(ctx, prepared, "test", 2, after_id=first.last_id)
    assert min(item.delivery_id for item in second.items) > first.last_id
    assert second.last_id == max(item.delivery_id for item in second.items)
    # A new round starts from the front again and finds the requeued one.
    again = claim_batch(ctx, prepared, "test", 1)
    assert [item.delivery_id for item in again.items] == [first.items[0].delivery_id]


async def test_a_delivery_requeued_behind_the_lanes_is_sent_in_the_next_round(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    people = subscribers(ctx, text_version, 40)
    campaign_id = running_campaign(ctx, people)
    fake.fail_next(number(0), 131056)  # the first person waits; the lanes go on past them
    await send(ctx, fake)
    assert states(ctx, campaign_id)[people[0]] == ("queued", "131056")
    assert sum(state == ("sent", None) for state in states(ctx, campaign_id).values()) == 39
    clock.advance(6 * SECOND)
    await send(ctx, fake)
    assert set(states(ctx, campaign_id).values()) == {("sent", None)}
    assert campaign(ctx, campaign_id).status == "done"


async def test_transient_failures_retry_with_backoff_and_then_fail(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    ctx.settings = ctx.settings.model_copy(
        update={"dispatch": ctx.settings.dispatch.model_copy(update={"max_attempts": 3})}
    )
    people = subscribers(ctx, text_version, 1)
    campaign_id = running_campaign(ctx, people)
    for code in (131000, 131016, 131000):
        fake.fail_next(number(0), code)
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {people[0]: ("queued", "131000")}
    clock.advance(2 * SECOND)  # the first wait
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {people[0]: ("queued", "131016")}
    clock.advance(3 * SECOND)  # less than the second wait (4 s): nothing happens
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {people[0]: ("queued", "131016")}
    clock.advance(1 * SECOND)
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {people[0]: ("failed", "131000")}
    done = campaign(ctx, campaign_id)
    assert (done.status, done.failed, done.sent) == ("done", 1, 0)
    assert fake.sent == []


async def test_a_permanent_failure_fails_with_the_providers_reason(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    running_campaign(ctx, subscribers(ctx, text_version, 1))
    fake.fail_next(number(0), 132001)
    await send(ctx, fake)
    with ctx.db.read() as session:
        row = session.scalars(select(Delivery)).one()
    assert (row.state, row.error_code) == ("failed", "132001")
    assert row.error_detail and "Template name does not exist" in row.error_detail


async def test_the_spam_rate_limit_halts_the_campaign(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 3)
    campaign_id = running_campaign(ctx, people)
    ctx.settings = ctx.settings.model_copy(
        update={"dispatch": ctx.settings.dispatch.model_copy(update={"batch_size": 1})}
    )
    fake.fail_next(number(0), 131048)
    await send(ctx, fake)
    assert campaign(ctx, campaign_id).status == "paused"
    assert states(ctx, campaign_id)[people[0]] == ("queued", "131048")
    assert len(fake.sent) < 3


async def test_the_per_user_marketing_limit_defers_that_person_by_a_day(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    people = subscribers(ctx, text_version, 1)
    campaign_id = running_campaign(ctx, people)
    fake.fail_next(number(0), 131049, asynchronous=True)
    await send(ctx, fake)
    for payload in fake.pending_webhooks:
        await deliver(ctx, fake, payload)
    with ctx.db.read() as session:
        row = session.scalars(select(Delivery)).one()
    assert (row.state, row.error_code) == ("queued", "131049")
    assert row.not_before == clock.now() + timedelta(hours=24)
    assert campaign(ctx, campaign_id).sent == 0
    clock.advance(timedelta(hours=24))
    await send(ctx, fake)
    assert states(ctx, campaign_id) == {people[0]: ("sent", None)}


async def test_an_opt_out_inside_whatsapp_fails_the_delivery_and_is_recorded(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 1)
    first = running_campaign(ctx, people)
    fake.fail_next(number(0), 131050)
    await send(ctx, fake)
    assert states(ctx, first) == {people[0]: ("failed", "131050")}
    second = running_campaign(ctx, people)
    await send(ctx, fake)
    assert states(ctx, second) == {people[0]: ("skipped", "withdrawn")}


async def test_telegram_retry_after_is_waited_exactly(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    async with FakeTelegram(clock=lambda: clock.now().timestamp()) as telegram:
        people = subscribers(ctx, text_version, 2, channel=ChannelKind.TELEGRAM)
        for n in range(2):
            telegram.register(7_000_000 + n)
        campaign_id = running_campaign(ctx, people, channel=ChannelKind.TELEGRAM,
                                       content={"kind": "text", "text": "Neu im Shop"})
        telegram.flood_next(30)
        settings = ctx.settings.model_copy(update={"telegram": _telegram(telegram)})
        adapters = {ChannelKind.TELEGRAM: TelegramChannel(settings.telegram)}
        await dispatch_until_idle(ctx, adapters)
        assert sorted(s[0] for s in states(ctx, campaign_id).values()) == ["queued", "sent"]
        clock.advance(29 * SECOND)
        await dispatch_until_idle(ctx, {ChannelKind.TELEGRAM: TelegramChannel(settings.telegram)})
        assert sorted(s[0] for s in states(ctx, campaign_id).values()) == ["queued", "sent"]
        clock.advance(SECOND)
        await dispatch_until_idle(ctx, {ChannelKind.TELEGRAM: TelegramChannel(settings.telegram)})
        assert set(states(ctx, campaign_id).values()) == {("sent", None)}
        assert len(telegram.sent) == 2


async def test_a_paused_account_claims_nothing_more_until_the_pause_is_over(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    async with FakeTelegram(clock=lambda: clock.now().timestamp()) as telegram:
        people = subscribers(ctx, text_version, 40, channel=ChannelKind.TELEGRAM)
        for n in range(40):
            telegram.register(7_000_000 + n)
        campaign_id = running_campaign(ctx, people, channel=ChannelKind.TELEGRAM,
                                       content={"kind": "text", "text": "Neu im Shop"})
        telegram.flood_next(30)
        # Small batches; a rate the manual clock never has to refill.
        slow_batches = ctx.settings.dispatch.model_copy(
            update={"batch_size": 2, "telegram": TelegramRates(per_second=1000.0)})
        settings = ctx.settings.model_copy(update={"telegram": _telegram(telegram),
                                                   "dispatch": slow_batches})
        paused_ctx = Context(ctx.db, settings, clock)
        adapters = {ChannelKind.TELEGRAM: TelegramChannel(settings.telegram)}
        dispatcher = Dispatcher(paused_ctx, Channels(adapters),
                                monotonic=lambda: clock.now().timestamp())


        def untouched() -> int:
            with ctx.db.read() as session:
                return session.scalar(select(func.count(Delivery.id)).where(
                    Delivery.campaign_id == campaign_id, Delivery.state == "queued",
                    Delivery.not_before.is_(None), Delivery.attempts == 0)) or 0

        try:
            await dispatcher.run_once()
            after_the_answer = untouched()
            clock.advance(10 * SECOND)  # still within the 30 s
            await dispatcher.run_once()
        finally:
            await adapters[ChannelKind.TELEGRAM].close()
        # Only the batches the four lanes had claimed before the answer came were handled;
        # the rest of the campaign waits as it was, however often the dispatcher looks.
        assert after_the_answer >= 40 - 4 * 2
        assert untouched() == after_the_answer
        clock.advance(20 * SECOND)
        await dispatch_until_idle(paused_ctx,
                                  {ChannelKind.TELEGRAM: TelegramChannel(settings.telegram)})
        assert set(states(ctx, campaign_id).values()) == {("sent", None)}


async def test_a_messenger_page_rate_limit_requeues(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    async with FakeMessenger(clock=clock.now) as messenger:
        people = subscribers(ctx, text_version, 1, channel=ChannelKind.MESSENGER)
        with ctx.db.write() as session:
            session.execute(update(ChannelIdentity).values(last_inbound_at=clock.now()))
        messenger.user_writes("7000000", "Hallo")
        campaign_id = running_campaign(ctx, people, channel=ChannelKind.MESSENGER,
                                       content={"kind": "text", "text": "Neu im Shop"})
        messenger.limit_rate(613)
        adapter = {ChannelKind.MESSENGER: MessengerChannel(messenger.settings())}
        await dispatch_until_idle(ctx, adapter)
        assert states(ctx, campaign_id) == {people[0]: ("queued", "613")}
        messenger.limit_rate(None)
        clock.advance(timedelta(minutes=5))
        await dispatch_until_idle(ctx, {ChannelKind.MESSENGER: MessengerChannel(
            messenger.settings())})
        assert states(ctx, campaign_id) == {people[0]: ("sent", None)}


def _telegram(fake: FakeTelegram) -> TelegramSettings:
    return TelegramSettings(enabled=True, api_base=fake.base_url,
                            bot_token=SecretStr(fake.token), webhook_secret=SecretStr("s3cr3t"))


# -- status webhooks ----------------------------------------------------------------------


async def test_status_webhooks_move_deliveries_forward_only_and_count(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 3)
    campaign_id = running_campaign(ctx, people)
    await send(ctx, fake)
    a, b, c = (wamid_of(ctx, person) for person in people)
    for payload in (
        fake.status_webhook(a, "delivered", number(0)),
        fake.status_webhook(a, "read", number(0)),
        fake.status_webhook(b, "read", number(1)),       # read before delivered
        fake.status_webhook(b, "delivered", number(1)),  # late: never backwards
        fake.status_webhook(c, "failed", number(2), errors=[131026]),
    ):
        await deliver(ctx, fake, payload)
    assert states(ctx, campaign_id) == {people[0]: ("read", None), people[1]: ("read", None),
                                        people[2]: ("failed", "131026")}
    counted = campaign(ctx, campaign_id)
    assert (counted.sent, counted.delivered, counted.read, counted.failed) == (3, 2, 2, 1)


async def test_a_withdrawal_after_the_message_went_out_leaves_its_record(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 1)
    campaign_id = running_campaign(ctx, people)
    await send(ctx, fake)
    record_consent(ctx, ConsentRecord(contact_id=people[0], channel=WA, purpose=MARKETING,
                                      kind=ConsentEventKind.WITHDRAWN,
                                      source=ConsentSource.API))
    assert states(ctx, campaign_id) == {people[0]: ("sent", None)}


async def test_an_idle_dispatcher_wakes_at_once_when_a_campaign_starts(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    ctx.settings = ctx.settings.model_copy(
        update={"dispatch": ctx.settings.dispatch.model_copy(update={"idle_poll_seconds": 600})}
    )
    people = subscribers(ctx, text_version, 2)
    notifier = Notifier(ctx.db)
    channels = Channels({WA: WhatsAppChannel(fake.settings())})
    dispatcher = asyncio.create_task(Dispatcher(ctx, channels, notifier=notifier).run())
    try:
        await asyncio.sleep(0.2)  # let it find nothing to do and go idle
        campaign_id = running_campaign(ctx, people)
        await asyncio.to_thread(announce_start, notifier, campaign_id)

        async def sent_both() -> None:
            while len(fake.sent) < 2:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(sent_both(), 10)
    finally:
        dispatcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dispatcher
        await channels.close()
        notifier.close()


async def test_the_daily_tier_limits_the_people_reached_in_24_hours(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    rates = ctx.settings.dispatch.whatsapp.model_copy(update={"daily_tier": 4})
    ctx.settings = ctx.settings.model_copy(update={"dispatch": ctx.settings.dispatch.model_copy(
        update={"whatsapp": rates})})
    people = subscribers(ctx, text_version, 6)
    campaign_id = running_campaign(ctx, people)
    await send(ctx, fake)
    assert len(fake.sent) == 4
    assert Counter(state for state, _ in states(ctx, campaign_id).values()) == {
        "sent": 4, "queued": 2}
    clock.advance(timedelta(hours=24, seconds=1))
    await send(ctx, fake)
    assert len(fake.sent) == 6
