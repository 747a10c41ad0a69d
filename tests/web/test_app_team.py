"""The owner's screens: the team, API tokens and the audit log; and everyone's profile."""

from __future__ import annotations

import re

import httpx
import pytest

from admin_login import PASSWORD, create_app_user, log_in, logged_in_client
from botschaft.domain.roles import Role
from botschaft.services.accounts import get_user, list_users
from botschaft.services.api_tokens import Unauthorised, authenticate
from botschaft.services.audit import list_audit
from web_app import RunningApp

SIGNATURE = "\u2013 Anna"  # an en dash, as people sign


def test_the_owner_adds_an_agent_with_a_setup_link_that_works_once(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/settings/users", data=client.form({
            "display_name": "Anna Agent", "email": "anna@sonnenschein.example",
            "role": "agent", "first": "link"}))
    assert answer.status_code == 200
    link = re.search(r'/app/welcome/([A-Za-z0-9_-]+)', answer.text)
    assert link is not None
    with httpx.Client(base_url=running_app.base_url, timeout=10,
                      headers={"Accept-Language": "en"}) as browser:
        form = browser.get(link.group(0))
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        done = browser.post(link.group(0), data={"csrf_token": token.group(1),
                                                 "password": PASSWORD,
                                                 "password_repeat": PASSWORD})
        assert done.status_code == 303
        assert browser.get(link.group(0)).status_code == 404  # spent
    with httpx.Client(base_url=running_app.base_url, timeout=10) as fresh:
        assert log_in(fresh, "anna@sonnenschein.example", PASSWORD).status_code == 303


def test_a_disabled_agent_is_logged_out_at_once(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as agent_client:
        with logged_in_client(running_app, owner) as client:
            answer = client.post(f"/app/settings/users/{agent.id}/disable",
                                 data=client.form({}))
            assert answer.status_code == 303
        assert agent_client.get("/app/").status_code == 303  # to the login page
        assert log_in(agent_client, agent.email, agent.password).status_code == 401
    assert get_user(running_app.ctx, agent.id).disabled_at is not None


def test_the_last_owner_cannot_become_an_agent(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post(f"/app/settings/users/{owner.id}/role",
                             data=client.form({"role": "agent"}))
    assert answer.status_code == 409
    assert [u.role for u in list_users(running_app.ctx)] == [Role.OWNER]


def test_an_agent_sets_their_own_signature_and_language(running_app: RunningApp) -> None:
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        answer = client.post("/app/profile", data=client.form({
            "display_name": "Anna Agent", "signature": SIGNATURE, "language": "de"}))
        assert answer.status_code == 303
        page = client.get(answer.headers["location"]).text
    assert "Dein Profil ist gespeichert." in page  # her language now, not the browser's
    saved = get_user(running_app.ctx, agent.id)
    assert (saved.signature, saved.language) == (SIGNATURE, "de")


def test_a_token_is_shown_once_works_for_the_api_and_stops_when_revoked(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        created = client.post("/app/settings/api-tokens", data=client.form({"name": "Shop"}))
        token = re.search(r'<code id="new-token">(bsk_[^<]+)</code>', created.text)
        assert token is not None
        assert token.group(1) not in client.get("/app/settings/api-tokens").text
        holder = authenticate(running_app.ctx, token.group(1))
        revoked = client.post(f"/app/settings/api-tokens/{holder.id}/revoke",
                              data=client.form({}))
        assert revoked.status_code == 303
    with pytest.raises(Unauthorised):
        authenticate(running_app.ctx, token.group(1))
    actions = [e.action for e in list_audit(running_app.ctx, action_prefix="api_token.")]
    assert actions[:2] == ["api_token.revoked", "api_token.created"]


def test_the_audit_log_shows_who_did_what_to_the_owner_only(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    marketer = create_app_user(running_app.ctx, role=Role.MARKETER)
    with logged_in_client(running_app, owner) as client:
        page = client.get("/app/settings/audit-log", params={"group": "user."}).text
    assert "user.created" in page and "Olga Owner" in page and "marketer@" in page
    with logged_in_client(running_app, marketer) as client:
        assert client.get("/app/settings/audit-log").status_code == 403
        assert client.get("/app/settings/api-tokens").status_code == 403
        assert client.get("/app/settings/users").status_code == 403
