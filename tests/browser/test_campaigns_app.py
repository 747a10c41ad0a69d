"""Campaigns in Chromium: an owner makes an audience, writes a campaign to the sandbox, sees
the lint, sends a test, sends it, and watches the figures move while the embedded
dispatcher sends (the figures change on the page without a reload)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from admin_login import create_app_user, log_in_page
from botschaft.domain.channels import ChannelKind
from botschaft.domain.roles import Role
from botschaft.services.api_tokens import create_token
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import publish_consent_text
from botschaft.services.contact_fields import declare_attribute, set_tags
from botschaft.services.context import Context
from botschaft.settings import DispatchSettings, FirstPartyRates, Settings
from botschaft.web.app import create_app
from broadcasts import audience, campaign, person, subscriber
from web_app import RunningApp, free_port, serve_in_thread

from factories import marketing_text

Page = Any  # playwright.sync_api.Page; imported lazily so that the suite skips without it
SUBSCRIBERS = 18
NAMES = ("Anna Berg", "Ben Kurz", "Clara Wolf", "David Roth", "Eva Sommer", "Felix Bauer")


@pytest.fixture
def running_app(ctx: Context, settings: Settings, clock: ManualClock) -> Iterator[RunningApp]:
    """The app as ``serve`` runs it: with the embedded dispatcher, here slowed to three
    sandbox messages a second so that a campaign takes a few seconds to send."""
    slow = DispatchSettings(sandbox=FirstPartyRates(per_second=3.0, concurrency=1),
                            batch_size=3, idle_poll_seconds=0.2)
    app = create_app(settings.model_copy(update={"embedded_worker": True, "dispatch": slow}),
                     clock=clock)
    server, thread = serve_in_thread(app, port := free_port())
    yield RunningApp(f"http://127.0.0.1:{port}", create_token(ctx, "tests").token, ctx, app)
    server.should_exit = True
    thread.join(10)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _shop(ctx: Context) -> None:
    text = publish_consent_text(ctx, marketing_text())
    for n in range(SUBSCRIBERS):
        name = f"{NAMES[n % len(NAMES)].split()[0]} {n + 1:02d}" if n >= len(NAMES) else NAMES[n]
        contact = subscriber(ctx, text, f"+49151000007{n:02d}", name,
                             channel=ChannelKind.SANDBOX)
        set_tags(ctx, contact.id, ["angebote"])
    set_tags(ctx, person(ctx, "+4915100000799", "Dora Lang", channel=ChannelKind.SANDBOX).id,
             ["angebote"])
    declare_attribute(ctx, "stadt", "Stadt", "Angebote der Filiale vor Ort")


def test_an_owner_sends_a_campaign_and_watches_its_figures_move(
    page: Page, running_app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    ctx = running_app.ctx
    _shop(ctx)
    owner = create_app_user(ctx, role=Role.OWNER, name="Olga Sonnenschein")
    log_in_page(page, running_app, owner)

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Kampagnen").click()
    expect(page.get_by_role("heading", name="Kampagnen")).to_be_visible()
    page.get_by_role("link", name="Neue Zielgruppe").first.click()
    page.locator('input[name="name"]').fill("Newsletter Angebote")
    page.locator('input[name="tags_any"]').fill("Angebote")
    page.get_by_label("Sandbox").check()
    count = page.locator("#audience-count")
    expect(count).to_have_text(f"{SUBSCRIBERS + 1} Kontakte, davon {SUBSCRIBERS} mit Einwilligung")
    page.screenshot(path=str(screenshots / "audience.png"), full_page=True)
    page.get_by_role("button", name="Zielgruppe speichern").click()
    expect(page.get_by_role("status").first).to_contain_text("Die Zielgruppe ist gespeichert.")

    page.goto(f"{running_app.base_url}/app/campaigns/new")
    page.locator('input[name="name"]').fill("Wochenangebot KW 10")
    page.locator('select[name="channel"]').select_option("sandbox")
    page.locator('select[name="audience_id"]').select_option(label="Newsletter Angebote")
    page.get_by_label("Vorlage", exact=True).check()
    expect(page.locator('.kind-fields[data-kind="media"]')).to_be_hidden()
    page.locator('input[name="template_name"]').fill("wochenangebot")
    page.locator('input[name="template_language"]').fill("de")
    page.locator('textarea[name="template_text"]').fill(
        "Hallo {{1}}, die Angebote der Woche von Botschaft: 20 % auf alle Reisen an die"
        " Ostsee. Abmelden: STOP")
    page.locator('textarea[name="template_params"]').fill("{{ first_name }}")
    page.get_by_role("button", name="Entwurf anlegen").click()

    expect(page.get_by_role("heading", name="Wochenangebot KW 10")).to_be_visible()
    expect(page.locator("#campaign-status")).to_have_text("Entwurf")
    expect(page.get_by_text("Nichts hält die Kampagne auf.")).to_be_visible()

    page.locator("li", has_text="Anna Berg").get_by_role("link", name="Vorschau").click()
    expect(page.locator(".bubble.preview")).to_contain_text("Hallo Anna, die Angebote der Woche")
    expect(page.get_by_text("würde jetzt gesendet")).to_be_visible()
    page.locator("li", has_text="Anna Berg").get_by_role("checkbox").check()
    page.locator("li", has_text="Dora Lang").get_by_role("checkbox").check()
    page.get_by_role("button", name="Test senden").click()
    results = page.locator(".test-results")
    expect(results.locator("li", has_text="Anna Berg")).to_contain_text("gesendet")
    expect(results.locator("li", has_text="Dora Lang")).to_contain_text(
        "nicht gesendet: keine Einwilligung")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Jetzt senden").click()
    expect(page.locator("#campaign-status")).to_have_text("Wird gesendet")
    sent = page.locator('[data-figure="sent"]')
    expect(page.locator('[data-figure="targeted"]')).to_have_text(str(SUBSCRIBERS + 1))
    first = int(sent.inner_text())
    assert first < SUBSCRIBERS
    page.evaluate("window.stillTheSamePage = true")
    expect(sent).not_to_have_text(str(first), timeout=10_000)
    # The figure moved while the page stayed: no reload happened in between.
    assert page.evaluate("window.stillTheSamePage === true")
    expect(page.get_by_text("Kampagne abgebrochen")).to_have_count(0)

    expect(page.locator("#campaign-status")).to_have_text("Fertig", timeout=20_000)
    expect(sent).to_have_text(str(SUBSCRIBERS))
    expect(page.locator("#skip-list")).to_contain_text("keine Einwilligung")
    page.screenshot(path=str(screenshots / "campaign.png"), full_page=True)

    # A second campaign, still a draft, so that the list shows more than one state.
    campaign(ctx, audience(ctx, {"tags": {"any": ["vip"]}}, name="Stammkunden"),
             {"kind": "text", "text": "Sommerreisen 2026 bei Botschaft: https://shop.example"},
             channel=ChannelKind.SANDBOX, name="Sommerreisen 2026")
    page.get_by_role("link", name="Kampagnen").first.click()
    row = page.locator("tr", has_text="Wochenangebot KW 10")
    expect(row).to_contain_text("Fertig")
    expect(page.locator("tr", has_text="Sommerreisen 2026")).to_contain_text("Entwurf")
    expect(page).to_have_url(re.compile(r".*/app/campaigns$"))
    page.screenshot(path=str(screenshots / "campaigns.png"), full_page=True)
