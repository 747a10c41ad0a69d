"""Status webhooks that overtake the send's answer: kept, applied when the id is stored.

A campaign is sent through the real dispatcher to the fake Cloud API over loopback; the
fake lets a status webhook through the adapter's parser, the intake and the inbound lane
before it answers the send, as Meta's do under load.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Literal

import pytest
from sqlalchemy import event, func, select

from botschaft.channels.events import DeliveryStatus, StatusUpdate
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.services.early_statuses import (
    apply_early_statuses,
    keep_early_status,
    settle_early_statuses,
)
from botschaft.services.inbound import handle_pending
from botschaft.services.intake import store_events
from botschaft.services.outbound import send_message
from botschaft.storage.broadcast import Delivery
from botschaft.storage.early_statuses import EarlyStatus
from botschaft.storage.models import ChannelIdentity, Message
from botschaft.testing.fake_whatsapp import AcceptedMessage, FakeWhatsApp
from broadcast_setup import (
    campaign,
    dispatch_until_idle,
    number,
    running_campaign,
    states,
    subscribers,
)

WA = ChannelKind.WHATSAPP
pytestmark = pytest.mark.anyio


async def deliver(ctx: Context, fake: FakeWhatsApp, payload: dict[str, object]) -> None:
    """A webhook from Meta, through the adapter's parser, the intake and the inbound lane."""
    adapter = WhatsAppChannel(fake.settings())
    store_events(ctx, adapter.parse(json.dumps(payload).encode()))
    await handle_pending(ctx, Channels({WA: adapter}))
    await adapter.close()


def early_rows(ctx: Context) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(EarlyStatus)) or 0


def status(wamid: str, value: DeliveryStatus, ctx: Context) -> StatusUpdate:
    return StatusUpdate(channel=WA, account="106540352242922", provider_message_id=wamid,
                        status=value, at=ctx.clock.now(), recipient=number(0))


# What Meta reports for each person's message of the campaign, in the order it reports it.
Reported = Literal["sent", "delivered", "read", "failed"]
REPORTS: dict[str, list[tuple[Reported, list[int]]]] = {
    number(0): [("delivered", [])],
    number(1): [("read", []), ("delivered", [])],  # out of order: read first
    number(2): [("failed", [131026])],
}


@pytest.mark.parametrize("timing", ["before the send's answer", "after the batch is recorded"])
async def test_a_status_is_applied_the_same_whether_it_comes_before_or_after_the_id(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, timing: str
) -> None:
    people = subscribers(ctx, text_version, 3)
    campaign_id = running_campaign(ctx, people)

    async def report(accepted: AcceptedMessage) -> None:
        for value, errors in REPORTS[accepted.to]:
            await deliver(ctx, fake, fake.status_webhook(accepted.id, value, accepted.to,
                                                         errors=errors))

    if timing == "before the send's answer":
        fake.before_answer = report
    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})
    if timing == "after the batch is recorded":
        for accepted in list(fake.sent):
            await report(accepted)

    assert states(ctx, campaign_id) == {people[0]: ("delivered", None),
                                        people[1]: ("read", None),
                                        people[2]: ("failed", "131026")}
    counted = campaign(ctx, campaign_id)
    assert (counted.sent, counted.delivered, counted.read, counted.failed) == (3, 2, 1, 1)
    with ctx.db.read() as session:
        identity = session.scalars(select(ChannelIdentity)
                                   .where(ChannelIdentity.contact_id == people[2])).one()
    assert identity.unreachable_at is not None  # 131026 says so, early or not
    assert early_rows(ctx) == 0


async def test_the_same_early_status_twice_is_kept_and_counted_once(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 1)
    campaign_id = running_campaign(ctx, people)
    waiting: list[str] = []

    async def delivered_twice(accepted: AcceptedMessage) -> None:
        # Handled by the lane twice: a provider's retry that got past the intake's dedupe,
        # or a redelivered event after a crash.
        with ctx.db.write() as session:
            for _ in range(2):
                keep_early_status(session, ctx, status(accepted.id, DeliveryStatus.DELIVERED,
                                                       ctx))
        waiting.append(accepted.id)

    fake.before_answer = delivered_twice
    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})

    assert len(waiting) == 1
    assert states(ctx, campaign_id) == {people[0]: ("delivered", None)}
    assert campaign(ctx, campaign_id).delivered == 1
    assert early_rows(ctx) == 0


