"""Messenger end to end: postbacks, delivery receipts, echoes and the 24-hour window.

The fake Send API delivers signed webhooks to the running app and takes its replies; the
assertions read the bearer API.
"""

from __future__ import annotations

from datetime import timedelta

from webhooks.harness import Botschaft, MessengerPerson


def test_a_postback_tap_reaches_the_inbox_with_its_title_and_payload(
    app: Botschaft, messenger: MessengerPerson
) -> None:
    tap = messenger.fake.postback_webhook(messenger.address, "Angebote ansehen", "SHOW_OFFERS")

    messenger.deliver(tap)

    conversation = app.conversation_with(messenger)
    [message] = app.messages(conversation)
    assert (message["direction"], message["content_type"], message["text"]) == (
        "in",
        "button",
        "Angebote ansehen",
    )
    assert message["payload"]["button"] == "SHOW_OFFERS"


def test_a_delivery_receipt_moves_the_reply_to_delivered(
    app: Botschaft, messenger: MessengerPerson
) -> None:
    messenger.deliver(messenger.writes("Ist der Tisch für heute Abend noch frei?"))
    conversation = app.conversation_with(messenger)
    reply = app.reply(conversation, "Ja, um 19 Uhr.")
    [sent] = messenger.sent()

    messenger.deliver(
        messenger.fake.delivery_webhook(messenger.address, [sent.provider_message_id])
    )

    assert app.wait_for_message(conversation, reply["id"], "delivered")


def test_an_echo_of_the_pages_own_message_is_not_taken_for_the_persons(
    app: Botschaft, messenger: MessengerPerson
) -> None:
    echo = messenger.fake.echo_webhook(messenger.address, "Danke für Ihre Nachricht!", "m_echo1")

    messenger.deliver(echo)

    assert [(e.kind, e.state) for e in app.settle()] == [("ignored", "ignored")]
    assert app.conversations(messenger.channel) == []


def test_a_reply_more_than_24_hours_after_the_persons_message_is_skipped_by_the_gate(
    app: Botschaft, messenger: MessengerPerson
) -> None:
    messenger.deliver(messenger.writes("Habt ihr am Wochenende offen?"))
    conversation = app.conversation_with(messenger)
    app.clock.advance(timedelta(hours=25))

    reply = app.reply(conversation, "Ja, samstags bis 14 Uhr.")

    assert (reply["status"], reply["skip_reason"]) == ("skipped", "window_closed")
    assert messenger.sent() == []
