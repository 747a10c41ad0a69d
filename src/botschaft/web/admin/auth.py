"""Who is asking, and may they: the session cookie, roles and CSRF for every ``/app/`` route.

Build a screen's router with ``app_router()``: every POST, PUT, PATCH or DELETE on it must
then carry the CSRF token (the hidden ``csrf_token`` field that ``rendering`` puts in each
form, or the ``X-CSRF-Token`` header for scripts); a missing or wrong one is a 403 page.
Routes take ``current_user`` or ``require_role(...)`` as dependencies; a visitor without a
session is sent to the login page, a person with the wrong role gets the 403 page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from botschaft.domain.errors import BotschaftError
from botschaft.domain.roles import Area, Role, allows
from botschaft.services.app_sessions import SignedIn, resolve_session
from botschaft.services.context import Context
from botschaft.services.secret import signing_key

SESSION_COOKIE = "botschaft_session"
# Before login there is no session to hold the CSRF secret: a random cookie does, and forms
# carry its HMAC (a site elsewhere can neither read the cookie nor compute the field).
PRE_LOGIN_COOKIE = "botschaft_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 65_536
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(BotschaftError):
    code = "login_required"
    status = 401


class Forbidden(BotschaftError):
    code = "forbidden"
    status = 403


class CsrfRejected(BotschaftError):
    code = "csrf_rejected"
    status = 403


class UnsupportedForm(BotschaftError):
    code = "form_unsupported"
    status = 415


class FormTooLarge(BotschaftError):
    code = "form_too_large"
    status = 413


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def signed_in(request: Request) -> SignedIn | None:
    """The request's live session, or None; looked up once per request."""
    if not hasattr(request.state, "signed_in"):
        token = request.cookies.get(SESSION_COOKIE, "")
        request.state.signed_in = (
            await run_in_threadpool(resolve_session, context(request), token) if token else None
        )
    found: SignedIn | None = request.state.signed_in
    return found


async def current_user(request: Request) -> SignedIn:
    """The signed-in person; without a session the answer is the login page."""
    found = await signed_in(request)
    if found is None:
        raise LoginRequired("Please log in.")
    return found


def require_role(*roles: Role) -> Callable[[Request], Awaitable[SignedIn]]:
    """A dependency that lets only ``roles`` in (others get the 403 page)."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> SignedIn:
        found = await current_user(request)
        if found.user.role not in allowed:
            raise Forbidden("Your role may not open this page.")
        return found

    return dependency


def require_area(area: Area) -> Callable[[Request], Awaitable[SignedIn]]:
    """``require_role`` for the roles that ``domain.roles`` lets into ``area``."""
    return require_role(*(role for role in Role if allows(role, area)))


def csrf_token(request: Request) -> str:
    """The token this request's forms must send back."""
    found: SignedIn | None = getattr(request.state, "signed_in", None)
    if found is not None:
        return found.csrf_secret
    return _pre_login_token(request, pre_login_cookie(request))


def pre_login_cookie(request: Request) -> str:
    """The pre-login cookie's value: the browser's, or a new one ``set_cookies`` will send."""
    value = request.cookies.get(PRE_LOGIN_COOKIE) or getattr(request.state, "new_pre_login", "")
    if not value:
        value = secrets.token_urlsafe(24)
        request.state.new_pre_login = value
    return value


def set_cookies(request: Request, response: Response) -> None:
    """Send the pre-login cookie if this request made one."""
    value = getattr(request.state, "new_pre_login", "")
    if value:
        response.set_cookie(PRE_LOGIN_COOKIE, value, httponly=True, samesite="lax",
                            secure=is_https(request), path="/app")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=is_https(request), path="/app")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/app", httponly=True, samesite="lax",
                           secure=is_https(request))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


async def read_form(request: Request) -> dict[str, str]:
    """The posted form's fields (the last value wins where one repeats)."""
    return {key: values[-1] for key, values in (await read_form_lists(request)).items()}


async def read_form_lists(request: Request) -> dict[str, list[str]]:
    """The posted form's fields with every value (checkboxes of one name)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormTooLarge("The form is larger than any form of Botschaft.")
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values for key, values in parsed.items() if values}


async def check_csrf(request: Request) -> None:
    """Refuse a changing request that does not carry this session's CSRF token."""
    if request.method not in _UNSAFE:
        return
    origin = request.headers.get("origin")
    # A browser names the page a request comes from; another site's page is refused even
    # before the token is looked at.
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise CsrfRejected("This form was sent from another website.")
    sent = await _sent_token(request)
    found = await signed_in(request)
    if found is not None:
        expected = found.csrf_secret
    else:
        cookie = request.cookies.get(PRE_LOGIN_COOKIE, "")
        expected = _pre_login_token(request, cookie) if cookie else ""
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRejected("The form's security token is missing or out of date.")


async def _sent_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            # Starlette parses (and caches for the route) multipart with python-multipart.
            value = (await request.form()).get(CSRF_FIELD)
        except AssertionError:
            raise UnsupportedForm("This Botschaft cannot read file uploads"
                                  " (python-multipart is not installed).") from None
        return value if isinstance(value, str) else ""
    return (await read_form(request)).get(CSRF_FIELD, "")


def app_router(**options: Any) -> APIRouter:
    """A router for screens of the app: under ``/app``, HTML by default, CSRF-checked."""
    return APIRouter(prefix="/app", dependencies=[Depends(check_csrf)],
                     default_response_class=HTMLResponse, include_in_schema=False, **options)


def _pre_login_token(request: Request, cookie: str) -> str:
    key = signing_key(context(request).settings)
    return hmac.new(key, b"app-csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


User = Annotated[SignedIn, Depends(current_user)]
Owner = Annotated[SignedIn, Depends(require_role(Role.OWNER))]
Ctx = Annotated[Context, Depends(context)]
