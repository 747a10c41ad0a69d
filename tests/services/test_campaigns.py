from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from botschaft.domain.campaign import CampaignInvalid, CampaignStateConflict, CampaignStatus
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import InvalidTimeZone
from botschaft.services.campaign_checks import CampaignLintFailed
from botschaft.services.campaigns import (
    cancel_campaign,
    get_campaign,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
    start_campaign,
    start_due_campaigns,
    update_content,
)
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.storage.broadcast import Campaign, CampaignSkip, Delivery
from broadcasts import TEXT, audience, campaign, subscriber


@pytest.fixture
def weekly(ctx: Context, text_version: PublishedText) -> int:
    for n in range(3):
        subscriber(ctx, text_version, f"+49151000002{n:02d}", f"Kundin {n}")
    return campaign(ctx, audience(ctx))


def _states(ctx: Context, campaign_id: int) -> list[tuple[str, str | None]]:
    with ctx.db.read() as session:
        return sorted(session.execute(
            select(Delivery.state, Delivery.skip_reason).where(Delivery.campaign_id == campaign_id)
        ).all())


def test_starting_plans_and_runs(ctx: Context, weekly: int) -> None:
    result = start_campaign(ctx, weekly, "de")
    assert (result.planned, result.queued) == (3, 3)
    view = get_campaign(ctx, weekly)
    assert (view.status, view.planned_count, view.started_at) == (
        CampaignStatus.RUNNING, 3, ctx.clock.now())


def test_a_campaign_starts_only_once(ctx: Context, weekly: int) -> None:
    start_campaign(ctx, weekly, "de")
    with pytest.raises(CampaignStateConflict, match="running"):
        start_campaign(ctx, weekly, "de")


def test_a_campaign_nobody_may_receive_is_done_at_once(
    ctx: Context, text_version: PublishedText
) -> None:
    nobody = campaign(ctx, audience(ctx, {"languages": ["fr"]}))
    assert start_campaign(ctx, nobody, "de").planned == 0
    assert get_campaign(ctx, nobody).status is CampaignStatus.DONE


def test_a_failing_lint_blocks_starting_and_says_why_in_german(
    ctx: Context, text_version: PublishedText
) -> None:
    subscriber(ctx, text_version, "+4915100000301")
    free_form = campaign(ctx, audience(ctx, {"consent_purpose": None}), TEXT)
    with pytest.raises(CampaignLintFailed) as refused:
        start_campaign(ctx, free_form, "de")
    assert [f.code for f in refused.value.findings] == [
        "audience_without_consent", "template_required"]
    assert refused.value.message.startswith("Die Kampagne kann noch nicht starten:")
    assert "genehmigte Vorlage" in refused.value.message
    assert get_campaign(ctx, free_form).status is CampaignStatus.DRAFT
    with ctx.db.read() as session:
        assert session.scalar(select(Delivery.id)) is None


def test_scheduling_takes_the_wall_time_in_the_business_time_zone(
    ctx: Context, weekly: int
) -> None:
    # 2026-03-05 09:00 in Berlin (CET, UTC+1) is 08:00 UTC.
    view = schedule_campaign(ctx, weekly, datetime(2026, 3, 5, 9, 0), None, "de")
    assert view.status is CampaignStatus.SCHEDULED
    assert view.scheduled_at == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    assert view.time_zone == "Europe/Berlin"


def test_scheduling_in_summer_time_and_another_zone(ctx: Context, weekly: int) -> None:
    view = schedule_campaign(ctx, weekly, datetime(2026, 7, 1, 9, 0), "Europe/Lisbon", "en")
    assert view.scheduled_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_a_time_in_the_past_or_an_unknown_zone_is_refused(ctx: Context, weekly: int) -> None:
    with pytest.raises(CampaignInvalid, match="not in the future"):
        schedule_campaign(ctx, weekly, datetime(2026, 3, 2, 10, 30), None, "de")
    with pytest.raises(InvalidTimeZone, match="IANA"):
        schedule_campaign(ctx, weekly, datetime(2026, 3, 5, 9, 0), "Mars/Olympus", "de")


