"""Audiences in the admin app (owner, marketer): the list with live counts, and the form
over the rule model, which counts live as it is edited (``POST /app/audiences/count``).

Saving goes through ``services.audiences``, the same rules as the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from botschaft.domain.consent import MARKETING
from botschaft.domain.errors import BotschaftError
from botschaft.domain.roles import Area
from botschaft.i18n import translate
from botschaft.services.app_sessions import SignedIn
from botschaft.services.audiences import (
    AudienceConflict,
    AudienceCount,
    AudienceView,
    count_audience,
    count_rule,
    create_audience,
    delete_audience,
    get_audience,
    list_audiences,
    update_audience,
)
from botschaft.services.contact_fields import list_attributes
from botschaft.services.signup import consent_text_choices
from botschaft.web.admin.audience_form import (
    NO_CONSENT,
    AudienceForm,
    checked_name,
    form_of,
    read_audience_form,
    rule_of,
)
from botschaft.web.admin.auth import Ctx, app_router, read_form_lists, require_area
from botschaft.web.admin.rendering import app_page, error_text, language_of, see_other

router = app_router(tags=["admin app"])
Marketing = Annotated[SignedIn, Depends(require_area(Area.CAMPAIGNS))]
CURRENT = "app.nav.campaigns"


@router.get("/audiences")
async def audiences(request: Request, ctx: Ctx, who: Marketing) -> Response:
    """Every saved audience with how many it selects now."""

    def counted() -> list[tuple[AudienceView, AudienceCount]]:
        return [(a, count_audience(ctx, a.id)) for a in list_audiences(ctx)]

    rows = await run_in_threadpool(counted)
    return app_page(request, who, "app/audiences.html", current=CURRENT, tab="audiences",
                    rows=rows)


@router.get("/audiences/new")
async def new_audience(request: Request, ctx: Ctx, who: Marketing) -> Response:
    return await _form(request, ctx, who, AudienceForm(), audience_id=None)


@router.post("/audiences")
async def create(request: Request, ctx: Ctx, who: Marketing) -> Response:
    return await _submit(request, ctx, who, None,
                         lambda name, rule: create_audience(ctx, name, rule).id)


@router.post("/audiences/count")
async def count(request: Request, ctx: Ctx, who: Marketing) -> Response:
    """The live count of the form as it stands, for the form's script (JSON)."""
    form = read_audience_form(await read_form_lists(request))
    language = language_of(request, who)
    try:
        found = await run_in_threadpool(count_rule, ctx, rule_of(form, language))
    except BotschaftError as error:
        return JSONResponse({"error": _said(language, error)}, status_code=error.status)
    return JSONResponse({"contacts": found.contacts, "with_consent": found.with_consent,
                         "text": _count_text(language, found)})


@router.get("/audiences/{audience_id}")
async def audience(request: Request, ctx: Ctx, who: Marketing, audience_id: int) -> Response:
    saved = await run_in_threadpool(get_audience, ctx, audience_id)
    return await _form(request, ctx, who, form_of(saved.name, saved.rule),
                       audience_id=audience_id,
                       counted=await run_in_threadpool(count_audience, ctx, audience_id))


@router.post("/audiences/{audience_id}")
async def change(request: Request, ctx: Ctx, who: Marketing, audience_id: int) -> Response:
    await run_in_threadpool(get_audience, ctx, audience_id)  # a 404 page for a wrong number
    return await _submit(request, ctx, who, audience_id,
                         lambda name, rule: update_audience(ctx, audience_id, name, rule).id)


async def _submit(request: Request, ctx: Ctx, who: SignedIn, audience_id: int | None,
                  save: Callable[[str, object], int]) -> Response:
    """The form sent with "count" (shown again, counted) or "save" (saved, then shown)."""
    form = read_audience_form(await read_form_lists(request))
    language = language_of(request, who)
    try:
        rule = rule_of(form, language)
        name = checked_name(form, language)
        if await _counting(request):
            return await _form(request, ctx, who, form, audience_id=audience_id,
                               counted=await run_in_threadpool(count_rule, ctx, rule))
        saved = await run_in_threadpool(save, name, rule)
    except BotschaftError as error:
        return await _refused(request, ctx, who, form, audience_id=audience_id, error=error)
    return see_other(f"/app/audiences/{saved}", done="audience_saved")


@router.post("/audiences/{audience_id}/delete")
async def delete(request: Request, ctx: Ctx, who: Marketing, audience_id: int) -> Response:
    saved = await run_in_threadpool(get_audience, ctx, audience_id)
    try:
        await run_in_threadpool(delete_audience, ctx, audience_id)
    except AudienceConflict as error:
        language = language_of(request, who)
        return await _form(request, ctx, who, form_of(saved.name, saved.rule),
                           audience_id=audience_id, status=error.status,
                           error=translate(language, "app.audiences.in_use"))
    return see_other("/app/audiences", done="audience_deleted")


async def _counting(request: Request) -> bool:
    """The form's "count" button (without the script) asks for the count, not to save."""
    form = await read_form_lists(request)
    return (form.get("action") or [""])[-1] == "count"


async def _refused(request: Request, ctx: Ctx, who: SignedIn, form: AudienceForm, *,
                   audience_id: int | None, error: BotschaftError) -> Response:
    return await _form(request, ctx, who, form, audience_id=audience_id, status=error.status,
                       error=_said(language_of(request, who), error))


def _said(language: str, error: BotschaftError) -> str:
    if isinstance(error, AudienceConflict):
        return translate(language, "app.audiences.name_taken")
    return error_text(language, error)


def _count_text(language: str, found: AudienceCount) -> str:
    return translate(language, "app.audiences.count_text", contacts=found.contacts,
                     with_consent=found.with_consent)


async def _form(request: Request, ctx: Ctx, who: SignedIn, form: AudienceForm, *,
                audience_id: int | None, counted: AudienceCount | None = None,
                error: str | None = None, status: int = 200) -> Response:
    attributes = await run_in_threadpool(list_attributes, ctx)
    texts = await run_in_threadpool(consent_text_choices, ctx)
    purposes = list(dict.fromkeys([MARKETING, *(purpose for _, purpose, _ in texts)]))
    if form.consent not in purposes and form.consent != NO_CONSENT:
        purposes.append(form.consent)
    language = language_of(request, who)
    return app_page(
        request, who, "app/audience.html", status=status, current=CURRENT, form=form,
        audience_id=audience_id, attributes=attributes, purposes=purposes,
        no_consent=NO_CONSENT, error=error,
        count_text=_count_text(language, counted) if counted is not None else None,
    )
