"""A visitor signs up in Chromium; the sandbox phone answers START; the subscription is active."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from botschaft.domain.consent import ConsentStatus
from botschaft.services.evidence import consent_proof
from signup_visitor import create_page, publish_texts
from web_app import RunningApp, wait_for

Page = Any  # playwright.sync_api.Page; imported lazily so that the suite skips without it
NUMBER = "+4915123456789"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def app(running_app: RunningApp) -> RunningApp:
    publish_texts(running_app.ctx)
    with running_app.client() as client:
        create_page(client, click_to_chat=True)
    return running_app


def _marketing(app: RunningApp) -> ConsentStatus | None:
    proof = consent_proof(app.ctx, f"sandbox:{NUMBER}")
    return next((s.state.status for s in proof.states if s.purpose == "marketing"), None)


def test_a_visitor_fills_the_form_in_chromium_and_start_on_the_phone_subscribes(
    page: Page, app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    page.goto(f"{app.base_url}/join/angebote")
    expect(page.get_by_role("heading", name="Reiseangebote per Messenger")).to_be_visible()
    expect(page.get_by_text("Meta Platforms Ireland Ltd.")).to_be_visible()
    box = page.get_by_role("checkbox")
    expect(box).not_to_be_checked()
    page.screenshot(path=str(screenshots / "join-page.png"), full_page=True)

    box.check()
    page.get_by_label("Nummer deines Sandbox-Telefons").fill("0151 23456789")
    page.get_by_role("button", name="Bestätigung an das Sandbox-Telefon schicken").click()

    expect(page.get_by_role("heading", name="Fast geschafft!")).to_be_visible()
    expect(page.get_by_text("+4915123456789")).to_be_visible()
    page.screenshot(path=str(screenshots / "join-sent.png"), full_page=True)
    assert wait_for(lambda: _marketing(app)) is ConsentStatus.PENDING
    requested = consent_proof(app.ctx, f"sandbox:{NUMBER}").events[0]
    assert requested.user_agent is not None and "Chrome" in requested.user_agent

    with app.client() as client:
        client.post("/sandbox/api/messages", json={"number": NUMBER, "text": "START"})
    assert wait_for(lambda: _marketing(app) is ConsentStatus.ACTIVE)


def test_agreeing_without_a_number_shows_the_code_to_send(
    page: Page, app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    page.goto(f"{app.base_url}/join/angebote")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Chat selbst öffnen (QR-Code)").click()

    expect(page.get_by_role("heading", name="Danke! Noch ein Schritt")).to_be_visible()
    expect(page.locator("code")).to_contain_text("START ")
    page.screenshot(path=str(screenshots / "join-chat.png"), full_page=True)
