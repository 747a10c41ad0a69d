"""Sign-up pages in the admin app: the same rules as the API, snippets, taking a page down."""

from __future__ import annotations

from admin_login import create_app_user, logged_in_client
from botschaft.domain.roles import Role
from botschaft.services.audit import list_audit
from botschaft.services.signup import list_pages
from signup_visitor import Visitor, publish_texts
from web_app import RunningApp

FORM = {"title": "Reiseangebote", "slug": "angebote", "channels": "sandbox",
        "consent_text_key": "newsletter", "whatsapp_template": "double_opt_in",
        "requests_per_number": "1", "number_period_hours": "24", "submissions_per_ip": "10",
        "ip_period_minutes": "60"}


def test_a_marketer_creates_a_page_that_is_served_at_its_address(
    running_app: RunningApp,
) -> None:
    publish_texts(running_app.ctx)
    marketer = create_app_user(running_app.ctx, role=Role.MARKETER)
    with logged_in_client(running_app, marketer) as client:
        created = client.post("/app/signup-pages", data=client.form(FORM))
        assert created.status_code == 303
        shown = client.get(created.headers["location"])
        qr = client.get(created.headers["location"].split("?")[0] + "/qr.svg")
    assert "The sign-up page is online." in shown.text
    assert f"{running_app.ctx.settings.effective_public_url}/join/angebote" in shown.text
    assert "&lt;iframe" in shown.text and "&lt;form" in shown.text
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert Visitor(running_app.base_url).open("angebote").status_code == 200
    entry = list_audit(running_app.ctx, action_prefix="signup_page.")[0]
    assert (entry.action, entry.actor_id) == ("signup_page.created", marketer.id)


def test_a_page_the_rules_refuse_keeps_the_form_and_says_why(running_app: RunningApp) -> None:
    publish_texts(running_app.ctx)
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/signup-pages", data=client.form(
            {**FORM, "slug": "Nicht Gültig!"}))
    assert answer.status_code == 422
    assert "The page was not created:" in answer.text
    assert 'value="Reiseangebote"' in answer.text
    assert list_pages(running_app.ctx) == []


def test_a_page_taken_down_is_no_longer_served(running_app: RunningApp) -> None:
    publish_texts(running_app.ctx)
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        created = client.post("/app/signup-pages", data=client.form(FORM))
        location = created.headers["location"].split("?")[0]
        answer = client.post(location + "/deactivate", data=client.form({}))
        assert answer.status_code == 303
    assert Visitor(running_app.base_url).open("angebote").status_code == 404
    assert list_audit(running_app.ctx)[0].action == "signup_page.deactivated"


def test_an_agent_may_not_open_the_sign_up_pages(running_app: RunningApp) -> None:
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        assert client.get("/app/signup-pages").status_code == 403
        assert client.post("/app/signup-pages", data=client.form(FORM)).status_code == 403
