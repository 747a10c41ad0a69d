"""The preference page at ``/p/<token>``: no login, the signed link is the key.

Server-rendered and free of scripts, so it works in every browser and in a messenger's
in-app browser. The routes only read the form and the request's evidence; every change is a
use case of ``services.preferences``, which writes the ledger.

A POST must carry a form field signed for the link (so only a page we rendered can post it)
and, where the browser says so, come from our own site: a page elsewhere cannot change
anyone's preferences, even with a link it learnt.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import ConsentConflict, NotFound
from botschaft.domain.preference_token import InvalidPreferenceLink, read_preference_token
from botschaft.i18n import LANGUAGES, pick_language, translate
from botschaft.services import preferences as use_cases
from botschaft.services.context import Context
from botschaft.services.preferences import (
    PAUSE_WEEKS,
    Changed,
    Evidence,
    InvalidChoice,
    Preferences,
    switch_targets,
)
from botschaft.services.secret import signing_key
from botschaft.settings import Settings
from botschaft.web.pages import asset_response, render

log = logging.getLogger(__name__)

router = APIRouter(tags=["preferences"])

# No scripts, no frames around us (a framed page could trick a click), only our own styles.
_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _POLICY,
    "Cache-Control": "no-store",
    # The link is the key: it must never travel to another site in a Referer header.
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
_MAX_FORM = 2048  # bytes; the page's forms send a few dozen
_MAX_USER_AGENT = 512
# Dates as people of each language write them ("Montag, 16. März 2026").
_DATE_LOCALES = {"de": "de_DE", "en": "en_GB"}


@router.get("/p/{token}", response_class=HTMLResponse, include_in_schema=False)
async def preference_page(request: Request, token: str, lang: str | None = None) -> Response:
    """The person's preferences on the link's channel, with every choice open to them."""
    ctx: Context = request.app.state.ctx
    try:
        contact_id, channel = read_preference_token(token, _key(request))
        current = await run_in_threadpool(use_cases.preferences_of, ctx, contact_id, channel)
    except (InvalidPreferenceLink, NotFound):
        return _problem(request, lang, "invalid", 404)
    return _page(request, token, current, _language(request, lang, current.language))


@router.post("/p/{token}", response_class=HTMLResponse, include_in_schema=False)
async def preference_choice(request: Request, token: str) -> Response:
    """Record one choice from the page's forms and show what changed."""
    form = await _form(request)
    chosen_lang = form.get("lang")
    try:
        contact_id, channel = read_preference_token(token, _key(request))
    except InvalidPreferenceLink:
        return _problem(request, chosen_lang, "invalid", 404)
    if not _same_site(request) or not hmac.compare_digest(
        form.get("check", ""), form_check(token, _key(request))
    ):
        log.info("preference form refused", extra={"contact_id": contact_id,
                                                   "channel": channel.value})
        return _problem(request, chosen_lang, "refused", 403)
    ctx: Context = request.app.state.ctx
    evidence = Evidence(
        ip=request.client.host if request.client else None,
        user_agent=(request.headers.get("user-agent") or "")[:_MAX_USER_AGENT] or None,
    )
    enabled = request.app.state.channels.enabled()
    try:
        action = _action(form.get("choice", ""), ctx, contact_id=contact_id, channel=channel,
                         evidence=evidence, enabled=enabled)
        changed = await run_in_threadpool(action)
    except NotFound:
        return _problem(request, chosen_lang, "invalid", 404)
    except (InvalidChoice, ConsentConflict) as exc:
        # A page left open in another tab, or a hand-made form: say so and show the truth.
        current = await run_in_threadpool(use_cases.preferences_of, ctx, contact_id, channel)
        language = _language(request, chosen_lang, current.language)
        return _page(request, token, current, language, failed=True, status=exc.status)
    language = _language(request, chosen_lang, changed.preferences.language)
    return _page(request, token, changed.preferences, language, changed=changed)


@router.get("/preferences/static/{name}", include_in_schema=False)
async def preference_asset(name: str) -> Response:
    """The preference page's style sheet."""
    return asset_response("preferences", name)


def form_check(token: str, key: bytes) -> str:
    """The hidden field that proves a POST comes from a form we rendered for this link."""
    message = f"preference-form:{token}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _action(
    choice: str, ctx: Context, *, contact_id: int, channel: ChannelKind, evidence: Evidence,
    enabled: list[ChannelKind],
) -> Callable[[], Changed]:
    """The use case a form's ``choice`` value names (``pause:2``, ``limit:1``, ``withdraw``…)."""
    name, _, value = choice.partition(":")
    if name == "pause" and value.isdigit():
        return lambda: use_cases.pause(ctx, contact_id, channel, int(value), evidence)
    if name == "limit" and value.isdigit():
        return lambda: use_cases.limit(ctx, contact_id, channel, int(value), evidence)
    if name == "switch" and value in {c.value for c in ChannelKind}:
        target = ChannelKind(value)
        return lambda: use_cases.switch_channel(
            ctx, contact_id, channel, target, evidence, enabled=enabled
        )
    simple = {
        "resume": use_cases.resume,
        "unlimit": use_cases.lift_limit,
        "withdraw": use_cases.withdraw,
    }
    if name in simple and not value:
        return lambda: simple[name](ctx, contact_id, channel, evidence)
    raise InvalidChoice(f"{choice!r} is not a choice of this page.")