async def test_an_early_status_waits_only_for_the_provider_id_it_names(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 2)
    campaign_id = running_campaign(ctx, people)
    with ctx.db.write() as session:
        keep_early_status(session, ctx, status("wamid.someone-elses", DeliveryStatus.READ, ctx))

    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})

    assert set(states(ctx, campaign_id).values()) == {("sent", None)}
    assert campaign(ctx, campaign_id).read == 0
    assert early_rows(ctx) == 1


async def test_a_status_that_missed_its_batch_is_applied_by_the_scheduler_job(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    # On PostgreSQL the lane and the batch can each miss the other's uncommitted row.
    people = subscribers(ctx, text_version, 1)
    campaign_id = running_campaign(ctx, people)
    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})
    [accepted] = fake.sent
    with ctx.db.write() as session:
        keep_early_status(session, ctx, status(accepted.id, DeliveryStatus.READ, ctx))

    assert settle_early_statuses(ctx) == 1

    assert states(ctx, campaign_id) == {people[0]: ("read", None)}
    counted = campaign(ctx, campaign_id)
    assert (counted.delivered, counted.read) == (1, 1)
    assert early_rows(ctx) == 0


async def test_a_status_that_missed_its_reply_is_applied_by_the_scheduler_job(
    ctx: Context, fake: FakeWhatsApp
) -> None:
    await deliver(ctx, fake, fake.receive_from(number(0), "Gibt es das Angebot noch?"))
    with ctx.db.read() as session:
        contact_id = session.scalars(select(ChannelIdentity.contact_id)).one()
    channels = Channels({WA: WhatsAppChannel(fake.settings())})
    reply = await send_message(ctx, channels, contact_id=contact_id, channel=WA,
                               content=OutboundMessage(to="", text="Ja, bis Sonntag."),
                               intent=Outbound(MessageKind.SERVICE))
    await channels.close()
    with ctx.db.write() as session:
        keep_early_status(session, ctx, status(fake.sent[-1].id, DeliveryStatus.DELIVERED, ctx))

    assert settle_early_statuses(ctx) == 1

    with ctx.db.read() as session:
        assert session.get_one(Message, reply.id).status == "delivered"
    assert early_rows(ctx) == 0


async def test_an_unmatched_status_expires_after_a_day(ctx: Context, clock: ManualClock) -> None:
    with ctx.db.write() as session:
        keep_early_status(session, ctx, status("wamid.never-ours", DeliveryStatus.DELIVERED,
                                               ctx))
    clock.advance(timedelta(hours=23))
    assert settle_early_statuses(ctx) == 0
    assert early_rows(ctx) == 1

    clock.advance(timedelta(hours=1, seconds=1))
    assert settle_early_statuses(ctx) == 1
    assert early_rows(ctx) == 0


async def test_a_batch_with_nothing_waiting_costs_one_select(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 3)
    running_campaign(ctx, people)
    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", seen)
    try:
        with ctx.db.write() as session:
            applied = apply_early_statuses(session, ctx, WA, [m.id for m in fake.sent])
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", seen)

    assert applied == 0
    assert len(statements) == 1
    assert "FROM early_statuses" in statements[0]


async def test_a_delivery_failed_early_with_131049_waits_a_day_instead_of_failing(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp, clock: ManualClock
) -> None:
    people = subscribers(ctx, text_version, 1)
    campaign_id = running_campaign(ctx, people)

    async def not_delivered(accepted: AcceptedMessage) -> None:
        await deliver(ctx, fake, fake.status_webhook(accepted.id, "failed", accepted.to,
                                                     errors=[131049]))

    fake.before_answer = not_delivered
    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})

    assert states(ctx, campaign_id) == {people[0]: ("queued", "131049")}
    with ctx.db.read() as session:
        not_before = session.scalar(select(Delivery.not_before))
    assert not_before is not None and not_before - clock.now() >= timedelta(hours=23)
    counted = campaign(ctx, campaign_id)
    assert (counted.sent, counted.failed, counted.status) == (0, 0, "running")
    assert early_rows(ctx) == 0
