"""First-run setup, login, logout, the setup link for new team members, and the home page."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from botschaft.domain.accounts import SetupDone
from botschaft.domain.errors import BotschaftError
from botschaft.i18n import translate
from botschaft.services import accounts
from botschaft.services.app_sessions import end_session, start_session
from botschaft.services.home import home_figures
from botschaft.web.admin.auth import (
    SESSION_COOKIE,
    Ctx,
    User,
    app_router,
    clear_session_cookie,
    read_form,
    set_session_cookie,
    signed_in,
)
from botschaft.web.admin.rendering import app_page, error_text, language_of, public_page, see_other
from botschaft.web.pages import asset_response

router = app_router(tags=["admin app"])


@router.get("/static/{name}")
async def app_asset(name: str) -> Response:
    """The app's style sheet and script."""
    return asset_response("app", name)


@router.get("")
async def app_root() -> Response:
    return see_other("/app/")


@router.get("/")
async def home(request: Request, ctx: Ctx, who: User) -> Response:
    """Where the day starts: what waits in the inbox, contacts, pages."""
    figures = await run_in_threadpool(home_figures, ctx, who.user.id)
    return app_page(request, who, "app/home.html", current="app.nav.home", figures=figures)


@router.get("/setup")
async def setup_form(request: Request, ctx: Ctx) -> Response:
    """The first-run page that creates the owner; once there is one, it is the login."""
    if await run_in_threadpool(accounts.owner_exists, ctx):
        return see_other("/app/login")
    return public_page(request, "app/setup.html", values={}, error=None)


@router.post("/setup")
async def setup_submit(request: Request, ctx: Ctx) -> Response:
    form = await read_form(request)
    values = {k: form.get(k, "") for k in ("email", "display_name", "language")}
    if form.get("password", "") != form.get("password_repeat", ""):
        return _setup_again(request, values, "app.setup.passwords_differ")
    try:
        owner = await run_in_threadpool(
            lambda: accounts.setup_owner(
                ctx, email=values["email"], display_name=values["display_name"],
                password=form.get("password", ""), language=values["language"] or None,
            )
        )
    except BotschaftError as error:
        if isinstance(error, SetupDone):
            return see_other("/app/login")
        language = language_of(request, None)
        return public_page(request, "app/setup.html", status=error.status, values=values,
                           error=error_text(language, error))
    issued = await run_in_threadpool(start_session, ctx, owner)
    response = see_other("/app/", done="setup")
    set_session_cookie(request, response, issued.token)
    return response


@router.get("/login")
async def login_form(request: Request, ctx: Ctx, next: str = "/app/") -> Response:
    if await signed_in(request) is not None:
        return see_other(_safe_next(next))
    if not await run_in_threadpool(accounts.owner_exists, ctx):
        return see_other("/app/setup")
    return public_page(request, "app/login.html", email="", next=_safe_next(next), error=None)


@router.post("/login")
async def login_submit(request: Request, ctx: Ctx) -> Response:
    form = await read_form(request)
    email, target = form.get("email", ""), _safe_next(form.get("next", "/app/"))
    try:
        user = await run_in_threadpool(accounts.authenticate, ctx, email,
                                       form.get("password", ""))
    except BotschaftError as error:
        language = language_of(request, None)
        return public_page(request, "app/login.html", status=error.status, email=email,
                           next=target, error=error_text(language, error))
    issued = await run_in_threadpool(start_session, ctx, user)
    response = see_other(target)
    set_session_cookie(request, response, issued.token)
    return response


@router.post("/logout")
async def logout(request: Request, ctx: Ctx) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await run_in_threadpool(end_session, ctx, token)
    response = see_other("/app/login", done="logged_out")
    clear_session_cookie(request, response)
    return response


@router.get("/welcome/{token}")
async def setup_link_form(request: Request, ctx: Ctx, token: str) -> Response:
    """A new team member's one-time link: choose the first password."""
    person = await run_in_threadpool(accounts.user_for_setup_link, ctx, token)
    return public_page(request, "app/welcome.html", person=person, token=token, error=None)


@router.post("/welcome/{token}")
async def setup_link_submit(request: Request, ctx: Ctx, token: str) -> Response:
    form = await read_form(request)
    person = await run_in_threadpool(accounts.user_for_setup_link, ctx, token)
    language = language_of(request, None)
    password = form.get("password", "")
    try:
        if password != form.get("password_repeat", ""):
            return public_page(request, "app/welcome.html", status=422, person=person,
                               token=token, error=translate(language, "app.setup.passwords_differ"))
        user = await run_in_threadpool(accounts.complete_setup_link, ctx, token, password)
    except BotschaftError as error:
        return public_page(request, "app/welcome.html", status=error.status, person=person,
                           token=token, error=error_text(language, error))
    issued = await run_in_threadpool(start_session, ctx, user)
    response = see_other("/app/profile", done="welcome")
    set_session_cookie(request, response, issued.token)
    return response


def _setup_again(request: Request, values: dict[str, str], key: str) -> Response:
    language = language_of(request, None)
    return public_page(request, "app/setup.html", status=422, values=values,
                       error=translate(language, key))


def _safe_next(target: str) -> str:
    # Only a path of the app: a crafted link must not send a fresh login to another site.
    if target.startswith("/app/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/app/"