def test_the_scheduler_starts_a_campaign_when_its_time_has_come(
    ctx: Context, clock: ManualClock, weekly: int
) -> None:
    schedule_campaign(ctx, weekly, datetime(2026, 3, 5, 9, 0), None, "de")
    clock.set(datetime(2026, 3, 5, 7, 59, tzinfo=UTC))
    assert start_due_campaigns(ctx) == 0
    assert get_campaign(ctx, weekly).status is CampaignStatus.SCHEDULED
    clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=UTC))
    assert start_due_campaigns(ctx) == 1
    assert get_campaign(ctx, weekly).status is CampaignStatus.RUNNING
    assert start_due_campaigns(ctx) == 0


def test_a_scheduled_campaign_the_lint_now_refuses_goes_back_to_draft(
    ctx: Context, clock: ManualClock, weekly: int
) -> None:
    schedule_campaign(ctx, weekly, datetime(2026, 3, 5, 9, 0), None, "de")
    with ctx.db.write() as session:  # meanwhile, three other campaigns went out this week
        for n in range(3):
            other = Campaign(name=f"Andere {n}", status="done", channel="whatsapp",
                             purpose="marketing", audience_id=1, content={}, track_links=True,
                             time_zone="Europe/Berlin", created_at=clock.now(),
                             updated_at=clock.now(), started_at=clock.now())
            session.add(other)
    clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=UTC))
    assert start_due_campaigns(ctx) == 0
    assert get_campaign(ctx, weekly).status is CampaignStatus.DRAFT


def test_pause_and_resume_change_only_the_status(ctx: Context, weekly: int) -> None:
    start_campaign(ctx, weekly, "de")
    assert pause_campaign(ctx, weekly).status is CampaignStatus.PAUSED
    assert _states(ctx, weekly) == [("queued", None)] * 3
    with pytest.raises(CampaignStateConflict):
        pause_campaign(ctx, weekly)
    assert resume_campaign(ctx, weekly).status is CampaignStatus.RUNNING


def test_cancelling_skips_what_is_still_queued_and_keeps_what_went_out(
    ctx: Context, weekly: int
) -> None:
    start_campaign(ctx, weekly, "de")
    with ctx.db.write() as session:
        first = session.scalars(select(Delivery.id).order_by(Delivery.id)).first()
        session.execute(update(Delivery).where(Delivery.id == first).values(state="sent"))
    view = cancel_campaign(ctx, weekly)
    assert (view.status, view.skipped, view.finished_at) == (
        CampaignStatus.CANCELLED, 2, ctx.clock.now())
    assert _states(ctx, weekly) == [("sent", None), ("skipped", "cancelled"),
                                    ("skipped", "cancelled")]
    with ctx.db.read() as session:
        assert session.get_one(CampaignSkip, (weekly, "cancelled")).count == 2
    with pytest.raises(CampaignStateConflict):
        resume_campaign(ctx, weekly)


def test_content_changes_only_before_the_start(ctx: Context, weekly: int,
                                               clock: ManualClock) -> None:
    update_content(ctx, weekly, {"kind": "text", "text": "Neu von Botschaft"})
    clock.advance(timedelta(minutes=1))
    update_content(ctx, weekly, {"kind": "template", "template": {
        "name": "wochenangebot", "language": "de", "text": "Botschaft: Angebot. STOP"}})
    start_campaign(ctx, weekly, "de")
    with pytest.raises(CampaignStateConflict, match="cannot be changed"):
        update_content(ctx, weekly, {"kind": "text", "text": "Zu spät"})


def test_a_template_error_is_refused_when_the_campaign_is_written(
    ctx: Context, text_version: PublishedText
) -> None:
    with pytest.raises(CampaignInvalid, match="personalisation error"):
        campaign(ctx, audience(ctx), {"kind": "text", "text": "Hallo {{ first_name"},
                 channel=ChannelKind.TELEGRAM)
