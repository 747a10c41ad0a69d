"""People of the admin app for tests: create a user and log an HTTP client or a browser in.

Reusable by every screen's tests::

    from admin_login import AppUser, create_app_user, logged_in_client, log_in_page

    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        client.get("/app/").raise_for_status()
        client.post("/app/...", data=client.form({"field": "value"}))  # adds the CSRF token

    log_in_page(page, running_app, owner)  # a Playwright page, through the login form
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from botschaft.domain.roles import Role
from botschaft.services.accounts import (
    UserView,
    create_user,
    list_users,
    owner_exists,
    setup_owner,
)
from botschaft.services.context import Context
from web_app import RunningApp

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass(frozen=True)
class AppUser:
    user: UserView
    email: str
    password: str

    @property
    def id(self) -> int:
        return self.user.id


def create_app_user(
    ctx: Context, *, role: Role = Role.OWNER, email: str | None = None,
    name: str | None = None, password: str = PASSWORD,
) -> AppUser:
    """A user with a password, made through the product's own use cases.

    The first owner comes from the first-run setup; everyone else is created by that owner
    (who is made on the way when there is none yet).
    """
    address = email or f"{role.value}@sonnenschein.example"
    display = name or {"owner": "Olga Owner", "marketer": "Mara Marketing",
                       "agent": "Anna Agent"}[role.value]
    if role is Role.OWNER and not owner_exists(ctx):
        user = setup_owner(ctx, email=address, display_name=display, password=password)
        return AppUser(user, address, password)
    if not owner_exists(ctx):
        setup_owner(ctx, email="owner@sonnenschein.example", display_name="Olga Owner",
                    password=PASSWORD)
    owner = next(u for u in list_users(ctx) if u.role is Role.OWNER)
    created = create_user(ctx, owner.id, email=address, display_name=display, role=role,
                          password=password)
    return AppUser(created.user, address, password)


class AppClient(httpx.Client):
    """An HTTP client with a session cookie; ``form`` adds the session's CSRF token."""

    csrf: str = ""

    def form(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {**fields, "csrf_token": self.csrf}

    def refresh_csrf(self, path: str = "/app/") -> str:
        page = self.get(path)
        found = _META.search(page.text)
        assert found is not None, page.text
        self.csrf = found.group(1)
        return self.csrf


def log_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    """Post the login form as a browser does (first GET for the pre-login CSRF token)."""
    form = client.get("/app/login")
    token = csrf_on(form.text)
    return client.post("/app/login", data={"email": email, "password": password,
                                           "csrf_token": token, "next": "/app/"})


def csrf_on(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, html
    return found.group(1)


@contextmanager
def logged_in_client(app: RunningApp, who: AppUser) -> Iterator[AppClient]:
    """An ``AppClient`` logged in as ``who``, asking for English; redirects are not followed."""
    with AppClient(base_url=app.base_url, timeout=10, headers={"Accept-Language": "en"}) as client:
        answer = log_in(client, who.email, who.password)
        assert answer.status_code == 303, answer.text
        client.refresh_csrf()
        yield client


def log_in_page(page: Any, app: RunningApp, who: AppUser) -> None:
    """Log a Playwright page in through the login form; it ends on the app's home page."""
    page.goto(f"{app.base_url}/app/login")
    page.locator('input[name="email"]').fill(who.email)
    page.locator('input[name="password"]').fill(who.password)
    page.locator('form[action="/app/login"] button[type="submit"]').click()
    page.wait_for_url(re.compile(r".*/app/$"))
