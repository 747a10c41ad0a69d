"""A person uses the sandbox phone in Chromium while an agent answers through the API."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botschaft.channels.messages import Button, OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services.outbound import send_message
from web_app import RunningApp, wait_for

Page = Any  # playwright.sync_api.Page; imported lazily so that the suite skips without it


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _conversation(app: RunningApp) -> dict:
    with app.client() as client:
        found = client.get("/api/v1/conversations", params={"channel": "sandbox"}).json()
    return found[0] if found else {}


def _agent_says(app: RunningApp, conversation_id: int, text: str) -> None:
    with app.client() as client:
        answer = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                             json={"text": text})
    assert answer.json()["status"] == "sent"


def _open_phone(page: Page, app: RunningApp) -> None:
    page.goto(f"{app.base_url}/sandbox")
    page.get_by_label("Telefonnummer").fill("0151 23456789")
    page.get_by_label("Profilname").fill("Anna")
    page.get_by_role("button", name="Telefon öffnen").click()
    _expect()(page.locator("#chat")).to_be_visible()


def _type(page: Page, text: str) -> None:
    page.get_by_label("Nachricht", exact=True).fill(text)
    page.keyboard.press("Enter")


def test_a_person_chats_with_an_agent_and_stops_on_the_sandbox_phone(
    page: Page, running_app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    _open_phone(page, running_app)
    expect(page.locator("#me")).to_have_text("Anna · 0151 23456789")

    _type(page, "Hallo")
    mine = page.locator(".msg.mine").last
    expect(mine).to_contain_text("Hallo")
    # Two ticks once the business has the message.
    expect(mine.locator(".tick")).to_have_class(re.compile(r"\breceived\b"))

    conversation = wait_for(lambda: _conversation(running_app))
    assert conversation["contact_name"] == "Anna"
    _agent_says(running_app, conversation["id"], "Hallo Anna! Wie können wir helfen?")
    reply = page.locator(".msg.theirs").last
    expect(reply).to_contain_text("Hallo Anna! Wie können wir helfen?")
    expect(reply.locator(".tick")).to_have_class(re.compile(r"\bsent\b"))

    _type(page, "STOP")
    expect(page.locator(".msg.theirs").last).to_contain_text("Du bist abgemeldet")
    expect(page.locator(".msg.theirs")).to_have_count(2)
    page.screenshot(path=str(screenshots / "sandbox-phone.png"))


def test_a_tapped_button_sends_its_id_to_the_business(
    page: Page, running_app: RunningApp, screenshots: Path
) -> None:
    expect = _expect()
    _open_phone(page, running_app)
    _type(page, "Ich möchte einen Termin")
    conversation = wait_for(lambda: _conversation(running_app))

    offer = OutboundMessage(to="", text="Gern! Wann passt es dir?",
                            buttons=(Button("slot-am", "Vormittag"),
                                     Button("slot-pm", "Nachmittag")))
    channels = Channels.from_settings(running_app.ctx.settings)
    sending = send_message(
        running_app.ctx, channels, contact_id=conversation["contact_id"],
        channel=ChannelKind.SANDBOX, content=offer, intent=Outbound(MessageKind.SERVICE),
    )
    # Playwright's sync API owns this thread's event loop; the service runs on its own.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, sending).result().status == "sent"
    page.get_by_role("button", name="Nachmittag").click()

    def tapped() -> list[dict]:
        with running_app.client() as client:
            found = client.get(f"/api/v1/conversations/{conversation['id']}/messages").json()
        return [m for m in found if m["content_type"] == "button"]

    message = wait_for(tapped)[0]
    assert (message["text"], message["payload"]["button"]) == ("Nachmittag", "slot-pm")
    answer = page.locator(".msg.mine").last
    expect(answer).to_contain_text("Nachmittag")
    expect(answer.locator(".tick")).to_have_class(re.compile(r"\breceived\b"))
    expect(page.get_by_role("button", name="Nachmittag")).to_have_class(re.compile("chosen"))
    page.screenshot(path=str(screenshots / "sandbox-phone-buttons.png"))
