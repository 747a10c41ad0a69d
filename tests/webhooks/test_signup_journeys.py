"""Sign-up journeys with the fake providers: WhatsApp templates, Telegram starts, Messenger refs.

The visitor uses the real page over HTTP; the person answers through the fake provider's
signed webhooks; what Botschaft sent is what the fake accepted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from botschaft.channels.messages import OutboundMessage
from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentStatus
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services.evidence import Proof, consent_proof
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from signup_visitor import Visitor, code_on, create_page, publish_texts
from web_app import wait_for
from webhooks.harness import Botschaft, MessengerPerson, Provider, TelegramPerson, WhatsAppPerson


@pytest.fixture
def texts(app: Botschaft) -> None:
    publish_texts(app.ctx)


def _proof(person: Provider) -> Proof:
    return consent_proof(person.app.ctx, f"{person.channel.value}:{person.address}")


def _story(person: Provider) -> list[tuple[str, str]]:
    return [(e.kind, e.source) for e in _proof(person).events]


def _status(person: Provider) -> ConsentStatus:
    states = {(s.channel, s.purpose): s.state.status for s in _proof(person).states}
    return states.get((person.channel.value, MARKETING), ConsentStatus.NONE)


def _sent_after(person: Provider, count: int) -> list[Any]:
    def enough() -> list[Any] | None:
        sent = person.sent()
        return sent if len(sent) >= count else None

    return wait_for(enough)  # type: ignore[no-any-return]


def test_whatsapp_form_template_start_welcome_stop_and_nothing_more(
    app: Botschaft, whatsapp: WhatsAppPerson, fake_whatsapp: FakeWhatsApp, texts: None
) -> None:
    create_page(app.api, channels=["whatsapp"])
    visitor = Visitor(app.base_url, language="en-US,en")

    thanks = visitor.submit("angebote", number=whatsapp.address)

    assert thanks.status_code == 200 and "We sent a WhatsApp message" in thanks.text
    [request] = fake_whatsapp.sent
    assert request.body["type"] == "template"
    template = request.body["template"]
    assert (template["name"], template["language"]["code"]) == ("double_opt_in", "en")
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["Botschaft", "48"]
    requested = _proof(whatsapp).events[0]
    assert (requested.kind, requested.ip, requested.user_agent) == (
        "requested", visitor.ip, visitor.user_agent)
    assert requested.text is not None and requested.text.language == "en"

    whatsapp.deliver(whatsapp.writes("Start"))
    welcome = _sent_after(whatsapp, 2)[1]
    assert "Your subscription is confirmed" in welcome.text
    assert "object to the use of your data for advertising" in welcome.text
    assert f"{app.ctx.settings.effective_public_url}/p/" in welcome.text
    assert _status(whatsapp) is ConsentStatus.ACTIVE

    whatsapp.deliver(whatsapp.writes("STOP"))
    assert "unsubscribed" in (_sent_after(whatsapp, 3)[2].text or "")
    conversation = app.conversation_with(whatsapp)
    assert app.reply(conversation, "Schade!")["status"] == "skipped"
    marketing = asyncio.run(_send_marketing(app, whatsapp, fake_whatsapp))
    assert (marketing.status, marketing.skip_reason) == ("skipped", "withdrawn")
    assert len(fake_whatsapp.sent) == 3
    assert _story(whatsapp) == [("requested", "web_form"), ("confirmed", "web_form"),
                                ("withdrawn", "keyword")]


async def _send_marketing(app: Botschaft, person: WhatsAppPerson, fake: FakeWhatsApp) -> Any:
    from botschaft.channels.registry import Channels
    from botschaft.services.outbound import send_message

    channels = Channels({ChannelKind.WHATSAPP: WhatsAppChannel(fake.settings())})
    try:
        return await send_message(
            app.ctx, channels, contact_id=_proof(person).contact.id,
            channel=ChannelKind.WHATSAPP, content=OutboundMessage(to="", text="Angebot!"),
            intent=Outbound(MessageKind.MARKETING, MARKETING),
        )
    finally:
        await channels.close()


def test_whatsapp_click_to_chat_ties_the_message_to_the_agreement_on_the_page(
    app: Botschaft, whatsapp: WhatsAppPerson, fake_whatsapp: FakeWhatsApp, texts: None
) -> None:
    create_page(app.api, channels=["whatsapp"], click_to_chat=True,
                business_number="+49 30 1234567")
    visitor = Visitor(app.base_url, ip="198.51.100.80")
    shown = visitor.submit("angebote", via="chat")
    code = code_on(shown)
    assert f"https://wa.me/49301234567?text=START%20{code}" in shown.text
    assert fake_whatsapp.sent == []  # nothing goes out before the person writes

    whatsapp.deliver(whatsapp.writes(f"START {code}"))

    welcome = _sent_after(whatsapp, 1)[0]
    assert "Deine Anmeldung ist bestätigt" in welcome.text
    requested, confirmed = _proof(whatsapp).events
    assert (requested.kind, requested.source, requested.ip) == ("requested", "qr", visitor.ip)
    assert (confirmed.kind, confirmed.evidence) == ("confirmed", f"START {code}")


def test_the_qr_code_of_a_whatsapp_link_comes_as_svg_and_png(
    app: Botschaft, whatsapp: WhatsAppPerson, texts: None
) -> None:
    import httpx

    create_page(app.api, channels=["whatsapp"], click_to_chat=True,
                business_number="+49 30 1234567")
    code = code_on(Visitor(app.base_url).submit("angebote", via="chat"))

    with httpx.Client(base_url=app.base_url) as client:
        svg = client.get(f"/join/angebote/qr/{code}.svg", params={"channel": "whatsapp"})
        png = client.get(f"/join/angebote/qr/{code}.png", params={"channel": "whatsapp"})
        unknown = client.get("/join/angebote/qr/AAAAAAAAAAAAAAAAAAAAAA.svg",
                             params={"channel": "whatsapp"})
        no_link = client.get(f"/join/angebote/qr/{code}.svg", params={"channel": "telegram"})

    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "<svg" in svg.text and "<script" not in svg.text
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert unknown.status_code == 404 and no_link.status_code == 404


def test_telegram_start_link_from_the_page_subscribes_the_person_who_pressed_start(
    app: Botschaft, telegram: TelegramPerson, texts: None
) -> None:
    create_page(app.api, channels=["telegram"])
    visitor = Visitor(app.base_url, ip="198.51.100.81")
    shown = visitor.submit("angebote", via="telegram")
    found = shown.text.split("https://t.me/botschaft_test_bot?start=", 1)
    assert len(found) == 2
    code = found[1].split('"', 1)[0]
    assert telegram.fake.sent == []

    telegram.deliver(telegram.fake.user_starts(telegram.chat_id, code))

    welcome = _sent_after(telegram, 1)[0]
    assert "Deine Anmeldung ist bestätigt" in (welcome.text or "")
    requested, confirmed = _proof(telegram).events
    assert (requested.source, requested.ip) == ("qr", visitor.ip)
    assert confirmed.evidence == f"/start {code}"
    assert _status(telegram) is ConsentStatus.ACTIVE


def test_a_plain_telegram_start_without_a_page_is_just_a_message(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.writes("/start"))
    conversation = app.conversation_with(telegram)
    app.settle()
    assert [m["direction"] for m in app.messages(conversation)] == ["in"]
    assert _story(telegram) == []


def test_messenger_get_started_with_the_pages_ref_subscribes(
    app: Botschaft, messenger: MessengerPerson, texts: None
) -> None:
    create_page(app.api, channels=["messenger"])
    shown = Visitor(app.base_url).submit("angebote", via="messenger")
    assert "https://m.me/" in shown.text
    code = shown.text.split("?ref=", 1)[1].split('"', 1)[0]
    # The fake opens its 24-hour window on text messages only (a postback is a user action
    # too, at Meta): the person says hello first, which by itself subscribes nobody.
    messenger.deliver(messenger.writes("Hallo"))
    app.settle()
    assert _story(messenger) == []

    messenger.deliver(messenger.fake.postback_webhook(messenger.address, "Get Started",
                                                      "GET_STARTED", ref=code))

    assert "Deine Anmeldung ist bestätigt" in (_sent_after(messenger, 1)[0].text or "")
    assert _story(messenger) == [("requested", "qr"), ("confirmed", "qr")]


def test_a_number_whatsapp_cannot_reach_is_told_on_the_page_and_subscribes_nobody(
    app: Botschaft, whatsapp: WhatsAppPerson, fake_whatsapp: FakeWhatsApp, texts: None
) -> None:
    create_page(app.api, channels=["whatsapp"])
    fake_whatsapp.fail_next(whatsapp.address, 131026)

    answer = Visitor(app.base_url).submit("angebote", number=whatsapp.address)

    assert answer.status_code == 502
    assert "Die Nachricht konnte nicht zugestellt werden" in answer.text
    assert fake_whatsapp.sent == []
    assert _status(whatsapp) is ConsentStatus.PENDING  # recorded; it expires unanswered
