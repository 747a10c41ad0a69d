"""WhatsApp Cloud API webhook bodies as neutral events.

Meta batches many updates in one POST: every ``entry``, ``change``, message, status and
preference is read, unknown keys are ignored, and an update of a kind we do not handle
becomes an ``IgnoredEvent`` or an ``UNSUPPORTED`` message instead of an error. A body we
cannot read at all raises ``MalformedWebhook`` naming the first bad place; no ``KeyError``
or ``TypeError`` leaves this module.
Source: developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from botschaft.channels.base import MalformedWebhook
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
from botschaft.channels.json_body import load_webhook
from botschaft.domain.channels import ChannelKind

OBJECT = "whatsapp_business_account"
WHATSAPP = ChannelKind.WHATSAPP

JsonObject = dict[str, object]

_MEDIA_KINDS = {
    "image": InboundKind.IMAGE,
    "audio": InboundKind.AUDIO,
    "video": InboundKind.VIDEO,
    "document": InboundKind.DOCUMENT,
    "sticker": InboundKind.STICKER,
}


def parse_webhook(body: bytes) -> list[Event]:
    """Every update of a WhatsApp webhook body as a neutral event, in the order sent."""
    document = load_webhook(body, "The webhook body is not JSON: {error}")
    root = _as_object(document, "the webhook body")
    if root.get("object") != OBJECT:
        raise MalformedWebhook(
            f"The webhook's object is {root.get('object')!r}, expected {OBJECT!r}."
        )
    events: list[Event] = []
    for entry, entry_at in _objects(root, "entry", "body"):
        for change, change_at in _objects(entry, "changes", entry_at):
            events.extend(_change_events(change, change_at))
    return events


def _change_events(change: JsonObject, where: str) -> list[Event]:
    field = change.get("field")
    parse = _FIELDS.get(field) if isinstance(field, str) else None
    if parse is None:
        return [IgnoredEvent(WHATSAPP, f"webhook field {field!r} is not handled")]
    value = _as_object(change.get("value"), f"{where}.value")
    account = _string(
        _as_object(value.get("metadata"), f"{where}.value.metadata"),
        "phone_number_id",
        f"{where}.value.metadata",
    )
    return parse(value, account, f"{where}.value")


def _message_field(value: JsonObject, account: str, where: str) -> list[Event]:
    names = _contact_names(value, where)
    events: list[Event] = [
        _message(message, account, names, at) for message, at in _objects(value, "messages", where)
    ]
    events.extend(_status(status, account, at) for status, at in _objects(value, "statuses", where))
    return events


def _preferences_field(value: JsonObject, account: str, where: str) -> list[Event]:
    events: list[Event] = []
    for item, at in _objects(value, "user_preferences", where):
        raw_value = _string(item, "value", at)
        sender = _person(item, "wa_id", "user_id", at)
        try:
            preference = PreferenceValue(raw_value)
        except ValueError:
            events.append(IgnoredEvent(WHATSAPP, f"user preference value {raw_value!r}"))
            continue
        events.append(
            PreferenceChange(
                channel=WHATSAPP,
                account=account,
                sender=sender,
                category=_string(item, "category", at),
                value=preference,
                at=_timestamp(item, at),
                detail=_optional_string(item, "detail", at),
            )
        )
    return events


_FIELDS: dict[str, Callable[[JsonObject, str, str], list[Event]]] = {
    "messages": _message_field,
    "user_preferences": _preferences_field,
}


@dataclass(frozen=True)
class _Content:
    """The type-specific fields of an ``InboundMessage``."""

    kind: InboundKind
    text: str | None = None
    payload: str | None = None
    media: MediaRef | None = None
    location: Location | None = None
    shared_contacts: tuple[str, ...] = ()


_UNSUPPORTED = _Content(InboundKind.UNSUPPORTED)


def _message(
    message: JsonObject, account: str, names: dict[str, str], where: str
) -> InboundMessage:
    message_id = _string(message, "id", where)
    sender = _person(message, "from", "from_user_id", where)
    content = _content(message, _string(message, "type", where), where)
    context = message.get("context")
    reply_to = (
        _optional_string(context, "id", f"{where}.context") if isinstance(context, dict) else None
    )
    return InboundMessage(
        channel=WHATSAPP,
        account=account,
        provider_message_id=message_id,
        sender=sender,
        sent_at=_timestamp(message, where),
        kind=content.kind,
        text=content.text,
        payload=content.payload,
        sender_name=names.get(sender),
        media=content.media,
        location=content.location,
        shared_contacts=content.shared_contacts,
        reply_to=reply_to,
    )


def _content(message: JsonObject, message_type: str, where: str) -> _Content:
    at = f"{where}.{message_type}"
    if message_type == "text":
        return _Content(InboundKind.TEXT, text=_string(_child(message, "text", where), "body", at))
    if message_type == "button":
        # A tap on a template's quick-reply button: not an "interactive" message.
        button = _child(message, "button", where)
        return _Content(
            InboundKind.BUTTON,
            text=_optional_string(button, "text", at),
            payload=_optional_string(button, "payload", at),
        )
    if message_type == "interactive":
        return _interactive(_child(message, "interactive", where), at)
    if message_type in _MEDIA_KINDS:
        media = _media(_child(message, message_type, where), at)
        return _Content(_MEDIA_KINDS[message_type], media=media)
    if message_type == "location":
        return _Content(
            InboundKind.LOCATION, location=_location(_child(message, "location", where), at)
        )
    if message_type == "contacts":
        return _Content(
            InboundKind.CONTACTS, shared_contacts=tuple(_shared_contacts(message, where))
        )
    return _UNSUPPORTED


def _interactive(interactive: JsonObject, where: str) -> _Content:
    reply_type = interactive.get("type")
    if reply_type == "button_reply":
        kind = InboundKind.BUTTON
    elif reply_type == "list_reply":
        kind = InboundKind.LIST_REPLY
    else:
        # nfm_reply (WhatsApp Flows) and future kinds carry no choice we could act on.
        return _UNSUPPORTED
    reply = _child(interactive, reply_type, where)
    at = f"{where}.{reply_type}"
    return _Content(
        kind, text=_optional_string(reply, "title", at), payload=_string(reply, "id", at)
    )


def _media(media: JsonObject, where: str) -> MediaRef:
    return MediaRef(
        provider_media_id=_string(media, "id", where),
        mime_type=_optional_string(media, "mime_type", where) or "application/octet-stream",
        sha256=_optional_string(media, "sha256", where),
        caption=_optional_string(media, "caption", where),
        filename=_optional_string(media, "filename", where),
    )


def _location(location: JsonObject, where: str) -> Location:
    return Location(
        latitude=_number(location, "latitude", where),
        longitude=_number(location, "longitude", where),
        name=_optional_string(location, "name", where),
        address=_optional_string(location, "address", where),
    )


def _shared_contacts(message: JsonObject, where: str) -> Iterator[str]:
    """Each shared card as ``Name: +49…, +49…`` (the name alone if it has no number)."""
    for card, at in _objects(message, "contacts", where):
        name_object = card.get("name")
        name = (
            _optional_string(name_object, "formatted_name", f"{at}.name")
            if isinstance(name_object, dict)
            else None
        )
        phones = [
            phone
            for entry, entry_at in _objects(card, "phones", at)
            if (phone := _optional_string(entry, "phone", entry_at))
        ]
        label = name or "(no name)"
        yield f"{label}: {', '.join(phones)}" if phones else label


def _status(status: JsonObject, account: str, where: str) -> Event:
    message_id = _string(status, "id", where)
    raw_status = _string(status, "status", where)
    try:
        delivery = DeliveryStatus(raw_status)
    except ValueError:
        # e.g. "deleted" or "warning": not a delivery step we track.
        return IgnoredEvent(
            WHATSAPP, f"status {raw_status!r}", key=f"status:{message_id}:{raw_status}"
        )
    # Pricing and conversation (legacy CBP with `conversation`, current PMP with
    # `pricing.type`) are billing information and deliberately not read.
    return StatusUpdate(
        channel=WHATSAPP,
        account=account,
        provider_message_id=message_id,
        status=delivery,
        at=_timestamp(status, where),
        recipient=_person(status, "recipient_id", "recipient_user_id", where),
        errors=tuple(_provider_error(error, at) for error, at in _objects(status, "errors", where)),
        callback_data=_optional_string(status, "biz_opaque_callback_data", where),
    )


def _provider_error(error: JsonObject, where: str) -> ProviderError:
    code = error.get("code")
    if isinstance(code, bool) or not isinstance(code, int | str):
        raise MalformedWebhook(f"{where}.code is not an error code.")
    data = error.get("error_data")
    details = (
        _optional_string(data, "details", f"{where}.error_data") if isinstance(data, dict) else None
    )
    title = _optional_string(error, "title", where) or _optional_string(error, "message", where)
    return ProviderError(code=str(code), title=title or "", details=details)


def _contact_names(value: JsonObject, where: str) -> dict[str, str]:
    """Profile names by sender, under both the phone number and the BSUID."""
    names: dict[str, str] = {}
    for contact, at in _objects(value, "contacts", where):
        profile = contact.get("profile")
        name = (
            _optional_string(profile, "name", f"{at}.profile")
            if isinstance(profile, dict)
            else None
        )
        if not name:
            continue
        for key in ("wa_id", "user_id"):
            identifier = _optional_string(contact, key, at)
            if identifier:
                names[_sender_form(identifier)] = name
    return names


def _person(item: JsonObject, phone_key: str, user_id_key: str, where: str) -> str:
    """The person's phone number in E.164, or their BSUID when Meta withholds the number."""
    phone = _optional_string(item, phone_key, where)
    if phone:
        return _sender_form(phone)
    user_id = _optional_string(item, user_id_key, where)
    if user_id:
        return user_id
    raise MalformedWebhook(f"{where} has neither {phone_key} nor {user_id_key}.")


