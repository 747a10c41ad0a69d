"""The team inbox in Chromium: a sandbox conversation is answered, with a canned response
and an internal note, and the reply arrives on the sandbox phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from admin_login import create_app_user, log_in_page
from botschaft.domain.channels import ChannelKind
from botschaft.domain.composer import SIGNATURE_DASH
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.domain.roles import Role
from botschaft.services.canned import create_label, save_canned
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import publish_consent_text
from botschaft.services.inbox_feed import Actor
from botschaft.settings import BusinessSettings, InboxSettings, ReplyTemplate, Settings
from web_app import wait_for

from factories import marketing_text

NUMBER = "+4915111112222"
FOLLOW_UP = ReplyTemplate(
    name="service_follow_up", language="de",
    text="Hallo {{1}}, hier ist {{2}} von {{3}}. Wir haben eine Antwort auf Ihre Frage:"
    " schreiben Sie uns einfach zurück.",
    parameters=["contact_name", "agent_name", "business_name"])


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """A travel agency with one approved WhatsApp template for after the window."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    business=BusinessSettings(name="Reisebüro Sonnenschein"),
                    inbox=InboxSettings(templates=[FOLLOW_UP]))


def phone_writes(app, text: str, name: str = "Jonas Weber", number: str = NUMBER) -> None:
    httpx.post(f"{app.base_url}/sandbox/api/messages",
               json={"number": number, "text": text, "name": name}).raise_for_status()


def phone_reads(app, number: str = NUMBER) -> list[dict]:
    answer = httpx.get(f"{app.base_url}/sandbox/api/messages", params={"number": number})
    answer.raise_for_status()
    return answer.json()


