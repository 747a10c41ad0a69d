"""Sign-up pages at ``/join/<slug>``: read the consent text, agree, and get the way into the chat.

Plain server-rendered HTML and a plain form: no script, no cookie, nothing fetched from
anyone but us. The form carries a signed token naming the page, the text shown and the
time, so a submission proves which text the visitor had in front of them. The rules live in
``services.signup_form``; this module reads the request and draws the answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError, InvalidPhoneNumber, NotFound
from botschaft.domain.signup import (
    AgreementMissing,
    InvalidFormToken,
    LimitReached,
    sign_form_token,
)
from botschaft.i18n import pick_language, translate
from botschaft.services.consent_texts import get_consent_text
from botschaft.services.secret import signing_key
from botschaft.services.signup import SignupPageView, get_page
from botschaft.services.signup_form import (
    RequestSent,
    Submission,
    agree_without_number,
    chat_links,
    open_agreement,
    opt_in_word,
    request_by_number,
)
from botschaft.web.join_qr import qr_response
from botschaft.web.pages import asset_response, render

router = APIRouter(prefix="/join", tags=["sign-up pages"])

MAX_FORM_BYTES = 16_384
_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'"
)
# Our own page may not be framed (a framed consent page invites clickjacking); the embed
# view exists to be framed by the business's website, and is allowed anywhere.
_PAGE_POLICY = _POLICY + "; frame-ancestors 'self'"
_EMBED_POLICY = _POLICY + "; frame-ancestors *"


class QrUnavailable(BotschaftError):
    code = "qr_unavailable"
    status = 404


class FormTooLarge(BotschaftError):
    code = "form_too_large"
    status = 413


@router.get("/static/{name}", include_in_schema=False)
async def join_asset(name: str) -> Response:
    """The sign-up pages' style sheet."""
    return asset_response("join", name)


@router.get("/{slug}", response_class=HTMLResponse, include_in_schema=False)
async def join_page(
    request: Request, slug: str, lang: str | None = None, embed: bool = False
) -> HTMLResponse:
    """The consent text in full, then the form: an unticked box, a number or another way."""
    page = await _page_or_none(request, slug)
    if page is None:
        return _missing(request, lang)
    language = _language(request, page, lang)
    return await _form(request, page, language, embed=embed)


@router.post("/{slug}", response_class=HTMLResponse, include_in_schema=False)
async def join_submit(request: Request, slug: str, embed: bool = False) -> HTMLResponse:
    """Agree: by number (we send the double opt-in message) or by opening the chat oneself."""
    ctx = request.app.state.ctx
    page = await _page_or_none(request, slug)
    if page is None:
        return _missing(request, None)
    form = await _read_form(request)
    token = form.get("form_token", "")
    language = _token_language(page, token) or _language(request, page, form.get("lang"))
    submission = Submission(
        page=page, form_token=token, agreed=form.get("agree") == "yes",
        ip=request.client.host if request.client else None,
        user_agent=(request.headers.get("user-agent") or "")[:512] or None,
    )
    number = form.get("number", "").strip()
    via = form.get("via", "number")
    try:
        if via == "number":
            sent = await request_by_number(ctx, request.app.state.channels, submission, number)
            return _sent_page(request, page, sent, embed=embed)
        agreement = await run_in_threadpool(agree_without_number, ctx, submission)
    except BotschaftError as error:
        return await _form(request, page, language, embed=embed, error=error, number=number)
    only = ChannelKind(via) if via in {c.value for c in page.channels} else None
    links = chat_links(ctx, page, agreement.code, only=only)
    return _page(request, "join/chat.html", agreement.language, embed=embed, page=page,
                 links=links, code=agreement.code, word=opt_in_word(ctx),
                 hours=ctx.settings.double_opt_in_expiry_hours)


@router.get("/{slug}/qr/{code}.svg", include_in_schema=False)
async def join_qr_svg(request: Request, slug: str, code: str, channel: ChannelKind) -> Response:
    """The QR code of an agreement's click-to-chat link, as SVG."""
    return await _qr(request, slug, code, channel, "svg")


@router.get("/{slug}/qr/{code}.png", include_in_schema=False)
async def join_qr_png(request: Request, slug: str, code: str, channel: ChannelKind) -> Response:
    """The QR code of an agreement's click-to-chat link, as PNG."""
    return await _qr(request, slug, code, channel, "png")


async def _qr(request: Request, slug: str, code: str, channel: ChannelKind, kind: str
              ) -> Response:
    ctx = request.app.state.ctx
    page = await run_in_threadpool(get_page, ctx, slug)
    await run_in_threadpool(open_agreement, ctx, page, code)
    link = next((item for item in chat_links(ctx, page, code) if item.channel is channel), None)
    if link is None or link.url is None:
        raise QrUnavailable(f"There is no {channel.value} link on this page to show as a QR code.")
    return qr_response(link.url, kind)


