"""The owner sets business hours, an away message and the duty rotation in Chromium; at
night, a person on the sandbox phone gets the away message."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from admin_login import create_app_user, log_in_page
from botschaft.domain.roles import Role
from web_app import RunningApp

Page = Any  # playwright.sync_api.Page; imported lazily so that the suite skips without it
BERLIN = ZoneInfo("Europe/Berlin")


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_the_owner_sets_hours_and_an_away_message_which_answers_at_night(
    page: Page, running_app: RunningApp, screenshots: Path, clock: Any,
) -> None:
    expect = _expect()
    owner = create_app_user(running_app.ctx, role=Role.OWNER, name="Olga Sonnenschein")
    create_app_user(running_app.ctx, role=Role.AGENT)
    log_in_page(page, running_app, owner)

    page.get_by_role("link", name="Einstellungen").click()
    page.get_by_role("link", name="Öffnungszeiten").click()
    expect(page.get_by_role("heading", name="Öffnungszeiten", exact=True)).to_be_visible()
    for day in ("Montag", "Dienstag", "Mittwoch", "Donnerstag"):
        page.get_by_label(day).fill("09:00-12:30, 13:30-18:00")
    page.get_by_label("Freitag").fill("09:00-15:00")
    page.get_by_role("button", name="Öffnungszeiten speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Öffnungszeiten gespeichert")
    expect(page.get_by_role("cell", name="Tag der Deutschen Einheit")).to_be_visible()
    page.screenshot(path=str(screenshots / "app-business-hours.png"), full_page=True)

    page.goto(f"{running_app.base_url}/app/settings/auto-replies")
    away = page.locator("#auto-reply-away")
    away.get_by_label("Eingeschaltet").check()
    away.get_by_label("Deutsch").fill(
        "Hallo {first_name}, wir sind gerade nicht da. Wir melden uns {opens}.")
    away.get_by_role("button", name="Vorschau").click()
    away = page.locator("#auto-reply-away")
    expect(away.locator(".preview").first).to_contain_text("Hallo Anna, wir sind gerade")
    away.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Automatische Antwort gespeichert")
    expect(page.locator("#auto-reply-away .badge")).to_have_text("an")
    page.screenshot(path=str(screenshots / "app-auto-replies.png"), full_page=True)

    page.goto(f"{running_app.base_url}/app/settings/duty")
    page.get_by_label("Montag").select_option(label="Anna Agent")
    page.get_by_role("button", name="Dienstplan speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Dienstplan gespeichert")
    page.screenshot(path=str(screenshots / "app-duty.png"), full_page=True)

    clock.set(datetime(2026, 3, 3, 22, 30, tzinfo=BERLIN))  # Tuesday night
    page.goto(f"{running_app.base_url}/sandbox")
    page.get_by_label("Telefonnummer").fill("0151 23456789")
    page.get_by_label("Profilname").fill("Jonas Weber")
    page.get_by_role("button", name="Telefon öffnen").click()
    page.get_by_label("Nachricht", exact=True).fill("Habt ihr morgen offen?")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.theirs").last).to_contain_text(
        "Hallo Jonas, wir sind gerade nicht da. Wir melden uns am Mittwoch, 4. März,"
        " ab 09:00 Uhr.")
    page.screenshot(path=str(screenshots / "sandbox-away-message.png"))
