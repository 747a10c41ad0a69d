"""Campaigns in the admin app (owner, marketer): the list, the "new campaign" form, and a
campaign's page (content, lint, preview for one contact, results that move while it sends).

What a campaign's page does to the campaign (test send, start, schedule, pause, resume,
cancel) lives in ``campaign_actions``; both go through ``services.campaigns`` and its
neighbours, the same rules as the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from botschaft.channels.registry import Channels
from botschaft.domain.campaign import STARTABLE, CampaignStatus
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.domain.roles import Area
from botschaft.i18n import catalogue, translate
from botschaft.services.app_sessions import SignedIn
from botschaft.services.audiences import AudienceView, get_audience, list_audiences
from botschaft.services.campaign_checks import lint_report
from botschaft.services.campaign_content import allowed_fields
from botschaft.services.campaign_preview import Preview, check_fits, preview_campaign
from botschaft.services.campaign_results import CampaignSummary, campaign_summary
from botschaft.services.campaigns import CampaignView, create_campaign, get_campaign, list_campaigns
from botschaft.services.contact_directory import search_contacts
from botschaft.services.contact_fields import list_attributes
from botschaft.services.contacts import ContactView
from botschaft.services.inbox import MessageView
from botschaft.web.admin.auth import Ctx, app_router, read_form, require_area
from botschaft.web.admin.campaign_form import (
    CampaignForm,
    CampaignFormInvalid,
    new_form,
    read_campaign_form,
    spec_of,
)
from botschaft.web.admin.rendering import app_page, error_text, language_of, see_other

router = app_router(tags=["admin app"])
Marketing = Annotated[SignedIn, Depends(require_area(Area.CAMPAIGNS))]
CURRENT = "app.nav.campaigns"
STATUS_CLASS = {"draft": "muted", "scheduled": "info", "running": "ok", "paused": "warning",
                "done": "ok", "cancelled": "muted"}
# While these run, the page asks for the figures every few seconds.
LIVE = frozenset({CampaignStatus.RUNNING, CampaignStatus.SCHEDULED})
FIGURES = ("targeted", "sent", "delivered", "read", "clicked", "failed", "pending",
           "opted_out_48h")
CANDIDATES = 50
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class ShownMessage:
    """A preview as a person reads it: the text (a template's with its parameters filled
    in), media, buttons."""

    text: str
    media_kind: str | None
    media_url: str | None
    buttons: tuple[str, ...]
    template: str | None  # "name · language" of a template


@dataclass(frozen=True)
class TestResult:
    name: str
    message: MessageView


@router.get("/campaigns")
async def campaigns(request: Request, ctx: Ctx, who: Marketing) -> Response:
    found = await run_in_threadpool(list_campaigns, ctx)
    names = {a.id: a.name for a in await run_in_threadpool(list_audiences, ctx)}
    return app_page(request, who, "app/campaigns.html", current=CURRENT, tab="campaigns",
                    campaigns=list(reversed(found)), audience_names=names,
                    campaign_class=STATUS_CLASS)


@router.get("/campaigns/new")
async def new_campaign(request: Request, ctx: Ctx, who: Marketing, audience: str = ""
                       ) -> Response:
    form = new_form()
    if audience.isdigit():
        form.values["audience_id"] = audience
    return await _form(request, ctx, who, form)


@router.post("/campaigns")
async def create(request: Request, ctx: Ctx, who: Marketing) -> Response:
    form = read_campaign_form(await read_form(request))
    channels: Channels = request.app.state.channels
    language = language_of(request, who)
    try:
        spec = spec_of(form, language)
        if spec.channel not in channels.enabled():
            raise CampaignFormInvalid(translate(language, "app.campaigns.error_channel_off"))
        check_fits(channels, spec.channel, spec.content)
        try:
            made = await run_in_threadpool(create_campaign, ctx, spec)
        except NotFound:  # the audience was deleted since the form was drawn
            raise CampaignFormInvalid(translate(language, "app.campaigns.error_audience")
                                      ) from None
    except BotschaftError as error:
        return await _form(request, ctx, who, form, status=error.status,
                           error=error_text(language_of(request, who), error))
    return see_other(f"/app/campaigns/{made.id}", done="campaign_created")


@router.get("/campaigns/{campaign_id}")
async def campaign(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    """``?contact=ID`` previews the campaign for that contact; ``?q=`` finds contacts."""
    asked = request.query_params
    return await campaign_page(request, ctx, who, campaign_id, contact=asked.get("contact", ""),
                               query=asked.get("q", ""))


@router.get("/campaigns/{campaign_id}/summary")
async def summary(request: Request, ctx: Ctx, who: Marketing, campaign_id: int) -> Response:
    """The results as JSON, for the page's script while the campaign sends."""
    found = await run_in_threadpool(campaign_summary, ctx, campaign_id)
    language = language_of(request, who)
    return JSONResponse({
        "status": found.status,
        "status_text": translate(language, f"app.campaigns.status_{found.status}"),
        "figures": {name: getattr(found, name) for name in FIGURES},
        "skipped": [[skip_label(language, reason), count]
                    for reason, count in found.skipped.items()],
    }, headers={"Cache-Control": "no-store"})