async def _page_or_none(request: Request, slug: str) -> SignupPageView | None:
    try:
        return await run_in_threadpool(get_page, request.app.state.ctx, slug)
    except NotFound:
        return None


def _missing(request: Request, lang: str | None) -> HTMLResponse:
    """A page for people, not JSON: the link they followed leads nowhere (any more)."""
    settings = request.app.state.ctx.settings
    header = request.headers.get("accept-language", "")
    offered = (part.split(";")[0].strip() for part in header.split(","))
    language = pick_language(lang, *offered, settings.default_language)
    html = render("missing.html", language, business=settings.business.name,
                  title_key="join.missing_title", lead_key="join.missing_lead")
    return _html(html, language, embed=False, status=404)


async def _form(
    request: Request, page: SignupPageView, language: str, *, embed: bool,
    error: BotschaftError | None = None, number: str = "",
) -> HTMLResponse:
    ctx = request.app.state.ctx
    text_id = page.text_id(language)
    shown = await run_in_threadpool(get_consent_text, ctx, text_id)
    token = sign_form_token(page.slug, text_id, ctx.clock.now(), signing_key(ctx.settings))
    settings = ctx.settings
    html = _render_page(
        "join/form.html", language, page=page, text=shown.draft, form_token=token,
        error=_error_text(error, language, number, page), number=number, embed=embed,
        number_invalid=isinstance(error, InvalidPhoneNumber),
        telegram=ChannelKind.TELEGRAM in page.channels,
        messenger=ChannelKind.MESSENGER in page.channels,
        word=opt_in_word(ctx), hours=settings.double_opt_in_expiry_hours,
        action=f"/join/{page.slug}" + ("?embed=1" if embed else ""),
        business=settings.business.name,
    )
    return _html(html, language, embed=embed, status=error.status if error else 200)


def _sent_page(request: Request, page: SignupPageView, sent: RequestSent, *, embed: bool
               ) -> HTMLResponse:
    ctx = request.app.state.ctx
    if sent.status in ("failed", "skipped"):
        # Recorded, but the message did not go: say so rather than promise one.
        html = _render_page("join/form_failed.html", sent.language, page=page, embed=embed,
                            number=sent.number, business=ctx.settings.business.name)
        return _html(html, sent.language, embed=embed, status=502)
    return _page(request, "join/sent.html", sent.language, embed=embed, page=page,
                 number=sent.number, channel=sent.channel.value, word=opt_in_word(ctx),
                 hours=ctx.settings.double_opt_in_expiry_hours)


def _page(request: Request, template: str, language: str, *, embed: bool, **values: Any
          ) -> HTMLResponse:
    business = request.app.state.ctx.settings.business.name
    html = _render_page(template, language, embed=embed, business=business, **values)
    return _html(html, language, embed=embed)


def _render_page(template: str, language: str, **values: Any) -> str:
    page: SignupPageView = values["page"]
    return render(template, language, page_languages=page.languages, **values)


def _html(html: str, language: str, *, embed: bool, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": _EMBED_POLICY if embed else _PAGE_POLICY,
        "Cache-Control": "no-store",
        "Content-Language": language,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    })


def _error_text(
    error: BotschaftError | None, language: str, number: str, page: SignupPageView
) -> str | None:
    """What went wrong, in the visitor's words and language."""
    if error is None:
        return None
    key = {
        InvalidPhoneNumber: "phone_invalid",
        InvalidFormToken: "form_expired",
        AgreementMissing: "agreement_missing",
    }.get(type(error), "generic")
    if isinstance(error, LimitReached):
        key = f"limit_{error.limit}"
    hours = int(page.limits.number_period.total_seconds() // 3600)
    return translate(language, f"join.error_{key}", number=number, hours=hours)


async def _read_form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormTooLarge("The form is larger than a sign-up form can be.")
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    # The last value wins where a field repeats; each is one line of at most 200 characters.
    return {key: values[-1][:200] for key, values in parsed.items() if values}


def _language(request: Request, page: SignupPageView, chosen: str | None) -> str:
    """The visitor's language among the page's: asked for, else the browser's, else the page's."""
    header = request.headers.get("accept-language", "")
    # "de-CH,de;q=0.9,en;q=0.8": browsers list languages by preference already.
    offered = [part.split(";")[0] for part in header.split(",")]
    for candidate in (chosen, *offered):
        short = (candidate or "").strip().replace("_", "-").split("-")[0].lower()
        if short in page.languages:
            return short
    default = pick_language(request.app.state.ctx.settings.default_language)
    return default if default in page.languages else page.languages[0]


def _token_language(page: SignupPageView, token: str) -> str | None:
    # The text the visitor read decides the answer's language; the token is checked later.
    head = token.split(".", 1)[0]
    return page.language_of(int(head)) if head.isdigit() else None
