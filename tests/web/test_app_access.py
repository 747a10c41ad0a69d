"""The admin app's door: first-run setup, login, logout, roles and CSRF, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from admin_login import PASSWORD, AppClient, create_app_user, csrf_on, log_in, logged_in_client
from botschaft.domain.roles import Role
from botschaft.services.accounts import list_users
from botschaft.services.audit import list_audit
from web_app import RunningApp


def _client(app: RunningApp) -> httpx.Client:
    return httpx.Client(base_url=app.base_url, timeout=10, headers={"Accept-Language": "en"})


def test_the_first_visit_is_sent_to_setup_and_setup_logs_the_owner_in(
    running_app: RunningApp,
) -> None:
    with _client(running_app) as client:
        assert client.get("/app/").headers["location"].startswith("/app/login")
        assert client.get("/app/login").headers["location"] == "/app/setup"
        form = client.get("/app/setup")
        assert form.status_code == 200
        done = client.post("/app/setup", data={
            "csrf_token": csrf_on(form.text), "email": "Olga@Sonnenschein.example",
            "display_name": "Olga", "password": PASSWORD, "password_repeat": PASSWORD,
            "language": "en",
        })
        assert done.status_code == 303
        home = client.get("/app/")
    assert home.status_code == 200
    assert "Hello, Olga" in home.text
    [owner] = list_users(running_app.ctx)
    assert (owner.email, owner.role) == ("olga@sonnenschein.example", Role.OWNER)


def test_setup_is_refused_once_an_owner_exists(running_app: RunningApp) -> None:
    create_app_user(running_app.ctx, role=Role.OWNER)
    with _client(running_app) as client:
        assert client.get("/app/setup").headers["location"] == "/app/login"
        form = client.get("/app/login")
        again = client.post("/app/setup", data={
            "csrf_token": csrf_on(form.text), "email": "mallory@example.org",
            "display_name": "Mallory", "password": PASSWORD, "password_repeat": PASSWORD,
        })
    assert again.headers["location"] == "/app/login"
    assert [u.email for u in list_users(running_app.ctx)] == ["owner@sonnenschein.example"]


def test_a_weak_setup_password_is_refused_with_the_rule_in_the_browsers_language(
    running_app: RunningApp,
) -> None:
    with _client(running_app) as client:
        form = client.get("/app/setup", headers={"Accept-Language": "de-DE,de;q=0.9"})
        answer = client.post("/app/setup", headers={"Accept-Language": "de-DE"}, data={
            "csrf_token": csrf_on(form.text), "email": "olga@sonnenschein.example",
            "display_name": "Olga", "password": "kurz", "password_repeat": "kurz",
        })
    assert answer.status_code == 422
    assert "mindestens 12 Zeichen" in answer.text
    assert list_users(running_app.ctx) == []


def test_a_wrong_password_gets_the_same_answer_as_an_unknown_address(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with _client(running_app) as client:
        wrong = log_in(client, owner.email, "not the password at all")
        unknown = log_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "The e-mail address or the password is wrong." in wrong.text
    assert "botschaft_session" not in wrong.headers.get("set-cookie", "")


def test_the_session_cookie_is_http_only_and_same_site_lax(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with _client(running_app) as client:
        answer = log_in(client, owner.email, owner.password)
    cookie = answer.headers["set-cookie"].lower()
    assert "botschaft_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http on loopback; https requests get Secure


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/logout", data={})
        assert answer.status_code == 403
        assert "nothing was changed" in answer.text
        wrong = client.post("/app/logout", data={"csrf_token": "guessed"})
        assert wrong.status_code == 403
        assert client.get("/app/").status_code == 200  # still logged in


def test_a_post_from_another_site_is_refused_even_with_the_token(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/logout", data=client.form({}),
                             headers={"Origin": "https://evil.example"})
        assert answer.status_code == 403
        assert client.get("/app/").status_code == 200


def test_logout_ends_the_session_on_the_server(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        token = client.cookies["botschaft_session"]
        assert client.post("/app/logout", data=client.form({})).status_code == 303
    with AppClient(base_url=running_app.base_url, timeout=10) as replay:
        replay.cookies.set("botschaft_session", token)
        assert replay.get("/app/").status_code == 303
    actions = [entry.action for entry in list_audit(running_app.ctx)]
    assert actions[:2] == ["user.logged_out", "user.logged_in"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.MARKETER])
def test_only_the_owner_opens_the_settings(running_app: RunningApp, role: Role) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    other = create_app_user(running_app.ctx, role=role)
    with logged_in_client(running_app, other) as client:
        answer = client.get("/app/settings")
        assert answer.status_code == 403
        assert "Your role does not include this page." in answer.text
    with logged_in_client(running_app, owner) as client:
        assert client.get("/app/settings").status_code == 200


def test_an_unknown_page_of_the_app_is_a_page_not_json(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.get("/app/no-such-screen")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")


def test_every_page_of_the_app_forbids_framing_and_foreign_scripts(
    running_app: RunningApp,
) -> None:
    with _client(running_app) as client:
        policy = client.get("/app/setup").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy


def test_behind_an_https_proxy_the_session_cookie_is_secure(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    # uvicorn trusts X-Forwarded-Proto from loopback, as from a reverse proxy on the host.
    # The client keeps Secure cookies from plain http, so the test carries the cookie itself.
    proxied = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=running_app.base_url, timeout=10, headers=proxied) as client:
        form = client.get("/app/login")
        pre_login = form.headers["set-cookie"]
        assert "secure" in pre_login.lower()
        answer = client.post(
            "/app/login", headers={"Cookie": pre_login.split(";")[0]},
            data={"email": owner.email, "password": owner.password,
                  "csrf_token": csrf_on(form.text)})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "botschaft_session=" in cookie and "secure" in cookie


def test_a_script_may_send_the_csrf_token_as_a_header(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/logout", headers={"X-CSRF-Token": client.csrf})
    assert answer.status_code == 303
