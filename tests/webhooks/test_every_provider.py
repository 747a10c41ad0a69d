"""What every provider webhook does, end to end: verify, store once, reach the inbox, reply.

Each test runs once per provider (WhatsApp, Telegram, Messenger) and database, against the
real app over HTTP, with the provider's fake delivering signed webhooks and taking replies.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from botschaft.services.evidence import consent_proof
from webhooks.harness import Botschaft, MessengerPerson, Provider, WhatsAppPerson

GREETING = "Grüße aus Köln! Habt ihr morgen geöffnet?"


def test_an_inbound_text_becomes_a_conversation_with_the_message(
    app: Botschaft, provider: Provider
) -> None:
    answer = provider.deliver(provider.writes(GREETING))

    assert answer.status_code == 200
    conversation = app.conversation_with(provider)
    assert conversation["contact_name"] == provider.name
    assert [(m["direction"], m["author"], m["text"]) for m in app.messages(conversation)] == [
        ("in", "contact", GREETING)
    ]


def test_an_agent_reply_goes_out_through_the_provider_and_is_marked_sent(
    app: Botschaft, provider: Provider
) -> None:
    provider.deliver(provider.writes(GREETING))
    conversation = app.conversation_with(provider)

    reply = app.reply(conversation, "Ja, von 9 bis 18 Uhr. Schöne Grüße!")

    [sent] = provider.sent()
    assert (sent.recipient, sent.text) == (
        provider.recipient,
        "Ja, von 9 bis 18 Uhr. Schöne Grüße!",
    )
    assert reply["status"] == "sent"
    assert app.provider_message_id(reply["id"]) == sent.provider_message_id


def test_the_same_webhook_delivered_twice_is_stored_once_and_handled_once(
    app: Botschaft, provider: Provider
) -> None:
    payload = provider.writes(GREETING)

    first = provider.deliver(payload)
    second = provider.deliver(payload)

    assert first.json() == {"stored": 1, "duplicates": 0}
    assert second.json() == {"stored": 0, "duplicates": 1}
    assert [e.state for e in app.settle()] == ["handled"]
    assert len(app.messages(app.conversation_with(provider))) == 1


def test_the_same_webhook_delivered_twice_at_once_is_stored_once(
    app: Botschaft, provider: Provider
) -> None:
    payload = provider.writes(GREETING)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(provider.deliver, [payload, payload]))

    assert sorted(a.json()["stored"] for a in answers) == [0, 1]
    assert [e.state for e in app.settle()] == ["handled"]
    assert len(app.messages(app.conversation_with(provider))) == 1


def test_a_request_signed_with_another_secret_is_forbidden_and_changes_nothing(
    app: Botschaft, provider: Provider
) -> None:
    body = provider.encode(provider.writes(GREETING))

    answer = provider.post(body, provider.forged_credentials(body))

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "webhook_forbidden"
    assert app.stored_events() == []
    assert app.conversations(provider.channel) == []


def test_a_request_without_signature_or_secret_is_unauthorised_and_changes_nothing(
    app: Botschaft, provider: Provider
) -> None:
    body = provider.encode(provider.writes(GREETING))

    answer = provider.post(body, {})

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "webhook_unauthorised"
    assert app.stored_events() == []
    assert app.conversations(provider.channel) == []


def test_stop_withdraws_and_is_confirmed_once_even_when_the_provider_repeats_it(
    app: Botschaft, provider: Provider
) -> None:
    stop = provider.writes("STOPP")

    provider.deliver(stop)
    provider.deliver(stop)

    conversation = app.conversation_with(provider)
    confirmation = app.wait_for_message_where(
        conversation, lambda m: m["direction"] == "out" and m["status"] == "sent"
    )
    app.settle()
    assert "abgemeldet" in confirmation["text"]
    assert [(s.recipient, s.text) for s in provider.sent()] == [
        (provider.recipient, confirmation["text"])
    ]
    proof = consent_proof(app.ctx, f"{provider.channel.value}:{provider.address}")
    assert [(e.kind, e.source, e.evidence) for e in proof.events] == [
        ("withdrawn", "keyword", "STOPP")
    ]


UNREADABLE = {
    "not JSON": b"<html><body>502 Bad Gateway</body></html>",
    "JSON of the wrong shape": b'{"hello": "Gr\\u00fc\\u00dfe", "entry": 42}',
    "a JSON list": b'[{"update_id": 1}]',
    "deeply nested JSON": b"[" * 100_000,
    "an integer too long to read": b"1" * 5_000,
    "binary with a NUL byte": b"\x00\x9f\x92\x96 garbage",
}

# Known bugs in src, by (channel, body) and by database: each case is expected to fail
# until its bug is fixed, and reports it when it passes unexpectedly (strict).
@pytest.mark.parametrize("body", list(UNREADABLE))
def test_a_verified_body_that_cannot_be_read_is_answered_200_and_kept_as_a_dead_letter(
    request: pytest.FixtureRequest, app: Botschaft, provider: Provider, body: str
) -> None:
    raw = UNREADABLE[body]

    answer = provider.post(raw, provider.credentials(raw))

    assert answer.status_code == 200
    assert answer.json()["stored"] == 0
    [dead_letter] = app.stored_events()
    assert (dead_letter.channel, dead_letter.kind, dead_letter.state) == (
        provider.channel.value,
        "unreadable",
        "failed",
    )
    assert dead_letter.error


def test_the_same_unreadable_body_is_kept_only_once(app: Botschaft, provider: Provider) -> None:
    raw = UNREADABLE["not JSON"]

    first = provider.post(raw, provider.credentials(raw))
    second = provider.post(raw, provider.credentials(raw))

    assert (first.status_code, second.status_code) == (200, 200)
    assert [(e.kind, e.state) for e in app.stored_events()] == [("unreadable", "failed")]


def test_an_unreadable_body_does_not_block_the_next_message(
    app: Botschaft, provider: Provider
) -> None:
    raw = UNREADABLE["JSON of the wrong shape"]
    provider.post(raw, provider.credentials(raw))

    provider.deliver(provider.writes(GREETING))

    conversation = app.conversation_with(provider)
    assert [m["text"] for m in app.messages(conversation)] == [GREETING]


# -- the GET verification handshake of the Meta platforms -------------------------------------


def test_the_handshake_with_the_right_verify_token_answers_the_challenge_as_plain_text(
    app: Botschaft, meta_provider: WhatsAppPerson | MessengerPerson
) -> None:
    answer = app.api.get(
        meta_provider.url,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": meta_provider.fake.verify_token,
        },
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == "1158201444"


def test_the_handshake_with_a_wrong_verify_token_is_forbidden(
    app: Botschaft, meta_provider: WhatsAppPerson | MessengerPerson
) -> None:
    answer = app.api.get(
        meta_provider.url,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": "guessed",
        },
    )

    assert answer.status_code == 403
    assert "1158201444" not in answer.text


def test_a_text_with_a_nul_character_still_reaches_the_inbox(
    request: pytest.FixtureRequest, app: Botschaft, provider: Provider
) -> None:
    answer = provider.deliver(provider.writes("Hallo\x00Welt"))

    assert answer.status_code == 200
    assert [(e.state, e.error) for e in app.settle()] == [("handled", None)]
    conversation = app.conversation_with(provider)
    assert [m["text"].replace("\x00", "") for m in app.messages(conversation)] == ["HalloWelt"]
