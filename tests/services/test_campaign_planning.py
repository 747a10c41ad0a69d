from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentEventKind
from botschaft.services.campaign_planning import plan_campaign
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.services.preferences import Evidence, limit, pause
from botschaft.storage.broadcast import Campaign, CampaignSkip, Delivery
from botschaft.storage.models import ChannelIdentity, Contact
from broadcasts import TEXT, audience, campaign, person, record, subscriber


def _outcomes(ctx: Context, campaign_id: int) -> dict[int, tuple[str, str | None]]:
    with ctx.db.read() as session:
        rows = session.execute(
            select(Delivery.contact_id, Delivery.state, Delivery.skip_reason)
            .where(Delivery.campaign_id == campaign_id)
        ).all()
    return {contact_id: (state, reason) for contact_id, state, reason in rows}


def test_a_subscriber_is_queued_with_the_address_of_the_day(
    ctx: Context, text_version: PublishedText
) -> None:
    anna = subscriber(ctx, text_version, "+4915123456789")
    campaign_id = campaign(ctx, audience(ctx))
    result = plan_campaign(ctx, campaign_id)
    assert (result.planned, result.queued, result.skipped) == (1, 1, {})
    with ctx.db.read() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.contact_id, delivery.address, delivery.state, delivery.channel) == (
            anna.id, "+4915123456789", "queued", "whatsapp")
        assert session.get_one(Campaign, campaign_id).planned_count == 1


