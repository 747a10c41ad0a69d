"""The inbox against the fake providers over real HTTP: Messenger's HUMAN_AGENT reply after
the 24-hour window, WhatsApp media shown to agents, and delivery ticks in the thread."""

from __future__ import annotations

from datetime import timedelta

import pytest

from admin_login import create_app_user, logged_in_client
from botschaft.domain.roles import Role
from botschaft.testing.fake_messenger import FakeMessenger
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from web_app import wait_for
from webhooks.harness import Botschaft, MessengerPerson, WhatsAppPerson

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
def agent(app: Botschaft):
    return create_app_user(app.ctx, role=Role.AGENT, name="Anna Schmidt",
                           email="anna@sonnenschein.example")


def test_messenger_reply_after_two_days_goes_with_the_human_agent_tag(
    app: Botschaft, messenger: MessengerPerson, fake_messenger: FakeMessenger, agent
) -> None:
    assert messenger.deliver(messenger.writes("Ist meine Buchung bestätigt?")).status_code == 200
    conversation = app.conversation_with(messenger)
    app.clock.advance(timedelta(days=2))
    with logged_in_client(app, agent) as client:  # type: ignore[arg-type]
        page = client.get(f"/app/inbox/{conversation['id']}").text
        assert "HUMAN_AGENT" in page
        sent = client.post(f"/app/inbox/{conversation['id']}/reply",
                           data=client.form({"text": "Ja, bestätigt."}))
    assert sent.status_code == 303

    accepted = wait_for(lambda: fake_messenger.sent)
    assert accepted[-1].body["messaging_type"] == "MESSAGE_TAG"
    assert accepted[-1].body["tag"] == "HUMAN_AGENT"
    reply = app.wait_for_message_where(conversation, lambda m: m["direction"] == "out")
    assert reply["status"] == "sent"


def test_messenger_reply_after_eight_days_is_held_back_with_the_reason(
    app: Botschaft, messenger: MessengerPerson, fake_messenger: FakeMessenger, agent
) -> None:
    messenger.deliver(messenger.writes("Hallo"))
    conversation = app.conversation_with(messenger)
    app.clock.advance(timedelta(days=8))
    with logged_in_client(app, agent) as client:  # type: ignore[arg-type]
        assert "more than 7 days" in client.get(f"/app/inbox/{conversation['id']}").text
        sent = client.post(f"/app/inbox/{conversation['id']}/reply",
                           data=client.form({"text": "Noch da?"}))
    assert sent.headers["location"].endswith("done=inbox_reply_skipped")
    assert fake_messenger.sent == []
    skipped = app.wait_for_message_where(conversation, lambda m: m["direction"] == "out")
    assert (skipped["status"], skipped["skip_reason"]) == ("skipped", "window_closed")


def test_whatsapp_photo_is_fetched_once_and_shown_to_agents(
    app: Botschaft, whatsapp: WhatsAppPerson, fake_whatsapp: FakeWhatsApp, agent
) -> None:
    media_id = fake_whatsapp.add_media(PNG, "image/png")
    payload = fake_whatsapp.message_webhook(
        whatsapp.address, {"type": "image", "image": {"id": media_id, "mime_type": "image/png",
                                                       "sha256": "x", "caption": "Mein Pass"}})
    assert whatsapp.deliver(payload).status_code == 200
    conversation = app.conversation_with(whatsapp)
    message = app.wait_for_message_where(conversation, lambda m: m["direction"] == "in")
    with logged_in_client(app, agent) as client:  # type: ignore[arg-type]
        page = client.get(f"/app/inbox/{conversation['id']}").text
        assert f'src="/app/inbox/messages/{message["id"]}/media"' in page
        first = client.get(f"/app/inbox/messages/{message['id']}/media")
        fake_whatsapp._media.clear()  # the provider's link has expired by now
        again = client.get(f"/app/inbox/messages/{message['id']}/media?download=1")

    assert (first.content, first.headers["content-type"]) == (PNG, "image/png")
    assert again.content == PNG
    assert "attachment" in again.headers["content-disposition"]


def test_read_receipt_turns_the_ticks_blue(
    app: Botschaft, whatsapp: WhatsAppPerson, fake_whatsapp: FakeWhatsApp, agent
) -> None:
    whatsapp.deliver(whatsapp.writes("Hallo"))
    conversation = app.conversation_with(whatsapp)
    with logged_in_client(app, agent) as client:  # type: ignore[arg-type]
        client.post(f"/app/inbox/{conversation['id']}/reply", data=client.form({"text": "Hi"}))
        reply = app.wait_for_message_where(conversation, lambda m: m["status"] == "sent")
        provider_id = app.provider_message_id(reply["id"])
        whatsapp.deliver(fake_whatsapp.status_webhook(provider_id, "read", whatsapp.recipient))
        app.wait_for_message(conversation, reply["id"], "read")
        page = client.get(f"/app/inbox/{conversation['id']}").text

    assert 'class="ticks tick-read"' in page