def test_agent_answers_a_sandbox_conversation_with_a_canned_response_and_a_note(
    page, running_app, screenshots, clock
):
    agent = create_app_user(running_app.ctx, role=Role.AGENT, name="Anna Schmidt",
                            email="anna@sonnenschein.example")
    actor = Actor(agent.id, "Anna Schmidt")
    save_canned(running_app.ctx, actor, "preis",
                "Die Woche auf Mallorca kostet 1.290 € pro Person, Flug inklusive.")
    create_label(running_app.ctx, actor, "Angebot", "amber")
    phone_writes(running_app, "Hallo, was kostet die Mallorca-Reise im Mai?")
    phone_writes(running_app, "Guten Tag, ist der Ausflug am Samstag noch frei?",
                 name="Petra Lang", number="+4915133334444")
    wait_for(lambda: len(phone_reads(running_app)) >= 1)
    # Jonas subscribed to the newsletter earlier: the thread shows it from the ledger.
    contact = running_app.client().get("/api/v1/conversations").json()[-1]["contact_id"]
    text = publish_consent_text(running_app.ctx, marketing_text())
    record_consent(running_app.ctx, ConsentRecord(
        contact, ChannelKind.SANDBOX, MARKETING, ConsentEventKind.GRANTED,
        ConsentSource.KEYWORD, consent_text_id=text.id))

    clock.advance(timedelta(minutes=3))
    log_in_page(page, running_app, agent)
    page.goto(f"{running_app.base_url}/app/inbox")
    page.get_by_role("link", name="Jonas Weber").first.click()
    page.wait_for_selector(".thread")
    assert "Mallorca-Reise" in page.locator("#messages").inner_text()

    box = page.locator("#reply-text")
    box.click()
    box.type("Gern! /preis ")
    wait_for(lambda: "1.290" in box.input_value())
    page.get_by_role("button", name="Senden").click()
    page.wait_for_selector(".msg.out")

    reply = wait_for(lambda: [m for m in phone_reads(running_app) if m["direction"] == "out"])
    assert reply[-1]["text"] == (
        "Gern! Die Woche auf Mallorca kostet 1.290 € pro Person, Flug inklusive.\n\n"
        f"{SIGNATURE_DASH} Anna")

    clock.advance(timedelta(minutes=2))
    page.locator("#note-text").fill("Kunde fragt nach Familienzimmer, morgen anrufen.")
    page.get_by_role("button", name="Notiz speichern").click()
    page.wait_for_selector(".msg.note")
    assert "INTERNE NOTIZ" in page.locator(".msg.note").inner_text().upper()
    assert all("Familienzimmer" not in (m["text"] or "") for m in phone_reads(running_app))

    # A file goes after its text; the phone gets it as a document it can open.
    clock.advance(timedelta(minutes=1))
    page.locator("#reply-text").fill("Hier das Angebot als PDF.")
    page.locator('input[name="files"]').set_input_files(files=[{
        "name": "Angebot Mallorca.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.7 Angebot"}])
    page.get_by_role("button", name="Senden").click()
    page.wait_for_selector("#messages >> text=Angebot Mallorca.pdf")
    document = wait_for(lambda: [m for m in phone_reads(running_app)
                                 if m["content_type"] == "document"])
    assert document[0]["payload"]["media"]["filename"] == "Angebot Mallorca.pdf"

    page.locator(".label-check", has_text="Angebot").click()
    page.get_by_role("button", name="Labels speichern").click()
    page.wait_for_selector(".conversation .label-tag")

    # The person answers while the agent writes: the open thread shows it without a
    # reload, and the half-written reply stays as it was.
    clock.advance(timedelta(minutes=4))
    page.locator("#reply-text").fill("Sehr gern, ich reserviere")
    phone_writes(running_app, "Super, dann buche ich!")
    page.wait_for_selector("#messages >> text=Super, dann buche ich!")
    assert page.locator("#reply-text").input_value() == "Sehr gern, ich reserviere"
    page.screenshot(path=str(screenshots / "inbox.png"))

    assert "Werbung" in page.locator(".consents").inner_text()
    page.get_by_role("button", name="Mir zuweisen").click()
    page.wait_for_selector(".conversation .assignee-tag")
    page.get_by_role("button", name="Erledigt").click()
    page.wait_for_selector(".seg.is-on:has-text('Erledigt')")
    page.goto(f"{running_app.base_url}/sandbox")
    page.get_by_label("Telefonnummer").fill(NUMBER)
    page.get_by_label("Profilname").fill("Jonas Weber")
    page.get_by_label("Telefonnummer").press("Enter")
    page.wait_for_selector("text=Angebot Mallorca.pdf")
    page.screenshot(path=str(screenshots / "inbox-reply-on-phone.png"))
    page.goto(f"{running_app.base_url}/app/inbox-settings")
    page.screenshot(path=str(screenshots / "inbox-settings.png"), full_page=True)


def test_after_the_window_the_composer_offers_the_approved_template(
    page, running_app, screenshots, clock
):
    agent = create_app_user(running_app.ctx, role=Role.AGENT, name="Anna Schmidt",
                            email="anna@sonnenschein.example")
    phone_writes(running_app, "Können Sie mir das Angebot für Kreta schicken?")
    wait_for(lambda: running_app.client().get("/api/v1/conversations").json())
    clock.advance(timedelta(hours=30))

    log_in_page(page, running_app, agent)
    page.goto(f"{running_app.base_url}/app/inbox")
    page.get_by_role("link", name="Jonas Weber").first.click()
    page.wait_for_selector(".templates")
    assert "Fenster geschlossen" in page.locator(".thread-head").inner_text()
    assert page.locator("#reply-text").count() == 0  # no free text outside the window
    page.screenshot(path=str(screenshots / "inbox-template.png"))

    page.get_by_role("button", name="Vorlage senden").click()
    reply = wait_for(lambda: [m for m in phone_reads(running_app) if m["direction"] == "out"])
    assert reply[-1]["text"] == (
        "Hallo Jonas Weber, hier ist Anna Schmidt von Reisebüro Sonnenschein. Wir haben eine"
        " Antwort auf Ihre Frage: schreiben Sie uns einfach zurück.")
