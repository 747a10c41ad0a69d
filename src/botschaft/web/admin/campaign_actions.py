"""What a campaign's page does: a test send to named contacts, start now, schedule, pause,
resume and cancel. A refusal (the lint, a wrong state, a time in the past) draws the page
again with the reason in the person's language.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from botschaft.channels.registry import Channels
from botschaft.domain.campaign import CampaignInvalid
from botschaft.domain.errors import BotschaftError
from botschaft.i18n import translate
from botschaft.services.app_sessions import SignedIn
from botschaft.services.campaign_preview import send_test
from botschaft.services.campaigns import (
    cancel_campaign,
    get_campaign,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
    start_campaign,
)
from botschaft.web.admin.auth import Ctx, app_router, read_form, read_form_lists
from botschaft.web.admin.campaign_form import CampaignFormInvalid
from botschaft.web.admin.campaign_screens import (
    Marketing,
    TestResult,
    campaign_page,
    candidates,
)
from botschaft.web.admin.rendering import error_text, language_of, see_other

router = app_router(tags=["admin app"])


@router.post("/campaigns/{campaign_id}/test-send")
async def test_send(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    """Send now to the contacts ticked, each through the gate; the page lists what happened."""
    form = await read_form_lists(request)
    query = (form.get("q") or [""])[-1]
    view = await run_in_threadpool(get_campaign, ctx, campaign_id)
    names = {c.id: c.display_name for c in await run_in_threadpool(candidates, ctx, view, query)}
    chosen = form.get("contacts", [])
    channels: Channels = request.app.state.channels
    try:
        if not all(value.isdigit() for value in chosen):
            raise CampaignFormInvalid(translate(language_of(request, who),
                                                "app.campaigns.error_test_contacts"))
        ids = list(dict.fromkeys(int(value) for value in chosen))
        sent = await send_test(ctx, channels, campaign_id, ids)
    except BotschaftError as error:
        return await _refused(request, ctx, who, campaign_id, error, query=query)
    results = [TestResult(names.get(contact_id) or f"#{contact_id}", message)
               for contact_id, message in zip(ids, sent, strict=True)]
    return await campaign_page(request, ctx, who, campaign_id, query=query, tested=results)


@router.post("/campaigns/{campaign_id}/start")
async def start(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    """Lint, plan and start sending now."""
    try:
        await run_in_threadpool(partial(start_campaign, actor_id=who.user.id), ctx, campaign_id,
                                language_of(request, who))
    except BotschaftError as error:
        return await _refused(request, ctx, who, campaign_id, error)
    return see_other(f"/app/campaigns/{campaign_id}", done="campaign_started")


@router.post("/campaigns/{campaign_id}/schedule")
async def schedule(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    """Start at a wall time in the business's time zone."""
    language = language_of(request, who)
    text = (await read_form(request)).get("send_at", "").strip()
    try:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise CampaignFormInvalid(translate(language, "app.campaigns.error_send_at")
                                      ) from None
        if moment.tzinfo is not None:
            raise CampaignFormInvalid(translate(language, "app.campaigns.error_send_at"))
        try:
            await run_in_threadpool(partial(schedule_campaign, actor_id=who.user.id), ctx,
                                    campaign_id, moment, None, language)
        except CampaignInvalid:
            # Scheduling refuses only one thing as invalid: a time that is not ahead.
            raise CampaignFormInvalid(
                translate(language, "app.campaigns.error_send_at_past",
                          zone=ctx.settings.default_time_zone)) from None
    except BotschaftError as error:
        return await _refused(request, ctx, who, campaign_id, error)
    return see_other(f"/app/campaigns/{campaign_id}", done="campaign_scheduled")


@router.post("/campaigns/{campaign_id}/pause")
async def pause(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    return await _change(request, ctx, who, campaign_id, "pause")


@router.post("/campaigns/{campaign_id}/resume")
async def resume(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    return await _change(request, ctx, who, campaign_id, "resume")


@router.post("/campaigns/{campaign_id}/cancel")
async def cancel(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    return await _change(request, ctx, who, campaign_id, "cancel")


_CHANGES = {"pause": (pause_campaign, "campaign_paused"),
            "resume": (resume_campaign, "campaign_resumed"),
            "cancel": (cancel_campaign, "campaign_cancelled")}


async def _change(request: Request, ctx: Ctx, who: SignedIn, campaign_id: int, verb: str
                  ) -> Response:
    try:
        change, done = _CHANGES[verb]
        await run_in_threadpool(partial(change, actor_id=who.user.id), ctx, campaign_id)
    except BotschaftError as error:
        return await _refused(request, ctx, who, campaign_id, error)
    return see_other(f"/app/campaigns/{campaign_id}", done=done)


async def _refused(request: Request, ctx: Ctx, who: SignedIn, campaign_id: int,
                   error: BotschaftError, *, query: str = "") -> Response:
    return await campaign_page(request, ctx, who, campaign_id, query=query,
                               status=error.status,
                               error=error_text(language_of(request, who), error))
