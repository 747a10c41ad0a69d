"""The WhatsApp adapter against the fake Cloud API, over real HTTP on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from botschaft.channels.base import MalformedWebhook, WebhookForbidden, WebhookRejected
from botschaft.channels.events import (
    DeliveryStatus,
    Event,
    IgnoredEvent,
    InboundKind,
    InboundMessage,
    Location,
    MediaRef,
    PreferenceChange,
    PreferenceValue,
    ProviderError,
    StatusUpdate,
)
from botschaft.channels.messages import (
    Button,
    Media,
    OutboundMessage,
    Template,
    TemplateComponent,
    TemplateParameter,
)
from botschaft.channels.meta import sign
from botschaft.channels.outcomes import (
    Deferred,
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    SendOutcome,
    Sent,
    TransientFailure,
    Unreachability,
    WindowClosed,
)
from botschaft.channels.whatsapp import (
    MediaUnavailable,
    WhatsAppChannel,
    outcome_for_answer,
    outcome_for_error,
)
from botschaft.domain.channels import ChannelKind
from botschaft.settings import WhatsAppSettings
from botschaft.testing.fake_whatsapp import FakeWhatsApp

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ERIKA = "+4915112345678"
BSUID = "US.13491208655302741918"


class Clock:
    """A clock that moves only when a test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(clock=clock) as server:
        yield server


@pytest.fixture
async def channel(fake: FakeWhatsApp) -> AsyncIterator[WhatsAppChannel]:
    adapter = WhatsAppChannel(fake.settings())
    yield adapter
    await adapter.close()


@pytest.fixture
def builder(clock: Clock) -> FakeWhatsApp:
    """A fake that is never started: it only builds and signs webhook payloads."""
    return FakeWhatsApp(clock=clock)


@pytest.fixture
def receiver(builder: FakeWhatsApp) -> WhatsAppChannel:
    """An adapter for parsing and verifying; it never opens a connection."""
    return WhatsAppChannel(settings_for(builder, api_base="http://127.0.0.1:9"))


def settings_for(fake: FakeWhatsApp, **overrides: Any) -> WhatsAppSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "api_version": fake.api_version,
        "phone_number_id": fake.phone_number_id,
        "access_token": SecretStr(fake.access_token),
        "app_secret": SecretStr(fake.app_secret),
        "verify_token": SecretStr(fake.verify_token),
    }
    values.update(overrides)
    return WhatsAppSettings(**values)


def parse_one(channel: WhatsAppChannel, fake: FakeWhatsApp, payload: dict[str, Any]) -> Event:
    body, _ = fake.signed_webhook(payload)
    events = channel.parse(body)
    assert len(events) == 1
    return events[0]


def inbound(
    channel: WhatsAppChannel, fake: FakeWhatsApp, message: dict[str, Any]
) -> InboundMessage:
    event = parse_one(channel, fake, fake.message_webhook(ERIKA, message))
    assert isinstance(event, InboundMessage)
    return event


def template(name: str = "order_update") -> Template:
    return Template(name, "de", (TemplateComponent("body", (TemplateParameter(text="Erika"),)),))


# -- signature and handshake ------------------------------------------------------------------


