"""The admin app in Chromium: first-run setup, login, roles, contacts and sign-up pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admin_login import PASSWORD, create_app_user, log_in_page
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentEventKind, ConsentSource
from botschaft.domain.roles import Role
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.contacts import create_contact
from signup_visitor import publish_texts
from web_app import RunningApp

Page = Any  # playwright.sync_api.Page; imported lazily so that the suite skips without it


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_the_first_visit_sets_up_the_owner_who_then_logs_in_again(
    page: Page, running_app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    page.goto(f"{running_app.base_url}/app/")
    expect(page.get_by_role("heading", name="Botschaft einrichten")).to_be_visible()
    page.get_by_label("Dein Name").fill("Olga Sonnenschein")
    page.get_by_label("E-Mail-Adresse").fill("olga@sonnenschein.example")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    page.screenshot(path=str(screenshots / "app-setup.png"), full_page=True)
    page.get_by_role("button", name="Konto anlegen und anmelden").click()

    expect(page.get_by_role("heading", name="Hallo, Olga Sonnenschein")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Botschaft ist eingerichtet")
    page.screenshot(path=str(screenshots / "app-home.png"), full_page=True)

    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    page.get_by_label("E-Mail-Adresse").fill("olga@sonnenschein.example")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.screenshot(path=str(screenshots / "app-login.png"), full_page=True)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Hallo, Olga Sonnenschein")).to_be_visible()


def test_an_agent_who_logs_in_cannot_open_the_owners_settings(
    chromium: Any, running_app: RunningApp, screenshots: Path
) -> None:
    # Its own browser context: the 403 is the point here, and the shared page fixture
    # fails a test on every refused request the browser reports.
    expect = _expect()
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="de-DE")
    try:
        page = context.new_page()
        log_in_page(page, running_app, agent)
        expect(page.get_by_role("navigation", name="Hauptnavigation")).not_to_contain_text(
            "Einstellungen")

        answer = page.goto(f"{running_app.base_url}/app/settings")
        assert answer is not None and answer.status == 403
        expect(page.get_by_role("heading", name="Nicht für deine Rolle")).to_be_visible()
        page.screenshot(path=str(screenshots / "app-forbidden.png"), full_page=True)
    finally:
        context.close()


def test_a_search_leads_to_the_contact_page_with_its_consent_history(
    page: Page, running_app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    ctx = running_app.ctx
    texts = publish_texts(ctx)
    anna = create_contact(ctx, identities=[(ChannelKind.SANDBOX, "0151 23456789")],
                          display_name="Anna Müller")
    create_contact(ctx, identities=[(ChannelKind.TELEGRAM, "5550101")],
                   display_name="Bernd Beispiel")
    for kind in (ConsentEventKind.REQUESTED, ConsentEventKind.CONFIRMED):
        record_consent(ctx, ConsentRecord(
            contact_id=anna.id, channel=ChannelKind.SANDBOX, purpose="marketing", kind=kind,
            source=ConsentSource.WEB_FORM, consent_text_id=texts[0].id, ip="203.0.113.7",
            user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"))
    owner = create_app_user(ctx, role=Role.OWNER)
    log_in_page(page, running_app, owner)

    page.get_by_role("navigation").get_by_role("link", name="Kontakte").click()
    page.get_by_role("searchbox").fill("0151 234")
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("link", name="Anna Müller")).to_be_visible()
    expect(page.get_by_text("Bernd Beispiel")).to_have_count(0)
    page.get_by_role("link", name="Anna Müller").click()

    expect(page.get_by_role("heading", name="Anna Müller")).to_be_visible()
    expect(page.get_by_text("Bestätigt", exact=True)).to_be_visible()
    expect(page.get_by_text("+4915123456789")).to_be_visible()
    page.screenshot(path=str(screenshots / "contact-page.png"), full_page=True)


def test_a_marketer_creates_a_sign_up_page_and_visitors_can_open_it(
    page: Page, running_app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    publish_texts(running_app.ctx)
    marketer = create_app_user(running_app.ctx, role=Role.MARKETER)
    log_in_page(page, running_app, marketer)

    page.get_by_role("navigation").get_by_role("link", name="Anmeldeseiten").click()
    page.get_by_role("link", name="Neue Anmeldeseite").first.click()
    page.get_by_label("Titel", exact=True).fill("Reiseangebote per Messenger")
    page.get_by_label("Adresse", exact=True).fill("angebote")
    page.get_by_label("Sandbox").check()
    page.screenshot(path=str(screenshots / "signup-page-new.png"), full_page=True)
    page.get_by_role("button", name="Seite anlegen").click()

    expect(page.get_by_role("status")).to_contain_text("Die Anmeldeseite ist online.")
    expect(page.get_by_role("img", name="QR-Code")).to_be_visible()
    page.screenshot(path=str(screenshots / "signup-page-admin.png"), full_page=True)
    page.goto(f"{running_app.base_url}/join/angebote")
    expect(page.get_by_role("heading", name="Reiseangebote per Messenger")).to_be_visible()
    expect(page.get_by_role("checkbox")).not_to_be_checked()


def test_the_owner_adds_an_agent_creates_a_token_and_reads_the_audit_log_in_english(
    chromium: Any, running_app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        log_in_page(page, running_app, owner)
        page.get_by_role("navigation").get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Team").click()
        page.get_by_label("Name", exact=True).fill("Anna Agent")
        page.get_by_label("E-mail address").fill("anna@sonnenschein.example")
        add_form = page.locator('form[action="/app/settings/users"]')
        add_form.locator('select[name="role"]').select_option("agent")
        page.get_by_role("button", name="Add").click()
        expect(page.get_by_text("Anna Agent can log in now.")).to_be_visible()
        expect(page.locator("#setup-link")).to_contain_text("/app/welcome/")
        page.screenshot(path=str(screenshots / "app-team.png"), full_page=True)

        page.goto(f"{running_app.base_url}/app/settings/api-tokens")
        page.get_by_label("Name").fill("Webshop")
        page.get_by_role("button", name="Create the token").click()
        expect(page.locator("#new-token")).to_contain_text("bsk_")
        page.screenshot(path=str(screenshots / "app-api-tokens.png"), full_page=True)

        page.goto(f"{running_app.base_url}/app/settings/audit-log")
        expect(page.get_by_role("cell", name="api_token.created").first).to_be_visible()
        expect(page.get_by_role("cell", name="user.created").first).to_be_visible()
        page.screenshot(path=str(screenshots / "app-audit-log.png"), full_page=True)
    finally:
        context.close()
    assert errors == []
