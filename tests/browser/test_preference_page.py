"""A subscriber opens the link from a message in Chromium and changes their preferences."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contacts import ContactView, create_contact
from botschaft.services.context import Context
from botschaft.services.evidence import consent_proof
from botschaft.services.preference_links import preference_url
from botschaft.settings import Settings
from web_app import RunningApp

Page = Any  # playwright.sync_api.Page; imported lazily so that the suite skips without it


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url,
        business={  # type: ignore[arg-type]
            "name": "Reisebüro Sonnenschein",
            "privacy_policy_url": "https://sonnenschein.example/datenschutz",
        },
        telegram={  # type: ignore[arg-type]
            "enabled": True, "bot_token": "123456789:test-token", "webhook_secret": "hook",
            "bot_username": "sonnenschein_bot",
        },
    )


@pytest.fixture
def subscriber(ctx: Context, text_version: PublishedText) -> ContactView:
    anna = create_contact(ctx, identities=[(ChannelKind.WHATSAPP, "0151 23456789")],
                          display_name="Anna", language="de")
    record_consent(ctx, ConsentRecord(
        contact_id=anna.id, channel=ChannelKind.WHATSAPP, purpose=MARKETING,
        kind=ConsentEventKind.GRANTED, source=ConsentSource.WEB_FORM,
        consent_text_id=text_version.id,
    ))
    return anna


def _link(app: RunningApp, contact: ContactView) -> str:
    # The link in a message names the public URL; the test server listens elsewhere.
    url = preference_url(app.ctx, contact.id, ChannelKind.WHATSAPP)
    return app.base_url + url.removeprefix(app.ctx.settings.effective_public_url)


def test_a_subscriber_pauses_for_two_weeks_from_the_link_in_a_message(
    page: Page, running_app: RunningApp, subscriber: ContactView, screenshots: Path
) -> None:
    expect = _expect()
    page.goto(_link(running_app, subscriber))
    expect(page.get_by_role("heading", name="Nachrichten-Einstellungen")).to_be_visible()
    expect(page.locator(".status")).to_contain_text("Angemeldet")

    page.get_by_role("button", name="2 Wochen").click()

    done = page.get_by_role("status")
    expect(done).to_contain_text("Pausiert")
    expect(done).to_contain_text("Bis Montag, 16. März 2026 bekommst du keine Angebote")
    expect(page.locator(".status")).to_contain_text("Pausiert bis Montag, 16. März 2026")
    expect(page.get_by_role("button", name="Pause jetzt beenden")).to_be_visible()
    page.screenshot(path=str(screenshots / "preferences.png"), full_page=True)

    paused = consent_proof(running_app.ctx, str(subscriber.id)).events[-1]
    assert (paused.kind, paused.source, paused.ip) == ("paused", "web_form", "127.0.0.1")
    assert json.loads(paused.terms or "") == {"until": "2026-03-16T10:00:00+00:00"}
    assert "Chrome" in (paused.user_agent or "")


def test_unsubscribing_takes_one_click_and_a_confirmation(
    page: Page, running_app: RunningApp, subscriber: ContactView, screenshots: Path
) -> None:
    expect = _expect()
    page.goto(_link(running_app, subscriber))
    confirm = page.get_by_role("button", name="Ja, abmelden")
    expect(confirm).to_be_hidden()

    page.locator("summary", has_text=re.compile(r"^\s*Abmelden\s*$")).click()
    expect(confirm).to_be_visible()
    page.screenshot(path=str(screenshots / "preferences-unsubscribe.png"), full_page=True)
    confirm.click()

    expect(page.get_by_role("status")).to_contain_text("Du bist abgemeldet")
    expect(page.locator(".status")).to_contain_text("Nicht angemeldet")
    expect(page.get_by_role("button", name="2 Wochen")).to_have_count(0)
    kinds = [e.kind for e in consent_proof(running_app.ctx, str(subscriber.id)).events]
    assert kinds == ["granted", "withdrawn"]