def _page(
    request: Request, token: str, current: Preferences, language: str, *,
    changed: Changed | None = None, failed: bool = False, status: int = 200,
) -> HTMLResponse:
    settings = request.app.state.settings
    wording = _Wording(language, current)
    targets = switch_targets(current.channel, request.app.state.channels.enabled())
    html = render(
        "preferences/page.html", language,
        business=settings.business.name,
        privacy_url=settings.business.privacy_policy_url,
        prefs=current,
        standing=current.standing.value,
        channel=wording.channel(current.channel),
        address=_masked(current),
        paused_until=wording.date(current.paused_until),
        allowance=wording.allowance(min(current.max_per_period or current.cap, current.cap)),
        usual=wording.allowance(current.cap),
        fewer=[(n, wording.allowance(n)) for n in current.fewer_choices],
        weeks=PAUSE_WEEKS,
        targets=[(t.value, wording.channel(t), _chat_link(request, t)) for t in targets],
        changed=changed,
        changed_target=wording.channel(changed.target) if changed and changed.target else "",
        changed_link=_chat_link(request, changed.target) if changed and changed.target else "",
        failed=failed,
        check=form_check(token, _key(request)),
        stop_word=_stop_word(settings),
        start_word=(settings.keywords.opt_in or ["START"])[0].upper(),
    )
    return _html(html, language, status)


def _problem(request: Request, chosen: str | None, problem: str, status: int) -> HTMLResponse:
    language = _language(request, chosen, None)
    settings = request.app.state.settings
    html = render("preferences/problem.html", language, business=settings.business.name,
                  problem=problem, stop_word=_stop_word(settings))
    return _html(html, language, status)


def _html(html: str, language: str, status: int) -> HTMLResponse:
    return HTMLResponse(html, status_code=status,
                        headers={**_HEADERS, "Content-Language": language})


class _Wording:
    """Channel names, dates and message counts in the page's language."""

    def __init__(self, language: str, current: Preferences) -> None:
        self.language = language
        self.current = current

    def t(self, key: str, **values: Any) -> str:
        return translate(self.language, key, **values)

    def channel(self, kind: ChannelKind) -> str:
        return self.t(f"preferences.channel_{kind.value}")

    def date(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone(ZoneInfo(self.current.time_zone))
        return format_date(local.date(), "full", locale=_DATE_LOCALES[self.language])

    def allowance(self, count: int) -> str:
        """"2 messages a week", or per the cap period when that is not a week."""
        days = self.current.cap_period_days
        unit = "week" if days == 7 else "days"
        number = "one" if count == 1 else "many"
        return self.t(f"preferences.per_{unit}_{number}", count=count, days=days)


def _stop_word(settings: Settings) -> str:
    return (settings.keywords.opt_out or ["STOP"])[0].upper()


def _masked(current: Preferences) -> str:
    """The end of the person's number, so they recognise it; nothing for other addresses."""
    if not current.channel.addresses_are_phone_numbers or len(current.address) < 8:
        return ""
    return f"{current.address[:3]} ••• {current.address[-3:]}"


def _chat_link(request: Request, channel: ChannelKind) -> str:
    """Where the business can be written to on ``channel``, when the settings say so."""
    settings = request.app.state.settings
    if channel is ChannelKind.TELEGRAM and settings.telegram.bot_username:
        return f"https://t.me/{settings.telegram.bot_username.lstrip('@')}"
    if channel is ChannelKind.MESSENGER and settings.messenger.page_id:
        return f"https://m.me/{settings.messenger.page_id}"
    return ""


def _language(request: Request, chosen: str | None, contact_language: str | None) -> str:
    """The language asked for; else the contact's, if the browser reads it; else the browser's.

    Messages reach the person in the contact's language, so the page follows it wherever
    the browser accepts it too, and otherwise speaks the browser's first language we have.
    """
    if chosen is not None and chosen in LANGUAGES:
        return chosen
    header = request.headers.get("accept-language", "")
    offered = [p.split(";")[0].strip() for p in header.split(",") if p.strip()]
    accepted = {_short(p) for p in offered}
    if contact_language and _short(contact_language) in accepted & set(LANGUAGES):
        return _short(contact_language)
    default = request.app.state.settings.default_language
    return pick_language(*offered, contact_language, default)


def _short(tag: str) -> str:
    """"de" of "de-CH" or "de_DE"."""
    return tag.replace("_", "-").split("-")[0].lower()


def _same_site(request: Request) -> bool:
    """False when the browser says the form was sent from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True  # an old browser or a script: the signed field alone has to do
    public = urlsplit(request.app.state.settings.effective_public_url).netloc
    return urlsplit(origin).netloc in {request.headers.get("host"), public}


async def _form(request: Request) -> dict[str, str]:
    """The form's fields (first value of each); anything oversized or unreadable is empty."""
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=20)
    except ValueError:  # more fields than any of our forms has
        return {}
    return {name: values[0] for name, values in fields.items() if values}


def _key(request: Request) -> bytes:
    # signing_key may read a file; once per app is enough.
    key: bytes | None = getattr(request.app.state, "preference_signing_key", None)
    if key is None:
        key = signing_key(request.app.state.settings)
        request.app.state.preference_signing_key = key
    return key
