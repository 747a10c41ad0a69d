"""The Telegram adapter against the fake Bot API, over real HTTP on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from botschaft.channels.base import MalformedWebhook, WebhookForbidden, WebhookRejected
from botschaft.channels.events import (
    Event,
    IgnoredEvent,
    InboundKind,
    InboundMessage,
    Location,
    MediaRef,
    PreferenceChange,
    PreferenceValue,
)
from botschaft.channels.messages import Button, Media, OutboundMessage, Template
from botschaft.channels.outcomes import (
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    Sent,
    TransientFailure,
    Unreachability,
)
from botschaft.channels.telegram import TelegramCallFailed, TelegramChannel, callback_query_id
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import ConfigError
from botschaft.settings import TelegramSettings
from botschaft.testing.fake_telegram import DEFAULT_TOKEN, FakeTelegram

SECRET = "webhook-Secret_42"
ANNA = 4242
RECEIVED_AT = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return RECEIVED_AT


def settings(api_base: str = "http://127.0.0.1:9", **changes: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "api_base": api_base,
        "bot_token": SecretStr(DEFAULT_TOKEN),
        "bot_username": "botschaft_test_bot",
        "webhook_secret": SecretStr(SECRET),
        **changes,
    }
    return TelegramSettings(**values)


def body(update: dict[str, Any]) -> bytes:
    return json.dumps(update, ensure_ascii=False).encode("utf-8")


def only_event(channel: TelegramChannel, update: dict[str, Any]) -> Any:
    events = channel.parse(body(update))
    assert len(events) == 1
    return events[0]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def people() -> FakeTelegram:
    """The fake, not listening: only its Update builders are used."""
    return FakeTelegram(clock=RECEIVED_AT.timestamp)


@pytest.fixture
def channel() -> TelegramChannel:
    return TelegramChannel(settings(), clock=FixedClock())


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.register(ANNA)
        yield server


@pytest.fixture
async def live(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    adapter = TelegramChannel(settings(fake.base_url))
    yield adapter
    await adapter.close()


# -- the webhook secret ------------------------------------------------------------------


def test_verify_accepts_the_secret_header_in_any_letter_case(channel: TelegramChannel) -> None:
    channel.verify({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b"{}")
    channel.verify({"x-telegram-bot-api-secret-token": SECRET}, b"{}")


def test_verify_rejects_a_request_without_the_secret_header(channel: TelegramChannel) -> None:
    with pytest.raises(WebhookRejected) as raised:
        channel.verify({"Content-Type": "application/json"}, b"{}")
    assert not isinstance(raised.value, WebhookForbidden)


def test_verify_forbids_a_wrong_secret_without_revealing_the_right_one(
    channel: TelegramChannel,
) -> None:
    with pytest.raises(WebhookForbidden) as raised:
        channel.verify({"X-Telegram-Bot-Api-Secret-Token": "guess-ä"}, b"{}")
    assert SECRET not in raised.value.message


# -- reading Updates ---------------------------------------------------------------------


def test_text_message_comes_from_the_private_chat(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    event = only_event(channel, people.user_writes(ANNA, "Hallo, Müller hier"))
    assert event == InboundMessage(
        channel=ChannelKind.TELEGRAM,
        account="123456789",
        provider_message_id=f"{ANNA}:1",
        sender=str(ANNA),
        sent_at=RECEIVED_AT,
        kind=InboundKind.TEXT,
        text="Hallo, Müller hier",
        sender_name="Anna",
    )


def test_message_date_becomes_an_aware_utc_datetime(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    update = people.user_writes(ANNA, "hi")
    update["message"]["date"] = 1_700_000_000
    assert only_event(channel, update).sent_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_message_ids_are_unique_per_bot_by_naming_the_chat(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    first = only_event(channel, people.user_writes(ANNA, "hi"))
    other = only_event(channel, people.user_writes(777, "hi"))
    assert (first.provider_message_id, other.provider_message_id) == (f"{ANNA}:1", "777:1")


def test_start_with_a_deep_link_payload_carries_the_start_token(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    event = only_event(channel, people.user_starts(ANNA, "optin_Ab-12"))
    assert (event.start_token, event.text) == ("optin_Ab-12", "/start optin_Ab-12")


@pytest.mark.parametrize(
    "payload", ["a" * 65, "has space", "umlaut-ä", "semi;colon", "dot.ted", ""]
)
def test_start_with_a_malformed_payload_keeps_the_text_but_no_token(
    channel: TelegramChannel, people: FakeTelegram, payload: str
) -> None:
    event = only_event(channel, people.user_writes(ANNA, f"/start {payload}"))
    assert (event.kind, event.start_token, event.text) == (
        InboundKind.TEXT,
        None,
        f"/start {payload}",
    )


def test_start_without_payload_has_no_token(channel: TelegramChannel, people: FakeTelegram) -> None:
    assert only_event(channel, people.user_starts(ANNA)).start_token is None


def test_a_token_shaped_word_after_another_command_is_no_start_token(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    assert only_event(channel, people.user_writes(ANNA, "/help abc")).start_token is None


def test_callback_query_becomes_a_button_tap_with_its_data(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    people.register(ANNA)
    update = people.user_taps(ANNA, "confirm-optin", message_id=7)
    event = only_event(channel, update)
    assert (event.kind, event.payload, event.sender, event.reply_to, event.sent_at) == (
        InboundKind.BUTTON,
        "confirm-optin",
        str(ANNA),
        f"{ANNA}:7",
        RECEIVED_AT,
    )
    assert event.provider_message_id == "cb:" + update["callback_query"]["id"]


def test_callback_query_id_is_recovered_from_the_event_for_answering(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    people.register(ANNA)
    update = people.user_taps(ANNA, "yes", message_id=3)
    assert callback_query_id(only_event(channel, update)) == update["callback_query"]["id"]


def test_callback_query_id_is_none_for_an_ordinary_message(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    assert callback_query_id(only_event(channel, people.user_writes(ANNA, "hi"))) is None


def test_photo_refers_to_the_largest_size_with_its_caption(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    update = people.user_sends_photo(ANNA, b"\xff\xd8 a jpeg", caption="Mein Hund")
    largest = update["message"]["photo"][1]["file_id"]
    event = only_event(channel, update)
    assert (event.kind, event.media) == (
        InboundKind.IMAGE,
        MediaRef(provider_media_id=largest, mime_type="image/jpeg", caption="Mein Hund"),
    )


@pytest.mark.parametrize(
    ("key", "file", "kind", "mime"),
    [
        ("document", {"file_name": "a.pdf", "mime_type": "application/pdf"}, "document", None),
        ("audio", {"mime_type": "audio/mpeg", "duration": 3}, "audio", None),
        ("voice", {"duration": 2}, "audio", "audio/ogg"),
        ("video", {"mime_type": "video/mp4", "width": 1, "height": 1}, "video", None),
        (
            "sticker",
            {"is_animated": False, "is_video": False, "type": "regular"},
            "sticker",
            "image/webp",
        ),
    ],
)
def test_file_messages_become_media_of_their_kind(
    channel: TelegramChannel,
    people: FakeTelegram,
    key: str,
    file: dict[str, Any],
    kind: str,
    mime: str | None,
) -> None:
    update = people.user_writes(ANNA, "placeholder")
    del update["message"]["text"]
    update["message"][key] = {"file_id": "BQACAgIAAxk", "file_unique_id": "AgAD", **file}
    event = only_event(channel, update)
    assert event.kind == InboundKind(kind)
    assert event.media.provider_media_id == "BQACAgIAAxk"
    assert event.media.mime_type == (mime or file["mime_type"])
    assert event.media.filename == file.get("file_name")


def test_location_and_venue_become_locations(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    pin = people.user_writes(ANNA, "x")
    del pin["message"]["text"]
    pin["message"]["location"] = {"latitude": 52.52, "longitude": 13.405}
    venue = people.user_writes(ANNA, "x")
    del venue["message"]["text"]
    venue["message"]["location"] = {"latitude": 48.1, "longitude": 11.5}
    venue["message"]["venue"] = {
        "location": {"latitude": 48.1, "longitude": 11.5},
        "title": "Laden",
        "address": "Hauptstr. 1",
    }
    assert only_event(channel, pin).location == Location(52.52, 13.405)
    assert only_event(channel, venue).location == Location(48.1, 11.5, "Laden", "Hauptstr. 1")


def test_shared_contact_carries_its_phone_number(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    update = people.user_writes(ANNA, "x")
    del update["message"]["text"]
    update["message"]["contact"] = {"phone_number": "+4915112345678", "first_name": "Ben"}
    event = only_event(channel, update)
    assert (event.kind, event.shared_contacts) == (InboundKind.CONTACTS, ("+4915112345678",))


def test_a_message_without_readable_content_is_unsupported(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    update = people.user_writes(ANNA, "x")
    del update["message"]["text"]
    update["message"]["dice"] = {"emoji": "🎲", "value": 4}
    assert only_event(channel, update).kind == InboundKind.UNSUPPORTED


def test_a_reply_names_the_message_it_answers(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    people.register(ANNA)
    event = only_event(channel, people.user_writes(ANNA, "Ja", reply_to=5))
    assert event.reply_to == f"{ANNA}:5"


def test_blocking_the_bot_stops_every_category(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    people.register(ANNA)
    assert only_event(channel, people.user_blocks_bot(ANNA)) == PreferenceChange(
        channel=ChannelKind.TELEGRAM,
        account="123456789",
        sender=str(ANNA),
        category="all",
        value=PreferenceValue.STOP,
        at=RECEIVED_AT,
        detail="blocked the bot",
    )


def test_unblocking_the_bot_is_not_read_as_consent(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    people.register(ANNA)
    update = people.user_blocks_bot(ANNA)
    update["my_chat_member"]["new_chat_member"]["status"] = "member"
    assert isinstance(only_event(channel, update), IgnoredEvent)


def test_edited_message_is_ignored_under_its_update_id(
    channel: TelegramChannel, people: FakeTelegram
) -> None:
    people.register(ANNA)
    update = people.user_edits(ANNA, 1, "corrected")
    event = only_event(channel, update)
    assert isinstance(event, IgnoredEvent)
    assert event.key == str(update["update_id"])


def test_a_group_message_is_ignored(channel: TelegramChannel, people: FakeTelegram) -> None:
    update = people.user_writes(ANNA, "hi all")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Club"}
    assert isinstance(only_event(channel, update), IgnoredEvent)


def test_updates_get_sequential_ids(people: FakeTelegram) -> None:
    first = people.user_writes(ANNA, "a")["update_id"]
    assert people.user_writes(ANNA, "b")["update_id"] == first + 1


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"update_id": "1"}',
        b'{"update_id": true}',
        b"[" * 100_000,
        b'{"update_id": 1, "message": []}',
        b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": "4242"}}}',
        b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}}}',
        b'{"update_id": 1, "message": {"message_id": 1, "date": 1e300,'
        b' "chat": {"id": 1, "type": "private"}}}',
        b'{"update_id": 1, "message": {"message_id": 1, "date": 99999999999999999,'
        b' "chat": {"id": 1, "type": "private"}}}',
        b'{"update_id": 1, "message": {"message_id": 1, "date": 1,'
        b' "chat": {"id": 1, "type": "private"}, "photo": {"file_id": "x"}}}',
        b'{"update_id": 1, "callback_query": {"id": 5, "from": {"id": 1}}}',
        b'{"update_id": 1, "my_chat_member": {"chat": {"id": 1, "type": "private"}}}',
    ],
)
def test_unreadable_bodies_are_malformed_webhooks(channel: TelegramChannel, raw: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        channel.parse(raw)


# -- sending -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_text_with_buttons_goes_out_as_an_inline_keyboard(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    message = OutboundMessage(
        to=str(ANNA),
        text="Newsletter abonnieren?",
        buttons=(Button("optin-yes", "Ja"), Button("optin-no", "Nein")),
    )
    outcome = await live.send(message)
    assert outcome == Sent(f"{ANNA}:1")
    sent = fake.sent[0]
    assert (sent.method, sent.text, sent.buttons) == (
        "sendMessage",
        "Newsletter abonnieren?",
        (("Ja", "optin-yes"), ("Nein", "optin-no")),
    )


@pytest.mark.anyio
async def test_a_reply_quotes_the_original_message(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    fake.user_writes(ANNA, "Frage")
    await live.send(OutboundMessage(to=str(ANNA), text="Antwort", reply_to=f"{ANNA}:1"))
    assert fake.sent[0].reply_to_message_id == 1


@pytest.mark.parametrize(
    ("kind", "method"),
    [
        ("image", "sendPhoto"),
        ("document", "sendDocument"),
        ("audio", "sendAudio"),
        ("video", "sendVideo"),
    ],
)
@pytest.mark.anyio
async def test_media_goes_out_by_url_with_its_caption(
    fake: FakeTelegram, live: TelegramChannel, kind: str, method: str
) -> None:
    media = Media(kind=kind, url="https://example.org/flyer", caption="Unser Angebot")
    outcome = await live.send(OutboundMessage(to=str(ANNA), media=media))
    assert isinstance(outcome, Sent)
    sent = fake.sent[0]
    assert (sent.method, sent.media, sent.caption) == (
        method,
        "https://example.org/flyer",
        "Unser Angebot",
    )


@pytest.mark.anyio
async def test_a_template_is_refused_without_calling_telegram(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    outcome = await live.send(OutboundMessage(to=str(ANNA), template=Template("promo", "de")))
    assert isinstance(outcome, PermanentFailure)
    assert outcome.code == "template_unsupported"
    assert fake.sent == []


@pytest.mark.anyio
async def test_flood_control_gives_rate_limited_with_the_exact_retry_after(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    fake.flood_next(retry_after=1734)
    outcome = await live.send(OutboundMessage(to=str(ANNA), text="hi"))
    assert isinstance(outcome, RateLimited)
    assert (outcome.retry_after, outcome.scope) == (timedelta(seconds=1734), RateScope.ACCOUNT)


@pytest.mark.anyio
async def test_a_second_message_to_one_chat_within_a_second_is_rate_limited() -> None:
    now = [1_000.0]
    async with FakeTelegram(per_chat_per_second=1, clock=lambda: now[0]) as fake:
        fake.register(ANNA)
        adapter = TelegramChannel(settings(fake.base_url))
        try:
            first = await adapter.send(OutboundMessage(to=str(ANNA), text="eins"))
            now[0] += 0.25
            second = await adapter.send(OutboundMessage(to=str(ANNA), text="zwei"))
            now[0] += 1
            third = await adapter.send(OutboundMessage(to=str(ANNA), text="zwei"))
        finally:
            await adapter.close()
    assert isinstance(first, Sent)
    assert isinstance(second, RateLimited)
    assert second.retry_after == timedelta(seconds=1)
    assert isinstance(third, Sent)


@pytest.mark.anyio
async def test_a_person_who_blocked_the_bot_is_unreachable_as_blocked(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    fake.block(ANNA)
    outcome = await live.send(OutboundMessage(to=str(ANNA), text="hi"))
    assert outcome == RecipientUnreachable(
        Unreachability.BLOCKED, "403", "Forbidden: bot was blocked by the user"
    )


@pytest.mark.parametrize(
    "description",
    ["Forbidden: user is deactivated", "Forbidden: bot was kicked from the group chat"],
)
@pytest.mark.anyio
async def test_the_siblings_of_blocked_are_blocked_too(
    fake: FakeTelegram, live: TelegramChannel, description: str
) -> None:
    fake.fail_next(403, description)
    outcome = await live.send(OutboundMessage(to=str(ANNA), text="hi"))
    assert isinstance(outcome, RecipientUnreachable)
    assert outcome.why == Unreachability.BLOCKED


@pytest.mark.anyio
async def test_an_unknown_chat_is_undeliverable(live: TelegramChannel) -> None:
    outcome = await live.send(OutboundMessage(to="999", text="hi"))
    assert outcome == RecipientUnreachable(
        Unreachability.UNDELIVERABLE, "400", "Bad Request: chat not found"
    )


@pytest.mark.anyio
async def test_a_wrong_bot_token_is_a_permanent_failure(fake: FakeTelegram) -> None:
    adapter = TelegramChannel(
        settings(fake.base_url, bot_token=SecretStr("123456789:revoked-token"))
    )
    try:
        outcome = await adapter.send(OutboundMessage(to=str(ANNA), text="hi"))
    finally:
        await adapter.close()
    assert outcome == PermanentFailure("401", "Unauthorized")


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("", "Bad Request: message text is empty"),
        ("   ", "Bad Request: message text is empty"),
        ("x" * 4097, "Bad Request: message is too long"),
        ("😀" * 2049, "Bad Request: message is too long"),
    ],
)
@pytest.mark.anyio
async def test_invalid_text_fails_permanently_with_telegrams_description(
    live: TelegramChannel, text: str, description: str
) -> None:
    outcome = await live.send(OutboundMessage(to=str(ANNA), text=text))
    assert outcome == PermanentFailure("400", description)


@pytest.mark.anyio
async def test_text_of_exactly_the_maximum_length_is_sent(live: TelegramChannel) -> None:
    outcome = await live.send(OutboundMessage(to=str(ANNA), text="x" * 4096))
    assert isinstance(outcome, Sent)


@pytest.mark.anyio
async def test_button_data_longer_than_64_bytes_fails_permanently(live: TelegramChannel) -> None:
    message = OutboundMessage(to=str(ANNA), text="hi", buttons=(Button("ü" * 33, "Ja"),))
    outcome = await live.send(message)
    assert outcome == PermanentFailure("400", "Bad Request: BUTTON_DATA_INVALID")


@pytest.mark.anyio
async def test_a_server_error_is_transient(fake: FakeTelegram, live: TelegramChannel) -> None:
    fake.fail_next(502, "Bad Gateway")
    outcome = await live.send(OutboundMessage(to=str(ANNA), text="hi"))
    assert outcome == TransientFailure("502", "Bad Gateway")


@pytest.mark.anyio
async def test_a_closed_port_is_transient_and_does_not_reveal_the_token() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = TelegramChannel(settings(f"http://127.0.0.1:{port}"))
    try:
        outcome = await adapter.send(OutboundMessage(to=str(ANNA), text="hi"))
    finally:
        await adapter.close()
    assert isinstance(outcome, TransientFailure)
    assert outcome.code == "network_error"
    assert DEFAULT_TOKEN.split(":")[1] not in outcome.detail


# -- callbacks, webhook, links and files -------------------------------------------------


@pytest.mark.anyio
async def test_answer_callback_answers_the_query_with_a_notice(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    query_id = fake.user_taps(ANNA, "yes", message_id=1)["callback_query"]["id"]
    outcome = await live.answer_callback(query_id, "Danke!")
    assert outcome == Sent("cb:" + query_id)
    assert fake.answered_callbacks == [(query_id, "Danke!")]


@pytest.mark.anyio
async def test_answering_an_unknown_callback_fails_permanently(live: TelegramChannel) -> None:
    outcome = await live.answer_callback("31337")
    assert isinstance(outcome, PermanentFailure)
    assert "query ID is invalid" in outcome.detail


@pytest.mark.anyio
async def test_set_webhook_registers_the_url_secret_and_update_kinds(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    await live.set_webhook("https://botschaft.example/webhooks/telegram")
    assert fake.webhook == {
        "url": "https://botschaft.example/webhooks/telegram",
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query", "my_chat_member"],
    }


@pytest.mark.anyio
async def test_set_webhook_refused_by_telegram_raises_with_its_description(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    fake.fail_next(400, "Bad Request: bad webhook: Failed to resolve host")
    with pytest.raises(TelegramCallFailed, match="Failed to resolve host"):
        await live.set_webhook("https://botschaft.invalid/webhooks/telegram")


@pytest.mark.parametrize("secret", ["not allowed!", "ä", "x" * 257])
def test_a_webhook_secret_telegram_would_refuse_is_a_config_error(secret: str) -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        TelegramChannel(settings(webhook_secret=SecretStr(secret)))


def test_a_malformed_bot_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="BOT_TOKEN"):
        TelegramChannel(settings(bot_token=SecretStr("no-colon-here")))


def test_deep_link_opens_the_bot_with_the_token(channel: TelegramChannel) -> None:
    assert channel.deep_link("optin_Ab-12") == "https://t.me/botschaft_test_bot?start=optin_Ab-12"


@pytest.mark.parametrize("token", ["", "a" * 65, "with space", "a&b=c", "ä"])
def test_deep_link_refuses_a_token_telegram_would_not_carry(
    channel: TelegramChannel, token: str
) -> None:
    with pytest.raises(ValueError, match="start token"):
        channel.deep_link(token)


@pytest.mark.anyio
async def test_fetch_media_downloads_the_photo_a_person_sent(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    photo = b"\xff\xd8\xff\xe0 pretend this is a jpeg " * 10
    event = live.parse(body(fake.user_sends_photo(ANNA, photo)))[0]
    assert isinstance(event, InboundMessage)
    assert event.media is not None
    assert await live.fetch_media(event.media) == (photo, "image/jpeg")


@pytest.mark.anyio
async def test_fetch_media_of_an_unknown_file_raises(live: TelegramChannel) -> None:
    with pytest.raises(TelegramCallFailed, match="invalid file_id"):
        await live.fetch_media(MediaRef(provider_media_id="nope", mime_type="image/jpeg"))


@pytest.mark.anyio
async def test_an_update_delivered_with_the_secret_is_verified_and_read(
    fake: FakeTelegram, live: TelegramChannel
) -> None:
    received: list[Event] = []

    async def webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            live.verify(request.headers, raw)
        except WebhookRejected as refused:
            return web.Response(status=refused.status)
        received.extend(live.parse(raw))
        return web.Response()

    app = web.Application()
    app.router.add_post("/webhooks/telegram", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/webhooks/telegram"
    try:
        accepted = await fake.deliver_update(url, fake.user_starts(ANNA, "tok_1"), SECRET)
        forbidden = await fake.deliver_update(url, fake.user_writes(ANNA, "x"), "wrong")
        unsigned = await fake.deliver_update(url, fake.user_writes(ANNA, "x"), None)
    finally:
        await runner.cleanup()
    assert (accepted, forbidden, unsigned) == (200, 403, 401)
    assert len(received) == 1
    assert isinstance(received[0], InboundMessage)
    assert received[0].start_token == "tok_1"


# -- the fake keeps Telegram's contract --------------------------------------------------


@pytest.mark.anyio
async def test_fake_accepts_form_bodies_with_json_encoded_markup(fake: FakeTelegram) -> None:
    form = {
        "chat_id": str(ANNA),
        "text": "hi",
        "reply_markup": json.dumps({"inline_keyboard": [[{"text": "Ja", "callback_data": "y"}]]}),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/bot{DEFAULT_TOKEN}/sendMessage", data=form) as response,
    ):
        answer = await response.json()
    assert answer["ok"] is True
    assert answer["result"]["chat"]["id"] == ANNA
    assert fake.sent[0].buttons == (("Ja", "y"),)


@pytest.mark.anyio
async def test_fake_answers_an_unknown_method_with_404(fake: FakeTelegram) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/bot{DEFAULT_TOKEN}/sendTelepathy", json={}) as response,
    ):
        answer = await response.json()
    assert (response.status, answer["ok"], answer["error_code"]) == (404, False, 404)


@pytest.mark.anyio
async def test_fake_limits_the_whole_bot_per_second() -> None:
    now = [5_000.0]
    async with FakeTelegram(per_second=2, clock=lambda: now[0]) as fake:
        for chat_id in (1, 2, 3):
            fake.register(chat_id)
        adapter = TelegramChannel(settings(fake.base_url))
        try:
            outcomes = [
                await adapter.send(OutboundMessage(to=str(chat_id), text="hi"))
                for chat_id in (1, 2, 3)
            ]
        finally:
            await adapter.close()
    assert [type(outcome) for outcome in outcomes] == [Sent, Sent, RateLimited]


@pytest.mark.anyio
async def test_fake_refuses_a_webhook_secret_with_unallowed_characters(fake: FakeTelegram) -> None:
    request = {"url": "https://botschaft.example/hook", "secret_token": "not allowed!"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/bot{DEFAULT_TOKEN}/setWebhook", json=request) as response,
    ):
        answer = await response.json()
    assert (response.status, answer["description"]) == (
        400,
        "Bad Request: bad webhook: secret token contains unallowed characters",
    )
    assert fake.webhook is None
