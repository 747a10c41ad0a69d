"""The team (owner only): add people with a first password or a setup link, change roles,
disable; and each person's own profile (name, language, reply signature, password)."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from botschaft.domain.errors import BotschaftError
from botschaft.domain.roles import Role, parse_role
from botschaft.services import accounts
from botschaft.web.admin.auth import Ctx, Owner, User, app_router, read_form
from botschaft.web.admin.rendering import app_page, error_text, language_of, see_other

router = app_router(tags=["admin app"])
USERS = "/app/settings/users"


class PasswordsDiffer(BotschaftError):
    code = "passwords_differ"
    status = 422


class UnknownRole(BotschaftError):
    code = "role_unknown"
    status = 422


@router.get("/settings/users")
async def users(request: Request, ctx: Ctx, who: Owner) -> Response:
    return await _users_page(request, ctx, who)


@router.post("/settings/users")
async def add_user(request: Request, ctx: Ctx, who: Owner) -> Response:
    form = await read_form(request)
    values = {k: form.get(k, "").strip() for k in ("email", "display_name", "role", "first")}
    try:
        role = _role(values["role"])
        password = form.get("password", "") if values["first"] == "password" else None
        created = await run_in_threadpool(lambda: accounts.create_user(
            ctx, who.user.id, email=values["email"], display_name=values["display_name"],
            role=role, password=password))
    except BotschaftError as error:
        return await _users_page(request, ctx, who, status=error.status, values=values,
                                 error=error_text(language_of(request, who), error))
    link = (f"{ctx.settings.effective_public_url}/app/welcome/{created.setup_token}"
            if created.setup_token else None)
    return await _users_page(request, ctx, who, created=created.user, setup_link=link)


@router.post("/settings/users/{user_id}/role")
async def change_role(request: Request, ctx: Ctx, who: Owner, user_id: int) -> Response:
    form = await read_form(request)
    try:
        await run_in_threadpool(accounts.change_role, ctx, who.user.id, user_id,
                                _role(form.get("role", "")))
    except BotschaftError as error:
        return await _users_page(request, ctx, who, status=error.status,
                                 error=error_text(language_of(request, who), error))
    return see_other(USERS, done="role_changed")


@router.post("/settings/users/{user_id}/disable")
async def disable(request: Request, ctx: Ctx, who: Owner, user_id: int) -> Response:
    try:
        await run_in_threadpool(accounts.disable_user, ctx, who.user.id, user_id)
    except BotschaftError as error:
        return await _users_page(request, ctx, who, status=error.status,
                                 error=error_text(language_of(request, who), error))
    return see_other(USERS, done="user_disabled")


@router.post("/settings/users/{user_id}/setup-link")
async def new_setup_link(request: Request, ctx: Ctx, who: Owner, user_id: int) -> Response:
    """A fresh setup link for someone who forgot their password (shown on this answer only)."""
    token = await run_in_threadpool(accounts.issue_setup_link, ctx, who.user.id, user_id)
    person = await run_in_threadpool(accounts.get_user, ctx, user_id)
    link = f"{ctx.settings.effective_public_url}/app/welcome/{token}"
    return await _users_page(request, ctx, who, created=person, setup_link=link)


@router.post("/settings/users/{user_id}/enable")
async def enable(ctx: Ctx, who: Owner, user_id: int) -> Response:
    await run_in_threadpool(accounts.enable_user, ctx, who.user.id, user_id)
    return see_other(USERS, done="user_enabled")


@router.get("/profile")
async def profile(request: Request, who: User) -> Response:
    return _profile_page(request, who)


@router.post("/profile")
async def save_profile(request: Request, ctx: Ctx, who: User) -> Response:
    form = await read_form(request)
    try:
        await run_in_threadpool(lambda: accounts.update_profile(
            ctx, who.user.id, display_name=form.get("display_name", ""),
            language=form.get("language") or None, signature=form.get("signature", "")))
    except BotschaftError as error:
        return _profile_page(request, who, status=error.status,
                             error=error_text(language_of(request, who), error))
    return see_other("/app/profile", done="profile_saved")


@router.post("/profile/password")
async def change_password(request: Request, ctx: Ctx, who: User) -> Response:
    form = await read_form(request)
    try:
        if form.get("new_password", "") != form.get("new_password_repeat", ""):
            raise PasswordsDiffer("The two new passwords differ.")
        await run_in_threadpool(accounts.change_password, ctx, who.user.id,
                                form.get("current_password", ""), form.get("new_password", ""))
    except BotschaftError as error:
        return _profile_page(request, who, status=error.status,
                             password_error=error_text(language_of(request, who), error))
    return see_other("/app/profile", done="password_changed")


def _role(value: str) -> Role:
    role = parse_role(value)
    if role is None:
        raise UnknownRole("Choose owner, marketer or agent.")
    return role


async def _users_page(request: Request, ctx: Ctx, who: Owner, *, status: int = 200,
                      values: dict[str, str] | None = None, error: str | None = None,
                      created: accounts.UserView | None = None,
                      setup_link: str | None = None) -> Response:
    people = await run_in_threadpool(accounts.list_users, ctx)
    return app_page(request, who, "app/users.html", status=status, current="app.nav.settings",
                    people=people, values=values or {"role": "agent", "first": "link"},
                    error=error, created=created, setup_link=setup_link, roles=list(Role))


def _profile_page(request: Request, who: User, *, status: int = 200, error: str | None = None,
                  password_error: str | None = None) -> Response:
    return app_page(request, who, "app/profile.html", status=status, current="app.nav.profile",
                    error=error, password_error=password_error)