async def campaign_page(
    request: Request, ctx: Ctx, who: SignedIn, campaign_id: int, *, contact: str = "",
    query: str = "", status: int = 200, error: str | None = None,
    tested: list[TestResult] | None = None,
) -> Response:
    """A campaign's page; the actions draw it again with their error or test results."""
    language = language_of(request, who)
    view = await run_in_threadpool(get_campaign, ctx, campaign_id)
    audience = await run_in_threadpool(get_audience, ctx, view.audience_id)
    startable = view.status in STARTABLE
    lint = await run_in_threadpool(lint_report, ctx, campaign_id, language) if startable else []
    results = await run_in_threadpool(campaign_summary, ctx, campaign_id)
    people = await run_in_threadpool(candidates, ctx, view, query)
    preview, shown, preview_error = None, None, None
    if contact.isdigit():
        try:
            preview = await run_in_threadpool(preview_campaign, ctx, campaign_id, int(contact))
            shown = shown_message(view.content, preview)
        except NotFound:
            preview_error = translate(language, "app.campaigns.preview_no_contact",
                                      channel=translate(language, f"app.channel.{view.channel}"))
        except BotschaftError as failure:
            preview_error = error_text(language, failure)
    return app_page(
        request, who, "app/campaign.html", status=status, current=CURRENT, campaign=view,
        audience=audience, lint=lint, startable=startable, summary=results,
        skipped=_skips(language, results), live=view.status in LIVE, people=people,
        query=query[:200], chosen=contact, preview=preview, shown=shown,
        preview_error=preview_error, error=error, tested=tested or [],
        campaign_class=STATUS_CLASS, zone=ctx.settings.default_time_zone,
    )


def candidates(ctx: Ctx, view: CampaignView, query: str) -> list[ContactView]:
    """Contacts to preview or test with: those matching ``query`` who can be reached on the
    campaign's messenger, newest first."""
    page = search_contacts(ctx, query[:200], limit=CANDIDATES)
    return [row.contact for row in page.rows
            if any(i.channel == view.channel.value for i in row.contact.identities)]


def shown_message(content: dict[str, Any], preview: Preview) -> ShownMessage:
    message = preview.message
    media = message.get("media") or {}
    template = message.get("template")
    text = message.get("text") or media.get("caption") or ""
    name = None
    if template:
        params = [p.get("text") or "" for c in template.get("components") or ()
                  if c.get("type") == "body" for p in c.get("parameters") or ()]
        body = (content.get("template") or {}).get("text") or ""
        text = _PLACEHOLDER.sub(
            lambda m: params[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(params)
            else m.group(0), body)
        name = f"{template['name']} · {template['language']}"
    return ShownMessage(text, media.get("kind"), media.get("url"),
                        tuple(b["title"] for b in message.get("buttons") or ()), name)


def skip_label(language: str, reason: str) -> str:
    return catalogue(language).get(f"app.campaigns.skip_{reason}") or reason


def _skips(language: str, results: CampaignSummary) -> list[tuple[str, int]]:
    return [(skip_label(language, reason), count) for reason, count in results.skipped.items()]


async def _form(request: Request, ctx: Ctx, who: SignedIn, form: CampaignForm, *,
                status: int = 200, error: str | None = None) -> Response:
    audiences: list[AudienceView] = await run_in_threadpool(list_audiences, ctx)
    keys = [a.key for a in await run_in_threadpool(list_attributes, ctx)]
    channels: Channels = request.app.state.channels
    return app_page(request, who, "app/campaign_new.html", status=status, current=CURRENT,
                    form=form, audiences=audiences, channels=channels.enabled(),
                    fields=allowed_fields(keys), error=error)
