"""The Messenger adapter against the fake Send API, over real HTTP on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from botschaft.channels.base import MalformedWebhook, WebhookForbidden, WebhookRejected
from botschaft.channels.events import (
    DeliveryStatus,
    IgnoredEvent,
    InboundKind,
    InboundMessage,
    MediaRef,
    PreferenceChange,
    PreferenceValue,
    StatusUpdate,
)
from botschaft.channels.messages import Button, Media, MessageTag, OutboundMessage, Template
from botschaft.channels.messenger import MediaUnavailable, MessengerChannel
from botschaft.channels.messenger_errors import outcome_for_error
from botschaft.channels.outcomes import (
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    Sent,
    TransientFailure,
    Unreachability,
    WindowClosed,
)
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import ConfigError
from botschaft.services.clock import ManualClock
from botschaft.settings import MessengerSettings
from botschaft.testing.fake_messenger import FakeMessenger

PSID = "6842901537218044"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeMessenger]:
    async with FakeMessenger(clock=clock.now) as server:
        yield server


@pytest.fixture
async def channel(fake: FakeMessenger) -> AsyncIterator[MessengerChannel]:
    adapter = MessengerChannel(fake.settings())
    yield adapter
    await adapter.close()


@pytest.fixture
def offline_fake(clock: ManualClock) -> FakeMessenger:
    """For webhook tests: payload builders and signing need no running server."""
    return FakeMessenger(clock=clock.now)


@pytest.fixture
def offline_channel(offline_fake: FakeMessenger) -> MessengerChannel:
    return MessengerChannel(_settings(offline_fake, "http://127.0.0.1:9"))


def _settings(fake: FakeMessenger, api_base: str, **changes: Any) -> MessengerSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "api_base": api_base,
        "page_id": fake.page_id,
        "page_access_token": fake.page_access_token,
        "app_secret": fake.app_secret,
        "verify_token": fake.verify_token,
    }
    return MessengerSettings(**(values | changes))


def _parse(channel: MessengerChannel, fake: FakeMessenger, payload: dict[str, Any]) -> list[Any]:
    body, headers = fake.signed_webhook(payload)
    channel.verify(headers, body)
    return channel.parse(body)


def _body(document: object) -> bytes:
    return json.dumps(document).encode()


# -- signature and handshake -----------------------------------------------------------------


def test_webhook_signed_with_the_app_secret_is_accepted(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    body, headers = offline_fake.signed_webhook(offline_fake.user_writes(PSID, "Hallo"))

    offline_channel.verify(headers, body)


def test_webhook_signed_with_another_secret_is_forbidden(
    offline_channel: MessengerChannel, clock: ManualClock
) -> None:
    stranger = FakeMessenger(app_secret="not-our-app-secret", clock=clock.now)
    body, headers = stranger.signed_webhook(stranger.user_writes(PSID, "Hallo"))

    with pytest.raises(WebhookForbidden):
        offline_channel.verify(headers, body)


def test_webhook_without_signature_is_rejected(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    body, _ = offline_fake.signed_webhook(offline_fake.user_writes(PSID, "Hallo"))

    with pytest.raises(WebhookRejected) as rejected:
        offline_channel.verify({"Content-Type": "application/json"}, body)
    assert rejected.value.status == 401


def test_non_ascii_webhook_verifies_on_the_raw_escaped_bytes(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.user_writes(PSID, "Grüße von Jürgen Müller")
    body, headers = offline_fake.signed_webhook(payload)
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()

    offline_channel.verify(headers, body)
    with pytest.raises(WebhookForbidden):
        offline_channel.verify(headers, reserialised)
    [message] = offline_channel.parse(body)
    assert isinstance(message, InboundMessage)
    assert message.text == "Grüße von Jürgen Müller"


def test_handshake_with_the_verify_token_returns_the_challenge(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": offline_fake.verify_token,
    }

    assert offline_channel.handshake(params) == "1158201444"


def test_handshake_with_a_wrong_verify_token_is_forbidden(
    offline_channel: MessengerChannel,
) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "nope"}

    with pytest.raises(WebhookForbidden):
        offline_channel.handshake(params)


def test_adapter_refuses_settings_without_the_page_token(offline_fake: FakeMessenger) -> None:
    # Switched off, the settings themselves do not insist on the token; the adapter does.
    settings = _settings(offline_fake, "http://127.0.0.1:9", enabled=False, page_access_token=None)

    with pytest.raises(ConfigError, match="BOTSCHAFT_MESSENGER__PAGE_ACCESS_TOKEN"):
        MessengerChannel(settings)


# -- parsing ---------------------------------------------------------------------------------


def test_text_message_becomes_an_inbound_text_with_aware_utc_time(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    sent_at = datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC)
    payload = offline_fake.text_webhook(PSID, "Hallo", mid="m_abc", at=sent_at)

    [message] = _parse(offline_channel, offline_fake, payload)

    assert message == InboundMessage(
        channel=ChannelKind.MESSENGER,
        account=offline_fake.page_id,
        provider_message_id="m_abc",
        sender=PSID,
        sent_at=sent_at,
        kind=InboundKind.TEXT,
        text="Hallo",
    )
    assert message.sent_at.tzinfo is UTC


def test_quick_reply_tap_becomes_a_button_with_its_payload(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.quick_reply_webhook(PSID, "Ja, gerne", "CONFIRM_OPT_IN")

    [message] = _parse(offline_channel, offline_fake, payload)

    assert message.kind is InboundKind.BUTTON
    assert (message.text, message.payload) == ("Ja, gerne", "CONFIRM_OPT_IN")


def test_postback_with_referral_carries_the_ref_as_start_token(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.postback_webhook(PSID, "Los geht's", "GET_STARTED", ref="doi-7f3a")

    [message] = _parse(offline_channel, offline_fake, payload)

    assert message.kind is InboundKind.BUTTON
    assert (message.payload, message.start_token) == ("GET_STARTED", "doi-7f3a")
    assert message.provider_message_id.startswith("m_")


def test_postback_takes_the_start_token_from_a_top_level_referral(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.postback_webhook(PSID, "Los geht's", "GET_STARTED")
    item = payload["entry"][0]["messaging"][0]
    item["referral"] = {"ref": "doi-9c1e", "source": "SHORTLINK", "type": "OPEN_THREAD"}

    [message] = _parse(offline_channel, offline_fake, payload)

    assert message.start_token == "doi-9c1e"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("image", InboundKind.IMAGE),
        ("audio", InboundKind.AUDIO),
        ("video", InboundKind.VIDEO),
        ("file", InboundKind.DOCUMENT),
    ],
)
def test_attachment_becomes_media_with_the_cdn_url(
    offline_channel: MessengerChannel,
    offline_fake: FakeMessenger,
    kind: Any,
    expected: InboundKind,
) -> None:
    url = "https://scontent.xx.fbcdn.net/v/t1.15752-9/4711_n.jpg?_nc_cat=1&oh=00_AfB&oe=6A1B2C3D"
    payload = offline_fake.attachment_webhook(PSID, kind, url)

    [message] = _parse(offline_channel, offline_fake, payload)

    assert message.kind is expected
    assert message.media is not None
    assert message.media.url == url


def test_image_attachment_gets_its_mime_type_from_the_url(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    url = "https://scontent.xx.fbcdn.net/v/t1.15752-9/4711_n.png?oh=00_AfB&oe=6A1B2C3D"

    [message] = _parse(
        offline_channel, offline_fake, offline_fake.attachment_webhook(PSID, "image", url)
    )

    assert message.media.mime_type == "image/png"


def test_voice_clip_in_an_mp4_file_is_not_typed_as_video(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    url = "https://cdn.fbsbx.com/v/t59.3654-21/audioclip-1709-4711.mp4?oh=00_AfB&oe=6A1B2C3D"

    [message] = _parse(
        offline_channel, offline_fake, offline_fake.attachment_webhook(PSID, "audio", url)
    )

    assert message.kind is InboundKind.AUDIO
    assert message.media.mime_type == "audio/*"


def test_shared_location_becomes_a_location_message(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.location_webhook(PSID, 52.520008, 13.404954)

    [message] = _parse(offline_channel, offline_fake, payload)

    assert message.kind is InboundKind.LOCATION
    assert (message.location.latitude, message.location.longitude) == (52.520008, 13.404954)


def test_message_with_two_images_becomes_two_messages_with_distinct_ids(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.attachment_webhook(PSID, "image", "https://cdn.example/a.jpg")
    message = payload["entry"][0]["messaging"][0]["message"]
    message["attachments"].append(
        {"type": "image", "payload": {"url": "https://cdn.example/b.jpg"}}
    )

    first, second = _parse(offline_channel, offline_fake, payload)

    assert first.provider_message_id == message["mid"]
    assert second.provider_message_id == f"{message['mid']}/1"
    assert second.media.url == "https://cdn.example/b.jpg"


def test_delivery_becomes_a_delivered_status_per_message_id(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger, clock: ManualClock
) -> None:
    payload = offline_fake.delivery_webhook(PSID, ["m_one", "m_two"])

    events = _parse(offline_channel, offline_fake, payload)

    assert events == [
        StatusUpdate(
            channel=ChannelKind.MESSENGER,
            account=offline_fake.page_id,
            provider_message_id=mid,
            status=DeliveryStatus.DELIVERED,
            at=clock.now(),
            recipient=PSID,
        )
        for mid in ("m_one", "m_two")
    ]


def test_delivery_without_its_own_timestamp_takes_the_entry_time(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger, clock: ManualClock
) -> None:
    payload = offline_fake.delivery_webhook(PSID, ["m_one"])
    del payload["entry"][0]["messaging"][0]["timestamp"]

    [status] = _parse(offline_channel, offline_fake, payload)

    assert status.at == clock.now()


def test_read_receipt_is_ignored_because_it_names_no_message(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    [event] = _parse(offline_channel, offline_fake, offline_fake.read_webhook(PSID))

    assert isinstance(event, IgnoredEvent)
    assert "watermark" in event.description


def test_echo_of_our_own_message_is_dropped(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.echo_webhook(PSID, "Danke für Ihre Nachricht!", "m_ours")

    [event] = _parse(offline_channel, offline_fake, payload)

    assert event == IgnoredEvent(
        ChannelKind.MESSENGER, "echo of a message the page sent", "echo:m_ours"
    )


def test_referral_without_a_message_is_ignored_with_its_ref_described(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    [event] = _parse(offline_channel, offline_fake, offline_fake.referral_webhook(PSID, "doi-7f3a"))

    assert isinstance(event, IgnoredEvent)
    assert "doi-7f3a" in event.description


def test_stopping_marketing_messages_in_messenger_is_a_preference_stop(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.optin_webhook(PSID, "STOP_NOTIFICATIONS")

    [event] = _parse(offline_channel, offline_fake, payload)

    assert isinstance(event, PreferenceChange)
    assert (event.sender, event.value) == (PSID, PreferenceValue.STOP)
    assert event.category == "marketing_messages"


def test_a_fresh_marketing_opt_in_is_ignored(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    [event] = _parse(offline_channel, offline_fake, offline_fake.optin_webhook(PSID))

    assert isinstance(event, IgnoredEvent)


def test_unknown_event_kind_is_ignored_not_rejected(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    payload = offline_fake.text_webhook(PSID, "x")
    item = payload["entry"][0]["messaging"][0]
    del item["message"]
    item["reaction"] = {"mid": "m_ours", "action": "react", "reaction": "love", "emoji": "❤"}

    [event] = _parse(offline_channel, offline_fake, payload)

    assert isinstance(event, IgnoredEvent)
    assert "reaction" in event.description


def test_batched_entries_are_all_parsed_in_order(
    offline_channel: MessengerChannel, offline_fake: FakeMessenger
) -> None:
    first = offline_fake.text_webhook(PSID, "eins")
    second = offline_fake.text_webhook("7310455128877312", "zwei")
    first["entry"].extend(second["entry"])

    events = _parse(offline_channel, offline_fake, first)

    assert [event.text for event in events] == ["eins", "zwei"]


def test_entry_without_messaging_yields_no_events(offline_channel: MessengerChannel) -> None:
    body = _body({"object": "page", "entry": [{"id": "1", "time": 1, "changes": []}]})

    assert offline_channel.parse(body) == []


def _page(*items: object) -> bytes:
    return _body({"object": "page", "entry": [{"id": "1", "time": 1, "messaging": list(items)}]})


SENDER = {"sender": {"id": PSID}, "timestamp": 1}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json at all", id="not-json"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(_body(["object", "page"]), id="not-an-object"),
        pytest.param(
            _body({"object": "whatsapp_business_account", "entry": []}), id="wrong-object"
        ),
        pytest.param(_body({"object": "page"}), id="no-entry"),
        pytest.param(_body({"object": "page", "entry": {"id": "1"}}), id="entry-not-a-list"),
        pytest.param(_body({"object": "page", "entry": ["x"]}), id="entry-not-an-object"),
        pytest.param(
            _body({"object": "page", "entry": [{"id": "1", "messaging": {}}]}),
            id="messaging-not-a-list",
        ),
        pytest.param(_page({"sender": {}, "timestamp": 1, "message": {}}), id="sender-without-id"),
        pytest.param(
            _page({**SENDER, "timestamp": "1700000000000", "message": {"mid": "m"}}),
            id="timestamp-as-string",
        ),
        pytest.param(_page({**SENDER, "message": "hello"}), id="message-not-an-object"),
        pytest.param(
            _page({**SENDER, "message": {"mid": "m", "text": 42}}), id="text-not-a-string"
        ),
        pytest.param(_page({**SENDER, "message": {"text": "hi"}}), id="message-without-mid"),
        pytest.param(_page({**SENDER, "delivery": {"mids": "m_one"}}), id="mids-not-a-list"),
    ],
)
def test_malformed_body_is_rejected_as_malformed_webhook(
    offline_channel: MessengerChannel, body: bytes
) -> None:
    with pytest.raises(MalformedWebhook):
        offline_channel.parse(body)


async def _receiver(channel: MessengerChannel, received: list[Any]) -> web.AppRunner:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            channel.verify(request.headers, body)
        except WebhookRejected as exc:
            return web.Response(status=exc.status)
        received.extend(channel.parse(body))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhooks/messenger", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


@pytest.mark.anyio
async def test_delivered_webhook_reaches_a_receiver_that_verifies_and_parses(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    received: list[Any] = []
    runner = await _receiver(channel, received)
    host, port = runner.addresses[0][:2]
    try:
        status = await fake.deliver_webhook(
            f"http://{host}:{port}/webhooks/messenger", fake.user_writes(PSID, "Tschüss")
        )
    finally:
        await runner.cleanup()

    assert status == 200
    assert [event.text for event in received] == ["Tschüss"]


# -- sending ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_text_with_buttons_goes_out_as_quick_replies_inside_the_window(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")
    message = OutboundMessage(
        to=PSID,
        text="Möchten Sie unsere Angebote erhalten?",
        buttons=(Button("OPT_IN_YES", "Ja"), Button("OPT_IN_NO", "Nein")),
    )

    outcome = await channel.send(message)

    [accepted] = fake.sent
    assert outcome == Sent(accepted.message_id)
    assert accepted.message_id.startswith("m_")
    assert accepted.messaging_type == "RESPONSE"
    assert accepted.message == {
        "text": "Möchten Sie unsere Angebote erhalten?",
        "quick_replies": [
            {"content_type": "text", "title": "Ja", "payload": "OPT_IN_YES"},
            {"content_type": "text", "title": "Nein", "payload": "OPT_IN_NO"},
        ],
    }


@pytest.mark.anyio
async def test_document_goes_out_as_a_file_attachment_by_url(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Schicken Sie mir den Katalog?")
    media = Media(kind="document", url="https://shop.example/katalog.pdf")

    outcome = await channel.send(OutboundMessage(to=PSID, media=media))

    assert isinstance(outcome, Sent)
    assert fake.sent[0].message == {
        "attachment": {
            "type": "file",
            "payload": {"url": "https://shop.example/katalog.pdf", "is_reusable": False},
        }
    }


@pytest.mark.anyio
async def test_reply_just_inside_the_24_hour_window_is_sent(
    fake: FakeMessenger, channel: MessengerChannel, clock: ManualClock
) -> None:
    fake.user_writes(PSID, "Hallo")
    clock.advance(timedelta(hours=23, minutes=59))

    outcome = await channel.send(OutboundMessage(to=PSID, text="Gern geschehen."))

    assert isinstance(outcome, Sent)


@pytest.mark.anyio
async def test_reply_after_the_24_hour_window_is_window_closed(
    fake: FakeMessenger, channel: MessengerChannel, clock: ManualClock
) -> None:
    fake.user_writes(PSID, "Hallo")
    clock.advance(timedelta(hours=25))

    outcome = await channel.send(OutboundMessage(to=PSID, text="Gern geschehen."))

    assert isinstance(outcome, WindowClosed)
    assert outcome.code == "10/2018278"
    assert fake.sent == []


@pytest.mark.anyio
async def test_human_agent_reply_after_three_days_is_sent_with_the_tag(
    fake: FakeMessenger, channel: MessengerChannel, clock: ManualClock
) -> None:
    fake.user_writes(PSID, "Wo bleibt meine Bestellung?")
    clock.advance(timedelta(days=3))
    message = OutboundMessage(to=PSID, text="Sie ist unterwegs.", tag=MessageTag.HUMAN_AGENT)

    outcome = await channel.send(message)

    assert isinstance(outcome, Sent)
    assert (fake.sent[0].messaging_type, fake.sent[0].tag) == ("MESSAGE_TAG", "HUMAN_AGENT")


@pytest.mark.anyio
async def test_human_agent_reply_after_eight_days_is_window_closed(
    fake: FakeMessenger, channel: MessengerChannel, clock: ManualClock
) -> None:
    fake.user_writes(PSID, "Wo bleibt meine Bestellung?")
    clock.advance(timedelta(days=8))
    message = OutboundMessage(to=PSID, text="Sie ist unterwegs.", tag=MessageTag.HUMAN_AGENT)

    outcome = await channel.send(message)

    assert isinstance(outcome, WindowClosed)


@pytest.mark.anyio
async def test_page_rate_limit_slows_the_whole_account(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")
    fake.limit_rate(613)

    outcome = await channel.send(OutboundMessage(to=PSID, text="Hallo zurück"))

    assert isinstance(outcome, RateLimited)
    assert outcome.scope is RateScope.ACCOUNT
    assert outcome.code == "613"
    assert outcome.retry_after > timedelta(0)


@pytest.mark.anyio
async def test_person_not_available_is_recipient_unreachable(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")
    fake.fail_next(PSID, 551)

    outcome = await channel.send(OutboundMessage(to=PSID, text="Hallo zurück"))

    assert isinstance(outcome, RecipientUnreachable)
    assert outcome.why is Unreachability.UNDELIVERABLE


@pytest.mark.anyio
async def test_restricted_page_fails_permanently(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")
    fake.fail_next(PSID, 10, 1893063)

    outcome = await channel.send(OutboundMessage(to=PSID, text="Hallo zurück"))

    assert outcome == PermanentFailure(
        "10/1893063", "(#10) This Page is restricted from messaging."
    )


@pytest.mark.anyio
async def test_provider_hiccup_is_a_transient_failure(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")
    fake.fail_next(PSID, 1200)

    outcome = await channel.send(OutboundMessage(to=PSID, text="Hallo zurück"))

    assert isinstance(outcome, TransientFailure)
    assert outcome.code == "1200"


@pytest.mark.anyio
async def test_unknown_page_scoped_id_is_recipient_unreachable(
    channel: MessengerChannel,
) -> None:
    outcome = await channel.send(OutboundMessage(to="999", text="Hallo?"))

    assert isinstance(outcome, RecipientUnreachable)
    assert outcome.code == "100/2018001"


@pytest.mark.anyio
async def test_wrong_page_token_is_a_permanent_failure(fake: FakeMessenger) -> None:
    fake.user_writes(PSID, "Hallo")
    adapter = MessengerChannel(_settings(fake, fake.base_url, page_access_token="expired"))
    try:
        outcome = await adapter.send(OutboundMessage(to=PSID, text="Hallo zurück"))
    finally:
        await adapter.close()

    assert isinstance(outcome, PermanentFailure)
    assert outcome.code == "190"


@pytest.mark.anyio
async def test_too_long_text_fails_permanently_with_the_providers_message(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")

    outcome = await channel.send(OutboundMessage(to=PSID, text="x" * 2001))

    assert outcome == PermanentFailure(
        "100", "(#100) Length of param message[text] must be less than or equal to 2000"
    )


@pytest.mark.anyio
async def test_template_is_refused_without_calling_messenger(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")

    outcome = await channel.send(OutboundMessage(to=PSID, template=Template("offer", "de")))

    assert isinstance(outcome, PermanentFailure)
    assert "template" in outcome.detail
    assert fake.sent == []


@pytest.mark.anyio
async def test_media_caption_is_refused_rather_than_dropped(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    fake.user_writes(PSID, "Hallo")
    media = Media(kind="image", url="https://shop.example/a.jpg", caption="Unser Angebot")

    outcome = await channel.send(OutboundMessage(to=PSID, media=media))

    assert isinstance(outcome, PermanentFailure)
    assert fake.sent == []


@pytest.mark.anyio
async def test_unreachable_server_is_a_transient_failure(offline_fake: FakeMessenger) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = MessengerChannel(_settings(offline_fake, f"http://127.0.0.1:{port}"))
    try:
        outcome = await adapter.send(OutboundMessage(to=PSID, text="Hallo"))
    finally:
        await adapter.close()

    assert isinstance(outcome, TransientFailure)
    assert outcome.code == "network"
    assert offline_fake.page_access_token not in outcome.detail


@pytest.mark.parametrize(
    ("error", "http_status", "expected"),
    [
        pytest.param({"code": 4}, 400, RateLimited, id="app-rate-limit"),
        pytest.param({"code": 200, "error_subcode": 1545041}, 400, RecipientUnreachable, id="200"),
        pytest.param(
            {"code": 190, "error_subcode": 463}, 400, PermanentFailure, id="token-expired"
        ),
        pytest.param({"code": 2}, 503, TransientFailure, id="service-unavailable"),
        pytest.param({"code": 1}, 500, TransientFailure, id="unknown-with-5xx"),
        pytest.param({"code": 1, "is_transient": True}, 400, TransientFailure, id="is-transient"),
        pytest.param({"code": 368}, 400, PermanentFailure, id="unknown"),
    ],
)
def test_graph_errors_map_to_neutral_outcomes_through_the_one_table(
    error: dict[str, Any], http_status: int, expected: type
) -> None:
    outcome = outcome_for_error(http_status, {"message": "(#x) Meta says so", **error})

    assert isinstance(outcome, expected)


def test_unknown_graph_error_keeps_metas_code_and_message() -> None:
    error = {"code": 368, "error_subcode": 1390008, "message": "(#368) Blocked for policy"}

    assert outcome_for_error(400, error) == PermanentFailure(
        "368/1390008", "(#368) Blocked for policy"
    )


# -- attachments -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_fetch_media_downloads_the_attachment_from_its_signed_url(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    url = fake.add_attachment(b"\x89PNG\r\n\x1a\nbild", "image/png", "foto.png")
    [message] = channel.parse(fake.signed_webhook(fake.attachment_webhook(PSID, "image", url))[0])

    data, content_type = await channel.fetch_media(message.media)

    assert (data, content_type) == (b"\x89PNG\r\n\x1a\nbild", "image/png")


@pytest.mark.anyio
async def test_fetch_media_with_an_altered_url_is_media_unavailable(
    fake: FakeMessenger, channel: MessengerChannel
) -> None:
    url = fake.add_attachment(b"bild", "image/png", "foto.png")
    media = MediaRef(
        provider_media_id="m_x/0", mime_type="image/png", url=url.replace("oh=", "oh=0")
    )

    with pytest.raises(MediaUnavailable):
        await channel.fetch_media(media)
