"""Telegram end to end: deep-link starts, button taps, blocked bots, no service window.

The fake Bot API POSTs Updates with the webhook secret to the running app and takes its
replies; the assertions read the bearer API, the consent ledger and the stored identities.
"""

from __future__ import annotations

from datetime import timedelta

from botschaft.services.evidence import consent_proof
from web_app import wait_for
from webhooks.harness import Botschaft, TelegramPerson

START_TOKEN = "fruehling-2026_Aktion"



def test_a_start_link_arrives_as_a_message_with_its_token(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.fake.user_starts(telegram.chat_id, START_TOKEN))

    conversation = app.conversation_with(telegram)
    [message] = app.messages(conversation)
    assert (message["direction"], message["text"]) == ("in", f"/start {START_TOKEN}")


def test_a_button_tap_reaches_the_inbox_with_its_data(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.writes("Wann habt ihr Termine frei?"))
    conversation = app.conversation_with(telegram)
    app.reply(conversation, "Morgen um 10 Uhr?")
    [offer] = telegram.fake.sent

    telegram.deliver(telegram.fake.user_taps(telegram.chat_id, "termin_morgen", offer.message_id))

    tap = app.wait_for_message_where(conversation, lambda m: m["content_type"] == "button")
    assert (tap["direction"], tap["text"]) == ("in", "termin_morgen")
    assert tap["payload"]["button"] == "termin_morgen"
    assert tap["payload"]["reply_to"] == f"{telegram.chat_id}:{offer.message_id}"


def test_a_button_tap_is_answered_so_the_button_stops_loading(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.writes("Hallo"))
    conversation = app.conversation_with(telegram)
    app.reply(conversation, "Wie können wir helfen?")
    [offer] = telegram.fake.sent
    tap = telegram.fake.user_taps(telegram.chat_id, "rueckruf", offer.message_id)

    telegram.deliver(tap)

    app.wait_for_message_where(conversation, lambda m: m["content_type"] == "button")
    answered = wait_for(lambda: telegram.fake.answered_callbacks, timeout=2)
    assert [query_id for query_id, _ in answered] == [tap["callback_query"]["id"]]


def test_a_reply_to_a_person_who_blocked_the_bot_fails_and_marks_them_unreachable(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.writes("Bitte meldet euch"))
    conversation = app.conversation_with(telegram)
    telegram.fake.block(telegram.chat_id)

    reply = app.reply(conversation, "Gern! Wann passt es?")

    assert (reply["status"], reply["error_code"]) == ("failed", "403")
    assert app.identity(telegram.channel, telegram.address).unreachable_at is not None
    assert telegram.sent() == []


def test_blocking_the_bot_records_a_withdrawal_from_the_provider(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.writes("Hallo"))
    app.conversation_with(telegram)

    telegram.deliver(telegram.fake.user_blocks_bot(telegram.chat_id))

    app.settle()
    proof = consent_proof(app.ctx, f"telegram:{telegram.address}")
    assert [(e.kind, e.source, e.purpose) for e in proof.events] == [
        ("withdrawn", "provider", "marketing")
    ]


def test_a_reply_days_after_the_persons_message_still_goes_out_as_telegram_has_no_window(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.writes("Meldet euch, wenn es wieder Plätze gibt"))
    conversation = app.conversation_with(telegram)
    app.clock.advance(timedelta(days=3))

    reply = app.reply(conversation, "Es gibt wieder Plätze!")

    assert reply["status"] == "sent"
    assert [s.text for s in telegram.sent()] == ["Es gibt wieder Plätze!"]


def test_the_stop_command_withdraws_and_is_confirmed_through_the_bot(
    app: Botschaft, telegram: TelegramPerson
) -> None:
    telegram.deliver(telegram.writes("/stop"))

    conversation = app.conversation_with(telegram)
    app.wait_for_message_where(
        conversation, lambda m: m["direction"] == "out" and m["status"] == "sent"
    )
    [confirmation] = telegram.sent()
    assert confirmation.recipient == telegram.recipient
    assert "abgemeldet" in (confirmation.text or "")
    proof = consent_proof(app.ctx, f"telegram:{telegram.address}")
    assert [(e.kind, e.source, e.evidence) for e in proof.events] == [
        ("withdrawn", "keyword", "/stop")
    ]