def test_verify_accepts_a_body_signed_with_the_app_secret(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    body, headers = builder.signed_webhook(builder.receive_from(ERIKA, "Hallo"))
    receiver.verify(headers, body)


def test_verify_refuses_a_signature_made_with_another_secret(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    body, _ = builder.signed_webhook(builder.receive_from(ERIKA, "Hallo"))
    with pytest.raises(WebhookForbidden):
        receiver.verify({"X-Hub-Signature-256": sign("not-the-app-secret", body)}, body)


def test_verify_rejects_a_request_without_signature_header(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    body, _ = builder.signed_webhook(builder.receive_from(ERIKA, "Hallo"))
    with pytest.raises(WebhookRejected) as raised:
        receiver.verify({"Content-Type": "application/json"}, body)
    assert raised.type is WebhookRejected


def test_verify_rejects_a_request_signed_only_with_legacy_sha1(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    body, _ = builder.signed_webhook(builder.receive_from(ERIKA, "Hallo"))
    with pytest.raises(WebhookRejected) as raised:
        receiver.verify({"X-Hub-Signature": "sha1=" + "0" * 40}, body)
    assert raised.type is WebhookRejected


def test_verify_accepts_non_ascii_escaped_as_meta_signs_it(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    body, headers = builder.signed_webhook(
        builder.receive_from(ERIKA, "Grüße", name="Jürgen Müller")
    )
    assert b"M\\u00fcller" in body
    receiver.verify(headers, body)


def test_verify_refuses_non_ascii_body_that_was_reserialised(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    body, headers = builder.signed_webhook(
        builder.receive_from(ERIKA, "Grüße", name="Jürgen Müller")
    )
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    with pytest.raises(WebhookForbidden):
        receiver.verify(headers, reserialised)


def test_handshake_returns_the_challenge_for_the_verify_token(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": builder.verify_token,
    }
    assert receiver.handshake(params) == "1158201444"


def test_handshake_refuses_a_wrong_verify_token(receiver: WhatsAppChannel) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "x"}
    with pytest.raises(WebhookForbidden):
        receiver.handshake(params)


# -- parsing inbound messages ------------------------------------------------------------------


def test_text_message_becomes_inbound_text_from_e164_sender_with_profile_name(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    payload = builder.receive_from(ERIKA, "Hallo", name="Erika Mustermann")
    event = parse_one(receiver, builder, payload)
    message_id = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert event == InboundMessage(
        channel=ChannelKind.WHATSAPP,
        account=builder.phone_number_id,
        provider_message_id=message_id,
        sender=ERIKA,
        sent_at=NOW,
        kind=InboundKind.TEXT,
        text="Hallo",
        sender_name="Erika Mustermann",
    )


def test_timestamps_become_timezone_aware_utc(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    message = inbound(receiver, builder, {"type": "text", "text": {"body": "x"}, "timestamp": "0"})
    assert message.sent_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert message.sent_at.utcoffset() == timedelta(0)


def test_interactive_button_reply_carries_id_as_payload_and_title_as_text(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    reply = {"type": "button_reply", "button_reply": {"id": "yes-1", "title": "Ja"}}
    message = inbound(receiver, builder, {"type": "interactive", "interactive": reply})
    assert (message.kind, message.payload, message.text) == (InboundKind.BUTTON, "yes-1", "Ja")


def test_interactive_list_reply_carries_the_chosen_row(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    reply = {
        "type": "list_reply",
        "list_reply": {"id": "row-2", "title": "Dienstag", "description": "14 bis 18 Uhr"},
    }
    message = inbound(receiver, builder, {"type": "interactive", "interactive": reply})
    assert (message.kind, message.payload, message.text) == (
        InboundKind.LIST_REPLY,
        "row-2",
        "Dienstag",
    )


def test_template_quick_reply_tap_becomes_button_with_payload(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    tap = {"type": "button", "button": {"payload": "STOP_PROMOS", "text": "Keine Werbung"}}
    message = inbound(receiver, builder, tap)
    assert (message.kind, message.payload, message.text) == (
        InboundKind.BUTTON,
        "STOP_PROMOS",
        "Keine Werbung",
    )


@pytest.mark.parametrize(
    ("media_type", "kind"),
    [
        ("image", InboundKind.IMAGE),
        ("audio", InboundKind.AUDIO),
        ("video", InboundKind.VIDEO),
        ("document", InboundKind.DOCUMENT),
        ("sticker", InboundKind.STICKER),
    ],
)
def test_media_message_carries_metadata_only(
    receiver: WhatsAppChannel, builder: FakeWhatsApp, media_type: str, kind: InboundKind
) -> None:
    media = {"id": "1013859600285441", "mime_type": "image/webp", "sha256": "abc="}
    message = inbound(receiver, builder, {"type": media_type, media_type: media})
    assert message.kind is kind
    assert message.media == MediaRef("1013859600285441", "image/webp", sha256="abc=")


def test_document_keeps_caption_and_filename(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    document = {
        "id": "42",
        "mime_type": "application/pdf",
        "sha256": "s",
        "caption": "Rechnung",
        "filename": "rechnung.pdf",
    }
    message = inbound(receiver, builder, {"type": "document", "document": document})
    assert message.media is not None
    assert (message.media.caption, message.media.filename) == ("Rechnung", "rechnung.pdf")


def test_location_message_carries_coordinates_name_and_address(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    location = {"latitude": 52.52, "longitude": 13.405, "name": "Laden", "address": "Berlin"}
    message = inbound(receiver, builder, {"type": "location", "location": location})
    assert message.kind is InboundKind.LOCATION
    assert message.location == Location(52.52, 13.405, "Laden", "Berlin")


def test_contacts_message_lists_each_card_with_its_numbers(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    cards = [
        {
            "name": {"formatted_name": "Max Muster", "first_name": "Max"},
            "phones": [{"phone": "+49 30 123456", "type": "WORK"}, {"phone": "+49 151 1"}],
        },
        {"name": {"formatted_name": "Ohne Nummer"}},
    ]
    message = inbound(receiver, builder, {"type": "contacts", "contacts": cards})
    assert message.kind is InboundKind.CONTACTS
    assert message.shared_contacts == ("Max Muster: +49 30 123456, +49 151 1", "Ohne Nummer")


def test_reply_context_id_becomes_reply_to(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    message = inbound(
        receiver,
        builder,
        {
            "type": "text",
            "text": {"body": "Ja"},
            "context": {"from": builder.display_phone_number, "id": "wamid.ORIGINAL"},
        },
    )
    assert message.reply_to == "wamid.ORIGINAL"


def test_unknown_message_type_becomes_unsupported(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    reaction = {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}
    message = inbound(receiver, builder, reaction)
    assert message.kind is InboundKind.UNSUPPORTED
    assert message.text is None


def test_empty_from_uses_the_business_scoped_user_id_as_sender(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    payload = builder.message_webhook(BSUID, {"type": "text", "text": {"body": "Hi"}}, name="Anon")
    assert payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"] == ""
    event = parse_one(receiver, builder, payload)
    assert isinstance(event, InboundMessage)
    assert (event.sender, event.sender_name) == (BSUID, "Anon")


def test_every_entry_change_and_item_is_read_in_order(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    first = builder.receive_from(ERIKA, "eins")
    second = builder.receive_from("+4917099999999", "zwei")
    status = builder.status_webhook("wamid.A", "delivered", ERIKA)
    first["entry"][0]["changes"].extend(status["entry"][0]["changes"])
    first["entry"].extend(second["entry"])
    first["entry"][0]["changes"][0]["value"]["unknown_key"] = {"ignored": True}
    events = receiver.parse(builder.signed_webhook(first)[0])
    assert [type(event) for event in events] == [InboundMessage, StatusUpdate, InboundMessage]
    assert [getattr(event, "text", None) for event in events] == ["eins", None, "zwei"]


# -- parsing statuses and preferences ----------------------------------------------------------


def test_failed_status_carries_errors_and_callback_data(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    payload = builder.status_webhook(
        "wamid.OUT", "failed", ERIKA, errors=[131050], callback_data="campaign=7"
    )
    event = parse_one(receiver, builder, payload)
    assert isinstance(event, StatusUpdate)
    assert (event.status, event.recipient, event.at, event.callback_data) == (
        DeliveryStatus.FAILED,
        ERIKA,
        NOW,
        "campaign=7",
    )
    assert [error.code for error in event.errors] == ["131050"]
    assert event.errors[0].details == "The recipient stopped marketing messages."


@pytest.mark.parametrize("pricing", ["PMP", "CBP"])
def test_status_is_read_with_either_pricing_shape(
    receiver: WhatsAppChannel, builder: FakeWhatsApp, pricing: Any
) -> None:
    payload = builder.status_webhook("wamid.OUT", "delivered", ERIKA, pricing=pricing)
    event = parse_one(receiver, builder, payload)
    assert event == StatusUpdate(
        channel=ChannelKind.WHATSAPP,
        account=builder.phone_number_id,
        provider_message_id="wamid.OUT",
        status=DeliveryStatus.DELIVERED,
        at=NOW,
        recipient=ERIKA,
    )


def test_unknown_status_value_is_ignored_not_rejected(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    payload = builder.status_webhook("wamid.OUT", "read", ERIKA)
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "deleted"
    assert isinstance(parse_one(receiver, builder, payload), IgnoredEvent)


@pytest.mark.parametrize("value", [PreferenceValue.STOP, PreferenceValue.RESUME])
def test_user_preferences_become_marketing_preference_changes(
    receiver: WhatsAppChannel, builder: FakeWhatsApp, value: PreferenceValue
) -> None:
    payload = builder.preference_webhook(ERIKA, value.value)
    item = payload["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    assert isinstance(item["timestamp"], int)
    event = parse_one(receiver, builder, payload)
    assert isinstance(event, PreferenceChange)
    assert (event.sender, event.category, event.value, event.at) == (
        ERIKA,
        "marketing_messages",
        value,
        NOW,
    )


def test_unknown_change_field_becomes_ignored_event(
    receiver: WhatsAppChannel, builder: FakeWhatsApp
) -> None:
    payload = builder.receive_from(ERIKA, "x")
    change = payload["entry"][0]["changes"][0]
    change["field"] = "message_template_status_update"
    change["value"] = {"event": "APPROVED"}
    assert isinstance(parse_one(receiver, builder, payload), IgnoredEvent)


def _without_message_id(payload: dict[str, Any]) -> dict[str, Any]:
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    return payload


def _with(path: tuple[str | int, ...], value: object) -> Any:
    def change(payload: dict[str, Any]) -> dict[str, Any]:
        target: Any = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return payload

    return change


VALUE = ("entry", 0, "changes", 0, "value")


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda payload: b"not json", id="not-json"),
        pytest.param(lambda payload: b"\xff\xfe", id="not-utf8"),
        pytest.param(lambda payload: [payload], id="list-at-top"),
        pytest.param(_with(("object",), "page"), id="wrong-object"),
        pytest.param(_with(("entry",), {"id": "1"}), id="entry-not-a-list"),
        pytest.param(_with(("entry", 0), "entry"), id="entry-not-an-object"),
        pytest.param(_with(("entry", 0, "changes", 0), 7), id="change-not-an-object"),
        pytest.param(_without_message_id, id="message-without-id"),
        pytest.param(_with((*VALUE, "messages", 0, "timestamp"), "soon"), id="bad-timestamp"),
        pytest.param(_with((*VALUE, "messages", 0, "from"), ""), id="no-sender-at-all"),
        pytest.param(_with((*VALUE, "metadata"), None), id="no-metadata"),
        pytest.param(_with((*VALUE, "messages", 0, "text"), "Hallo"), id="text-not-an-object"),
    ],
)
def test_unusable_bodies_raise_malformed_webhook(
    receiver: WhatsAppChannel, builder: FakeWhatsApp, spoil: Any
) -> None:
    spoilt = spoil(builder.receive_from(ERIKA, "Hallo"))
    body = spoilt if isinstance(spoilt, bytes) else json.dumps(spoilt).encode()
    with pytest.raises(MalformedWebhook):
        receiver.parse(body)


# -- sending -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_text_inside_the_window_is_sent_as_documented(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.receive_from(ERIKA, "Hallo")
    outcome = await channel.send(OutboundMessage(ERIKA, text="Willkommen!"))
    assert isinstance(outcome, Sent)
    assert outcome.provider_message_id.startswith("wamid.")
    assert fake.sent[0].id == outcome.provider_message_id
    assert fake.sent[0].body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "text",
        "text": {"body": "Willkommen!", "preview_url": True},
    }


@pytest.mark.anyio
async def test_reply_to_and_callback_data_become_context_and_opaque_data(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.receive_from(ERIKA, "Hallo")
    message = OutboundMessage(ERIKA, text="Ja", reply_to="wamid.IN", callback_data="c=1")
    assert isinstance(await channel.send(message), Sent)
    body = fake.sent[0].body
    assert body["context"] == {"message_id": "wamid.IN"}
    assert body["biz_opaque_callback_data"] == "c=1"


@pytest.mark.anyio
async def test_media_is_sent_by_link_with_caption_and_filename(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.receive_from(ERIKA, "Hallo")
    media = Media(
        "document", "https://example.org/r.pdf", caption="Ihre Rechnung", filename="r.pdf"
    )
    assert isinstance(await channel.send(OutboundMessage(ERIKA, media=media)), Sent)
    body = fake.sent[0].body
    assert body["type"] == "document"
    assert body["document"] == {
        "link": "https://example.org/r.pdf",
        "caption": "Ihre Rechnung",
        "filename": "r.pdf",
    }


@pytest.mark.anyio
async def test_text_with_buttons_is_sent_as_interactive_reply_buttons(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.receive_from(ERIKA, "Hallo")
    buttons = (Button("yes", "Ja"), Button("no", "Nein"))
    assert isinstance(
        await channel.send(OutboundMessage(ERIKA, "Newsletter?", buttons=buttons)), Sent
    )
    body = fake.sent[0].body
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "button",
        "body": {"text": "Newsletter?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Ja"}},
                {"type": "reply", "reply": {"id": "no", "title": "Nein"}},
            ]
        },
    }


@pytest.mark.anyio
async def test_template_goes_out_without_an_open_window_with_components_as_documented(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    components = (
        TemplateComponent("header", (TemplateParameter(image_url="https://example.org/h.png"),)),
        TemplateComponent("body", (TemplateParameter(text="Erika"),)),
        TemplateComponent("button", (TemplateParameter(payload="STOP"),), "quick_reply", 0),
    )
    message = OutboundMessage(ERIKA, template=Template("spring_sale", "de", components))
    assert isinstance(await channel.send(message), Sent)
    assert fake.sent[0].body["template"] == {
        "name": "spring_sale",
        "language": {"code": "de"},
        "components": [
            {
                "type": "header",
                "parameters": [{"type": "image", "image": {"link": "https://example.org/h.png"}}],
            },
            {"type": "body", "parameters": [{"type": "text", "text": "Erika"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "STOP"}],
            },
        ],
    }


@pytest.mark.anyio
async def test_business_scoped_user_id_is_addressed_as_recipient(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.receive_from(BSUID, "Hallo")
    assert isinstance(await channel.send(OutboundMessage(BSUID, text="Hi")), Sent)
    body = fake.sent[0].body
    assert body["recipient"] == BSUID
    assert "to" not in body


@pytest.mark.anyio
async def test_a_template_goes_as_the_template_and_its_display_text_stays_home(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    outcome = await channel.send(OutboundMessage(ERIKA, text="shown in the inbox",
                                                 template=template()))
    assert isinstance(outcome, Sent)
    assert fake.sent[0].body["type"] == "template"
    assert "text" not in fake.sent[0].body


@pytest.mark.anyio
async def test_message_with_text_and_media_fails_without_a_request(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    outcome = await channel.send(OutboundMessage(ERIKA, text="x", media=Media("image",
                                                 "https://example.org/a.jpg")))
    assert isinstance(outcome, PermanentFailure)
    assert outcome.code == "unrenderable"
    assert fake.sent == []


# -- provider errors ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_free_form_to_someone_who_never_wrote_is_window_closed(
    channel: WhatsAppChannel,
) -> None:
    outcome = await channel.send(OutboundMessage(ERIKA, text="Hallo"))
    assert isinstance(outcome, WindowClosed)
    assert outcome.code == "131047"


@pytest.mark.anyio
async def test_free_form_25_hours_after_the_last_message_is_window_closed(
    fake: FakeWhatsApp, channel: WhatsAppChannel, clock: Clock
) -> None:
    fake.receive_from(ERIKA, "Hallo")
    clock.advance(timedelta(hours=25))
    assert isinstance(await channel.send(OutboundMessage(ERIKA, text="Noch da?")), WindowClosed)


@pytest.mark.anyio
async def test_free_form_23_hours_after_the_last_message_is_sent(
    fake: FakeWhatsApp, channel: WhatsAppChannel, clock: Clock
) -> None:
    fake.receive_from(ERIKA, "Hallo")
    clock.advance(timedelta(hours=23))
    assert isinstance(await channel.send(OutboundMessage(ERIKA, text="Noch da?")), Sent)


@pytest.mark.anyio
async def test_exceeding_the_throughput_is_rate_limited_for_the_account(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.throughput_per_second = 2
    outcomes = [await channel.send(OutboundMessage(ERIKA, template=template())) for _ in range(3)]
    assert [type(outcome) for outcome in outcomes] == [Sent, Sent, RateLimited]
    limited = outcomes[2]
    assert isinstance(limited, RateLimited)
    assert (limited.scope, limited.retry_after, limited.code) == (
        RateScope.ACCOUNT,
        timedelta(seconds=1),
        "130429",
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (131056, RateLimited(timedelta(seconds=6), RateScope.RECIPIENT, "131056", "")),
        (131026, RecipientUnreachable(Unreachability.UNDELIVERABLE, "131026", "")),
        (131050, RecipientUnreachable(Unreachability.OPTED_OUT, "131050", "")),
        (131049, Deferred(timedelta(hours=24), "131049", "")),
        (368, PermanentFailure("368", "")),
        (131000, TransientFailure("131000", "")),
        (131016, TransientFailure("131016", "")),
    ],
)
@pytest.mark.anyio
async def test_scripted_provider_error_maps_to_its_outcome(
    fake: FakeWhatsApp, channel: WhatsAppChannel, code: int, expected: SendOutcome
) -> None:
    fake.fail_next(ERIKA, code)
    outcome = await channel.send(OutboundMessage(ERIKA, template=template()))
    assert not isinstance(outcome, Sent)
    assert outcome.detail.startswith(f"(#{code})")
    assert replace(outcome, detail="") == expected


@pytest.mark.anyio
async def test_a_bad_access_token_is_a_permanent_failure_with_code_190(
    fake: FakeWhatsApp,
) -> None:
    adapter = WhatsAppChannel(settings_for(fake, api_base=fake.base_url, access_token="expired"))
    try:
        outcome = await adapter.send(OutboundMessage(ERIKA, template=template()))
    finally:
        await adapter.close()
    assert isinstance(outcome, PermanentFailure)
    assert outcome.code == "190"
    assert "access token" in outcome.detail


@pytest.mark.anyio
async def test_text_longer_than_4096_characters_is_refused_with_code_100(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.receive_from(ERIKA, "Hallo")
    outcome = await channel.send(OutboundMessage(ERIKA, text="x" * 4097))
    assert isinstance(outcome, PermanentFailure)
    assert outcome.code == "100"
    assert "4096" in outcome.detail
    assert fake.sent == []


@pytest.mark.anyio
async def test_a_wrong_phone_number_id_is_refused_with_code_100(fake: FakeWhatsApp) -> None:
    adapter = WhatsAppChannel(settings_for(fake, api_base=fake.base_url, phone_number_id="999"))
    try:
        outcome = await adapter.send(OutboundMessage(ERIKA, template=template()))
    finally:
        await adapter.close()
    assert isinstance(outcome, PermanentFailure)
    assert outcome.code == "100"


@pytest.mark.anyio
async def test_an_unreachable_server_is_a_transient_failure(builder: FakeWhatsApp) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    adapter = WhatsAppChannel(settings_for(builder, api_base=f"http://127.0.0.1:{closed_port}"))
    try:
        outcome = await adapter.send(OutboundMessage(ERIKA, template=template()))
    finally:
        await adapter.close()
    assert isinstance(outcome, TransientFailure)
    assert outcome.code == "network"


def test_a_server_error_without_error_body_is_transient() -> None:
    outcome = outcome_for_answer(502, b"<html>Bad Gateway</html>")
    assert isinstance(outcome, TransientFailure)


def test_an_unknown_error_code_in_a_client_error_is_permanent() -> None:
    answer = {"error": {"message": "(#999) New", "code": 999, "error_data": {"details": "d"}}}
    assert outcome_for_answer(400, json.dumps(answer).encode()) == PermanentFailure(
        "999", "(#999) New: d"
    )


@pytest.mark.parametrize(
    ("code", "expected_type"),
    [
        ("131047", WindowClosed),
        ("131050", RecipientUnreachable),
        ("131049", Deferred),
        ("131026", RecipientUnreachable),
        ("131056", RateLimited),
        ("132001", PermanentFailure),
    ],
)
def test_async_status_errors_map_like_sync_answers(code: str, expected_type: type) -> None:
    assert isinstance(outcome_for_error(code, "detail"), expected_type)


@pytest.mark.anyio
async def test_async_failure_is_accepted_then_reported_in_a_failed_status(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    fake.fail_next(ERIKA, 131050, asynchronous=True)
    sent = await channel.send(OutboundMessage(ERIKA, template=template()))
    assert isinstance(sent, Sent)
    body, _ = fake.signed_webhook(fake.pending_webhooks.pop())
    [status] = channel.parse(body)
    assert isinstance(status, StatusUpdate)
    assert status.provider_message_id == sent.provider_message_id
    error: ProviderError = status.errors[0]
    outcome = outcome_for_error(error.code, error.details or error.title)
    assert outcome == RecipientUnreachable(
        Unreachability.OPTED_OUT, "131050", "The recipient stopped marketing messages."
    )


# -- media and webhook delivery ----------------------------------------------------------------


@pytest.mark.anyio
async def test_fetch_media_downloads_bytes_and_mime_type(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    media_id = fake.add_media(b"\x89PNG\r\n\x1a\nbild", "image/png")
    data, mime = await channel.fetch_media(MediaRef(media_id, "image/png"))
    assert (data, mime) == (b"\x89PNG\r\n\x1a\nbild", "image/png")


@pytest.mark.anyio
async def test_fetch_media_of_an_unknown_id_raises_media_unavailable(
    channel: WhatsAppChannel,
) -> None:
    with pytest.raises(MediaUnavailable):
        await channel.fetch_media(MediaRef("1234", "image/png"))


@pytest.mark.anyio
async def test_delivered_webhook_verifies_and_parses_at_the_receiver(
    fake: FakeWhatsApp, channel: WhatsAppChannel
) -> None:
    received: list[Event] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        channel.verify(request.headers, body)
        received.extend(channel.parse(body))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        payload = fake.receive_from(ERIKA, "Grüße aus Köln", name="Jürgen Müller")
        status = await fake.deliver_webhook(f"http://{host}:{port}/webhooks/whatsapp", payload)
    finally:
        await runner.cleanup()
    assert status == 200
    [message] = received
    assert isinstance(message, InboundMessage)
    assert (message.text, message.sender_name) == ("Grüße aus Köln", "Jürgen Müller")