def test_every_skip_reason_is_kept_with_its_delivery(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    never = person(ctx, "+4915100000001", "Nie Gefragt")
    pending = person(ctx, "+4915100000002", "Noch Offen")
    record(ctx, pending, ConsentEventKind.REQUESTED, text_version)
    withdrawn = subscriber(ctx, text_version, "+4915100000003", "Hat Gekündigt")
    record(ctx, withdrawn, ConsentEventKind.WITHDRAWN, None)
    erased = subscriber(ctx, text_version, "+4915100000004", "Ist Gelöscht")
    unreachable = subscriber(ctx, text_version, "+4915100000005", "Nicht Erreichbar")
    paused = subscriber(ctx, text_version, "+4915100000006", "Macht Pause")
    pause(ctx, paused.id, ChannelKind.WHATSAPP, 2, Evidence(None, None))
    fine = subscriber(ctx, text_version, "+4915100000007", "Alles Gut")
    with ctx.db.write() as session:
        session.execute(update(Contact).where(Contact.id == erased.id)
                        .values(erased_at=clock.now()))
        session.execute(update(ChannelIdentity).where(ChannelIdentity.contact_id == unreachable.id)
                        .values(unreachable_at=clock.now()))
    clock.advance(timedelta(days=3))  # the pending request has expired meanwhile
    campaign_id = campaign(ctx, audience(ctx))
    result = plan_campaign(ctx, campaign_id)
    assert _outcomes(ctx, campaign_id) == {
        never.id: ("skipped", "no_consent"),
        pending.id: ("skipped", "no_consent"),
        withdrawn.id: ("skipped", "withdrawn"),
        erased.id: ("skipped", "erased"),
        unreachable.id: ("skipped", "unreachable"),
        paused.id: ("skipped", "paused"),
        fine.id: ("queued", None),
    }
    assert result.skipped == {"no_consent": 2, "withdrawn": 1, "erased": 1, "unreachable": 1,
                              "paused": 1}
    with ctx.db.read() as session:
        counted = dict(session.execute(
            select(CampaignSkip.reason, CampaignSkip.count)
            .where(CampaignSkip.campaign_id == campaign_id)).all())
        assert counted == result.skipped
        assert session.get_one(Campaign, campaign_id).skipped == 6


def test_free_form_text_skips_people_outside_the_service_window(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    quiet = subscriber(ctx, text_version, "+4915100000011", channel=ChannelKind.SANDBOX)
    wrote = subscriber(ctx, text_version, "+4915100000012", channel=ChannelKind.SANDBOX)
    with ctx.db.write() as session:
        session.execute(update(ChannelIdentity).where(ChannelIdentity.contact_id == wrote.id)
                        .values(last_inbound_at=clock.now() - timedelta(hours=2)))
    campaign_id = campaign(ctx, audience(ctx), TEXT, channel=ChannelKind.SANDBOX)
    plan_campaign(ctx, campaign_id)
    assert _outcomes(ctx, campaign_id) == {
        quiet.id: ("skipped", "window_closed"), wrote.id: ("queued", None)}


def _sent_campaigns(ctx: Context, clock: ManualClock, contact_id: int, count: int) -> None:
    """Earlier campaigns this week that reached the person."""
    for n in range(count):
        earlier = campaign(ctx, audience(ctx, name=f"Woche {n}"), name=f"Früher {n}")
        with ctx.db.write() as session:
            session.execute(update(Campaign).where(Campaign.id == earlier)
                            .values(started_at=clock.now(), status="done"))
            session.add(Delivery(campaign_id=earlier, contact_id=contact_id, channel="whatsapp",
                                 state="delivered", attempts=1, created_at=clock.now(),
                                 sent_at=clock.now()))
        clock.advance(timedelta(days=1))


def test_the_weekly_cap_skips_people_who_had_enough_this_week(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    busy = subscriber(ctx, text_version, "+4915100000021")
    fresh = subscriber(ctx, text_version, "+4915100000022")
    _sent_campaigns(ctx, clock, busy.id, 3)
    campaign_id = campaign(ctx, audience(ctx, name="Diese Woche"))
    plan_campaign(ctx, campaign_id)
    assert _outcomes(ctx, campaign_id) == {
        busy.id: ("skipped", "frequency_cap"), fresh.id: ("queued", None)}


def test_a_cap_the_person_chose_counts_like_the_policy(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    fewer = subscriber(ctx, text_version, "+4915100000031")
    limit(ctx, fewer.id, ChannelKind.WHATSAPP, 1, Evidence(None, None))
    _sent_campaigns(ctx, clock, fewer.id, 1)
    campaign_id = campaign(ctx, audience(ctx, name="Diese Woche"))
    plan_campaign(ctx, campaign_id)
    assert _outcomes(ctx, campaign_id) == {fewer.id: ("skipped", "frequency_cap")}


def test_people_outside_the_rule_or_the_channel_get_no_delivery(
    ctx: Context, text_version: PublishedText
) -> None:
    subscriber(ctx, text_version, "4711", channel=ChannelKind.TELEGRAM)
    english = subscriber(ctx, text_version, "+4915100000041", language="en")
    subscriber(ctx, text_version, "+4915100000042", language="de")
    campaign_id = campaign(ctx, audience(ctx, {"languages": ["en"]}))
    plan_campaign(ctx, campaign_id)
    assert _outcomes(ctx, campaign_id) == {english.id: ("queued", None)}


def test_an_audience_limited_to_messengers_plans_those_who_are_on_them(
    ctx: Context, text_version: PublishedText
) -> None:
    # The rule's messenger filter and the plan's own join both read channel identities:
    # the filter must be a query of its own, not correlated away into the join.
    on_whatsapp = subscriber(ctx, text_version, "+4915100000043")
    subscriber(ctx, text_version, "4712", channel=ChannelKind.TELEGRAM)
    campaign_id = campaign(ctx, audience(ctx, {"channels": ["whatsapp", "telegram"]}))
    plan_campaign(ctx, campaign_id)
    assert _outcomes(ctx, campaign_id) == {on_whatsapp.id: ("queued", None)}


def test_planning_again_adds_nothing_twice(ctx: Context, text_version: PublishedText) -> None:
    subscriber(ctx, text_version, "+4915100000051")
    campaign_id = campaign(ctx, audience(ctx))
    plan_campaign(ctx, campaign_id)
    assert plan_campaign(ctx, campaign_id).planned == 1
