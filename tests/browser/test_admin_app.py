"""The admin app in Chromium: first-run setup, login, roles, contacts and sign-up pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admin_login import PASSWORD, create_app_user, log_in_page
from botschaft.domain.roles import Role
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