def _sender_form(identifier: str) -> str:
    # Meta writes numbers as bare digits; Botschaft keys people on E.164 with '+'. Anything
    # else (a BSUID such as "US.1349…") is an opaque id and stays as it is.
    return f"+{identifier}" if identifier.isdigit() else identifier


def _timestamp(item: JsonObject, where: str) -> datetime:
    # Strings of Unix seconds in messages and statuses, an int in user_preferences.
    raw = item.get("timestamp")
    try:
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if isinstance(raw, str) and raw.isascii() and raw.isdecimal():
            seconds = int(raw)
        elif isinstance(raw, int) and not isinstance(raw, bool):
            seconds = raw
        else:
            raise MalformedWebhook(f"{where}.timestamp is not Unix seconds (got {raw!r}).")
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedWebhook(f"{where}.timestamp {raw!r} is out of range.") from None


def _objects(parent: JsonObject, key: str, where: str) -> Iterator[tuple[JsonObject, str]]:
    """The objects of the list ``parent[key]`` with their paths; a missing list is empty."""
    items = parent.get(key, [])
    if not isinstance(items, list):
        raise MalformedWebhook(f"{where}.{key} is not a list.")
    for index, item in enumerate(items):
        at = f"{where}.{key}[{index}]"
        yield _as_object(item, at), at


def _child(parent: JsonObject, key: str, where: str) -> JsonObject:
    return _as_object(parent.get(key), f"{where}.{key}")


def _as_object(value: object, where: str) -> JsonObject:
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{where} is not a JSON object.")
    return value


def _string(item: JsonObject, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedWebhook(f"{where}.{key} is missing or not a string.")
    return value


def _optional_string(item: JsonObject, key: str, where: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedWebhook(f"{where}.{key} is not a string.")
    return value


def _number(item: JsonObject, key: str, where: str) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedWebhook(f"{where}.{key} is not a number.")
    return float(value)
