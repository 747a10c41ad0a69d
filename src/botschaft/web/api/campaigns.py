"""/api/v1/campaigns: write, preview, test, schedule or start, pause, resume, cancel, results.

Refusals of the compliance lint come in the caller's language (Accept-Language: de or en).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING
from botschaft.services.campaign_checks import lint_report
from botschaft.services.campaign_preview import check_fits, preview_campaign, send_test
from botschaft.services.campaign_results import campaign_summary
from botschaft.services.campaigns import (
    CampaignSpec,
    CampaignView,
    cancel_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
    start_campaign,
    update_content,
)
from botschaft.services.context import Context
from botschaft.web.api.deps import ChannelSet, Ctx, Holder
from botschaft.web.pages import page_language

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])

CONTENT_DESCRIPTION = (
    "kind text|media|buttons|template. text (with personalisation such as"
    " {{ first_name | default(\"\") }}); media {kind, url}; buttons [{id, title}]; template"
    " {name, language, params, text}. See docs/broadcasts.md."
)


class CampaignIn(BaseModel):
    name: str
    channel: ChannelKind
    audience_id: int
    content: dict[str, Any] = Field(description=CONTENT_DESCRIPTION)
    purpose: str = Field(MARKETING, description="The consent purpose it sends under.")
    track_links: bool = Field(True, description="Turn links into tracked /c/<code> links.")


class ContentIn(BaseModel):
    content: dict[str, Any] = Field(description=CONTENT_DESCRIPTION)


class ScheduleIn(BaseModel):
    send_at: datetime = Field(
        description="When to start: a wall time such as 2026-03-05T09:00 in time_zone, or a"
        " time with an offset."
    )
    time_zone: str | None = Field(
        None, description="IANA zone of send_at; the business's default time zone if absent."
    )


class TestSendIn(BaseModel):
    contacts: list[int] = Field(description="Ids of 1 to 10 contacts to send the campaign to.")


class LintOut(BaseModel):
    ok: bool
    findings: list[dict[str, str]] = Field(description="code and message of each problem.")


class PlanOut(BaseModel):
    campaign: CampaignView
    planned: int
    queued: int
    skipped: dict[str, int]
    planning_seconds: float


def _language(request: Request) -> str:
    return page_language(request, None)


@router.post("", response_model=CampaignView, status_code=201)
async def create(ctx: Ctx, channels: ChannelSet, _holder: Holder, body: CampaignIn
                 ) -> CampaignView:
    """A draft; content, personalisation and what the channel can carry are checked now
    (422 says what is wrong; 404 if the channel is not switched on)."""
    check_fits(channels, body.channel, body.content)
    spec = CampaignSpec(name=body.name, channel=body.channel, audience_id=body.audience_id,
                        content=body.content, purpose=body.purpose,
                        track_links=body.track_links)
    return (await run_in_threadpool(create_campaign, ctx, spec))


@router.get("", response_model=list[CampaignView])
async def list_all(ctx: Ctx, _holder: Holder) -> list[CampaignView]:
    return [(c) for c in await run_in_threadpool(list_campaigns, ctx)]


@router.get("/{campaign_id}", response_model=CampaignView)
async def get(ctx: Ctx, _holder: Holder, campaign_id: int) -> CampaignView:
    return (await run_in_threadpool(get_campaign, ctx, campaign_id))


@router.put("/{campaign_id}/content", response_model=CampaignView)
async def change_content(ctx: Ctx, channels: ChannelSet, _holder: Holder, campaign_id: int,
                         body: ContentIn) -> CampaignView:
    """Change a draft's or scheduled campaign's content (409 once it runs)."""
    current = await run_in_threadpool(get_campaign, ctx, campaign_id)
    check_fits(channels, current.channel, body.content)
    return (
        await run_in_threadpool(update_content, ctx, campaign_id, body.content)
    )


@router.get("/{campaign_id}/lint", response_model=LintOut)
async def lint(request: Request, ctx: Ctx, _holder: Holder, campaign_id: int) -> LintOut:
    """The compliance lint as of now: what would block starting, in words."""
    found = await run_in_threadpool(lint_report, ctx, campaign_id, _language(request))
    return LintOut(ok=not found, findings=[asdict(f) for f in found])


@router.get("/{campaign_id}/preview")
async def preview(ctx: Ctx, _holder: Holder, campaign_id: int, contact: int) -> dict[str, Any]:
    """What ``contact`` would receive, and the gate's decision for them now."""
    return asdict(await run_in_threadpool(preview_campaign, ctx, campaign_id, contact))


@router.post("/{campaign_id}/test-send")
async def send_to_testers(ctx: Ctx, channels: ChannelSet, _holder: Holder, campaign_id: int,
                          body: TestSendIn) -> list[dict[str, Any]]:
    """Send to named contacts now, through the gate: each answer is the stored message."""
    sent = await send_test(ctx, channels, campaign_id, body.contacts)
    return [asdict(message) for message in sent]


@router.post("/{campaign_id}/schedule", response_model=CampaignView)
async def schedule(request: Request, ctx: Ctx, _holder: Holder, campaign_id: int,
                   body: ScheduleIn) -> CampaignView:
    """Start later; refused if the time is past or the lint fails now."""
    return (await run_in_threadpool(
        schedule_campaign, ctx, campaign_id, body.send_at, body.time_zone, _language(request)
    ))


@router.post("/{campaign_id}/start", response_model=PlanOut)
async def start(request: Request, ctx: Ctx, _holder: Holder, campaign_id: int) -> PlanOut:
    """Lint, plan the deliveries and start sending now."""
    result = await run_in_threadpool(start_campaign, ctx, campaign_id, _language(request))
    return PlanOut(campaign=await _out(ctx, campaign_id), planned=result.planned,
                   queued=result.queued, skipped=result.skipped,
                   planning_seconds=round(result.seconds, 3))


@router.post("/{campaign_id}/pause", response_model=CampaignView)
async def pause(ctx: Ctx, _holder: Holder, campaign_id: int) -> CampaignView:
    return (await run_in_threadpool(pause_campaign, ctx, campaign_id))


@router.post("/{campaign_id}/resume", response_model=CampaignView)
async def resume(ctx: Ctx, _holder: Holder, campaign_id: int) -> CampaignView:
    return (await run_in_threadpool(resume_campaign, ctx, campaign_id))


@router.post("/{campaign_id}/cancel", response_model=CampaignView)
async def cancel(ctx: Ctx, _holder: Holder, campaign_id: int) -> CampaignView:
    """Queued deliveries are skipped ('cancelled'); what went out stays on record."""
    return (await run_in_threadpool(cancel_campaign, ctx, campaign_id))


@router.get("/{campaign_id}/summary")
async def summary(ctx: Ctx, _holder: Holder, campaign_id: int) -> dict[str, Any]:
    """Targeted, skipped by reason, sent, delivered, read, clicked, failed, opted out in 48 h."""
    return asdict(await run_in_threadpool(campaign_summary, ctx, campaign_id))


async def _out(ctx: Context, campaign_id: int) -> CampaignView:
    return (await run_in_threadpool(get_campaign, ctx, campaign_id))
