"""Sign-up pages in the admin app (owner, marketer): list, create, show the snippets, take down.

Creating goes through ``services.signup.create_page``, the same rules as the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError
from botschaft.domain.roles import Area
from botschaft.domain.signup import RequestLimits, SignupPageInvalid
from botschaft.services.app_sessions import SignedIn
from botschaft.services.signup import (
    DEFAULT_TEMPLATE,
    PageSpec,
    consent_text_choices,
    create_page,
    list_pages,
    page_by_number,
    set_page_active,
)
from botschaft.settings import Settings
from botschaft.web.admin.auth import Ctx, app_router, read_form_lists, require_area
from botschaft.web.admin.rendering import app_page, error_text, language_of, see_other
from botschaft.web.api.signup_pages import page_out
from botschaft.web.join_qr import qr_response

router = app_router(tags=["admin app"])
Marketing = Annotated[SignedIn, Depends(require_area(Area.SIGNUP_PAGES))]
CURRENT = "app.nav.signup_pages"
_DEFAULTS = {"whatsapp_template": DEFAULT_TEMPLATE, "requests_per_number": "1",
             "number_period_hours": "24", "submissions_per_ip": "10", "ip_period_minutes": "60"}


@router.get("/signup-pages")
async def signup_pages(request: Request, ctx: Ctx, who: Marketing) -> Response:
    pages = await run_in_threadpool(list_pages, ctx)
    base = ctx.settings.effective_public_url
    return app_page(request, who, "app/signup_pages.html", current=CURRENT,
                    pages=list(reversed(pages)), base=base)


@router.get("/signup-pages/new")
async def new_signup_page(request: Request, ctx: Ctx, who: Marketing) -> Response:
    return await _form(request, ctx, who, dict(_DEFAULTS), channels=[], error=None)


@router.post("/signup-pages")
async def create_signup_page(request: Request, ctx: Ctx, who: Marketing) -> Response:
    form = await read_form_lists(request)
    values = {key: items[-1].strip() for key, items in form.items() if items}
    channels = form.get("channels", [])
    try:
        spec = await run_in_threadpool(_spec, ctx, values, channels)
        page = await run_in_threadpool(lambda: create_page(ctx, spec, actor_id=who.user.id))
    except BotschaftError as error:
        return await _form(request, ctx, who, values, channels=channels,
                           error=error_text(language_of(request, who), error),
                           status=error.status)
    return see_other(f"/app/signup-pages/{page.id}", done="signup_page_created")


@router.get("/signup-pages/{page_id}")
async def signup_page(request: Request, ctx: Ctx, who: Marketing, page_id: int) -> Response:
    """The page's address, QR code, iframe and plain form snippets."""
    page = await run_in_threadpool(page_by_number, ctx, page_id)
    described = await run_in_threadpool(page_out, ctx, page)
    return app_page(request, who, "app/signup_page.html", current=CURRENT, page=described)


@router.get("/signup-pages/{page_id}/qr.svg")
async def signup_page_qr(ctx: Ctx, who: Marketing, page_id: int) -> Response:
    """A QR code of the page's address, for posters and the counter."""
    page = await run_in_threadpool(page_by_number, ctx, page_id)
    return qr_response(f"{ctx.settings.effective_public_url}/join/{page.slug}", "svg")


@router.post("/signup-pages/{page_id}/deactivate")
async def deactivate(ctx: Ctx, who: Marketing, page_id: int) -> Response:
    await run_in_threadpool(set_page_active, ctx, who.user.id, page_id, False)
    return see_other(f"/app/signup-pages/{page_id}", done="signup_page_deactivated")


@router.post("/signup-pages/{page_id}/activate")
async def activate(ctx: Ctx, who: Marketing, page_id: int) -> Response:
    await run_in_threadpool(set_page_active, ctx, who.user.id, page_id, True)
    return see_other(f"/app/signup-pages/{page_id}", done="signup_page_activated")


def _spec(ctx: Ctx, values: dict[str, str], channels: list[str]) -> PageSpec:
    known = {c.value for c in ChannelKind}
    texts = {key: purpose for key, purpose, _ in consent_text_choices(ctx)}
    key = values.get("consent_text_key", "")
    if key not in texts:
        raise SignupPageInvalid("Choose a published consent text.")
    return PageSpec(
        slug=values.get("slug", "").lower(), title=values.get("title", ""),
        channels=tuple(ChannelKind(c) for c in channels if c in known),
        consent_text_key=key, purpose=texts[key],
        whatsapp_template=values.get("whatsapp_template") or DEFAULT_TEMPLATE,
        business_number=values.get("business_number") or None,
        click_to_chat=values.get("click_to_chat") == "yes",
        keyword_default=values.get("keyword_default") == "yes",
        limits=RequestLimits(
            per_number=_number(values, "requests_per_number"),
            number_period=timedelta(hours=_number(values, "number_period_hours")),
            per_ip=_number(values, "submissions_per_ip"),
            ip_period=timedelta(minutes=_number(values, "ip_period_minutes")),
        ),
    )


def _number(values: dict[str, str], name: str) -> int:
    text = values.get(name, "") or _DEFAULTS[name]
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise SignupPageInvalid("The request limits are whole numbers from 1.")
    return int(text)


def _ready_channels(settings: Settings) -> list[ChannelKind]:
    ready = {
        ChannelKind.SANDBOX: settings.sandbox_enabled,
        ChannelKind.WHATSAPP: settings.whatsapp.enabled,
        ChannelKind.TELEGRAM: settings.telegram.enabled,
        ChannelKind.MESSENGER: settings.messenger.enabled,
    }
    return [channel for channel, on in ready.items() if on]


async def _form(request: Request, ctx: Ctx, who: SignedIn, values: dict[str, str], *,
                channels: list[str], error: str | None, status: int = 200) -> Response:
    texts = await run_in_threadpool(consent_text_choices, ctx)
    return app_page(request, who, "app/signup_page_new.html", status=status, current=CURRENT,
                    values=values, chosen=channels, error=error, texts=texts,
                    ready=_ready_channels(ctx.settings),
                    base=ctx.settings.effective_public_url)
