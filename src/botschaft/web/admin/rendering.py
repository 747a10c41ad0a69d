"""Pages of the app: the frame (navigation, language, CSRF field, CSP) around each screen.

``app_page`` draws a screen for the signed-in person in their language; ``public_page``
draws the login and setup pages. Errors under ``/app/`` become pages too, never JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from botschaft.domain.errors import BotschaftError
from botschaft.i18n import catalogue, translate
from botschaft.services.app_sessions import SignedIn
from botschaft.web.admin.auth import (
    CSRF_FIELD,
    LoginRequired,
    csrf_token,
    set_cookies,
)
from botschaft.web.admin.navigation import entries_for
from botschaft.web.pages import page_language, render

# Our own scripts and styles only; no page of the app may be framed (clickjacking).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_DATE_TIME = {"de": "d. MMM yyyy, HH:mm", "en": "d MMM yyyy, HH:mm"}
# How states and ledger events look in lists and timelines (a badge's or a dot's class).
STATUS_CLASS = {"active": "ok", "pending": "warning", "withdrawn": "danger",
                "expired": "muted", "none": "muted"}
KIND_CLASS = {"confirmed": "ok", "granted": "ok", "imported": "ok", "requested": "info",
              "withdrawn": "danger", "expired": "warning", "paused": "info", "limited": "info"}
HEADERS = {
    "Content-Security-Policy": POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}


def language_of(request: Request, who: SignedIn | None) -> str:
    """The person's chosen language, else the browser's (else the installation's default)."""
    chosen = who.user.language if who is not None else request.query_params.get("lang")
    return page_language(request, chosen)


def app_page(
    request: Request, who: SignedIn, template: str, *, status: int = 200,
    current: str | None = None, **values: Any,
) -> HTMLResponse:
    """A screen of the app for ``who``; ``current`` is the navigation key to mark."""
    language = language_of(request, who)
    html = render(
        template, language, who=who, user=who.user, nav=entries_for(who.user.role),
        current=current, csrf=csrf_token(request), csrf_input=_csrf_input(request),
        notice=_notice(request, language), when=_when_formatter(request, language),
        business=request.app.state.settings.business.name, status_class=STATUS_CLASS,
        kind_class=KIND_CLASS, text_or=_text_or(language), **values,
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def public_page(request: Request, template: str, *, status: int = 200,
                **values: Any) -> HTMLResponse:
    """The login, setup and error pages for someone not signed in."""
    language = language_of(request, None)
    html = render(
        template, language, who=None, user=None, nav=(), current=None,
        csrf=csrf_token(request), csrf_input=_csrf_input(request),
        notice=_notice(request, language),
        when=_when_formatter(request, language),
        business=request.app.state.settings.business.name, **values,
    )
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    set_cookies(request, response)
    return response


def see_other(url: str, *, done: str | None = None) -> RedirectResponse:
    """After a successful POST: to ``url``, with a notice key the next page shows."""
    target = url if done is None else f"{url}{'&' if '?' in url else '?'}done={quote(done)}"
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def error_text(language: str, error: BotschaftError) -> str:
    """What a person reads about ``error``: its own text, else its translation by code,
    else its (English) message."""
    if error.key is not None:
        return translate(language, error.key, **error.values)
    translated = catalogue(language).get(f"app.error.{error.code}")
    return translated or error.message


def error_page(request: Request, error: BotschaftError) -> Response:
    """Any error of a request under ``/app/`` as a page in the person's language."""
    if isinstance(error, LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/app/login?next={quote(target)}", status_code=303)
    who: SignedIn | None = getattr(request.state, "signed_in", None)
    language = language_of(request, who)
    values: dict[str, Any] = {"error": error, "message": error_text(language, error),
              "heading": translate(language, _heading(error.status))}
    if who is not None:
        return app_page(request, who, "app/error.html", status=error.status, **values)
    return public_page(request, "app/error.html", status=error.status, **values)


def _heading(status: int) -> str:
    return {403: "app.error.heading_forbidden", 404: "app.error.heading_not_found"}.get(
        status, "app.error.heading")


def _text_or(language: str) -> Any:
    """``text_or(key, fallback)`` for templates: a translation where one exists (e.g. the
    audit log's action names, which other areas add to), else the fallback."""
    texts = catalogue(language)

    def text_or(key: str, fallback: str) -> str:
        return texts.get(key) or fallback

    return text_or


def _csrf_input(request: Request) -> Markup:
    """The hidden field every form of the app carries (``auth.check_csrf`` reads it)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, csrf_token(request))


def _notice(request: Request, language: str) -> str | None:
    done = request.query_params.get("done", "")
    # Only our own keys: a link elsewhere cannot make the page say something it chose.
    return catalogue(language).get(f"app.done.{done}") if done.isidentifier() else None


def _when_formatter(request: Request, language: str) -> Any:
    zone = ZoneInfo(request.app.state.settings.default_time_zone)

    pattern = _DATE_TIME.get(language, _DATE_TIME["en"])

    def when(moment: datetime | None) -> str:
        if moment is None:
            return "\u2013"  # an en dash: no time
        return format_datetime(moment.astimezone(zone), pattern, locale=language)

    return when
