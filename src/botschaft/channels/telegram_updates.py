"""Telegram Updates, as POSTed to our webhook, turned into neutral events.

One Update arrives per request. Only what Botschaft acts on is read; unknown keys are
ignored, and a wrong type in a field we read is a ``MalformedWebhook`` rather than a
``KeyError`` or ``TypeError`` deep inside the web layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from botschaft.channels.base import MalformedWebhook
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
from botschaft.channels.json_body import load_webhook
from botschaft.domain.channels import ChannelKind

TELEGRAM = ChannelKind.TELEGRAM

# core.telegram.org/bots/features#deep-linking: up to 64 characters of A-Z a-z 0-9 _ -
START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")

# A callback query is no message, so it has no message id; its own id is unique per bot.
CALLBACK_PREFIX = "cb:"

# Telegram re-encodes every photo as JPEG; the other kinds name their type where they can.
_PHOTO_MIME = "image/jpeg"
_FILE_KINDS: tuple[tuple[str, InboundKind, str], ...] = (
    ("video", InboundKind.VIDEO, "video/mp4"),
    ("video_note", InboundKind.VIDEO, "video/mp4"),
    ("voice", InboundKind.AUDIO, "audio/ogg"),
    ("audio", InboundKind.AUDIO, "audio/mpeg"),
    # An animation (GIF) carries a ``document`` as well; it arrives as a document.
    ("document", InboundKind.DOCUMENT, "application/octet-stream"),
)


def message_key(chat_id: int, message_id: int) -> str:
    """Our id for a Telegram message: message ids are only unique within one chat."""
    return f"{chat_id}:{message_id}"


def start_token(text: str | None) -> str | None:
    """The deep-link payload of ``/start <payload>``, or None if absent or not well-formed."""
    if text is None:
        return None
    command, _, payload = text.partition(" ")
    # "/start@our_bot" is what a person gets by tapping the command in a menu.
    if command.split("@", 1)[0] != "/start":
        return None
    return payload if START_PAYLOAD.fullmatch(payload) else None


def parse_update(body: bytes, account: str, received_at: Callable[[], datetime]) -> Event:
    """Turn one Update into one neutral event.

    ``received_at`` is asked only for a callback query, which carries no date of its own.
    """
    update = _Fields(load_webhook(body, "The Telegram update is not valid JSON."), "update")
    update_id = update.integer("update_id")
    if (message := update.maybe_child("message")) is not None:
        return _message(message, account, update_id)
    if (query := update.maybe_child("callback_query")) is not None:
        return _callback_query(query, account, received_at())
    if (member := update.maybe_child("my_chat_member")) is not None:
        return _my_chat_member(member, account, update_id)
    kind = next((key for key in update.field_names() if key != "update_id"), "nothing")
    return _ignored(f"update with {kind}", update_id)


def _message(message: _Fields, account: str, update_id: int) -> Event:
    chat = message.child("chat")
    chat_id = chat.integer("id")
    chat_type = chat.text("type")
    if chat_type != "private":
        # Consent is given by a person; a group or channel cannot subscribe on anyone's behalf.
        return _ignored(f"message in a {chat_type} chat", update_id)
    message_id = message.integer("message_id")
    text = message.maybe_text("text")
    content = _content(message, text)
    reply = message.maybe_child("reply_to_message")
    return InboundMessage(
        channel=TELEGRAM,
        account=account,
        provider_message_id=message_key(chat_id, message_id),
        # In a private chat the chat id is the person's user id.
        sender=str(chat_id),
        sent_at=_moment(message.integer("date")),
        kind=content.kind,
        text=text,
        sender_name=_name(message.maybe_child("from")),
        media=content.media,
        location=content.location,
        shared_contacts=content.shared_contacts,
        # Same shape as our own ids, so a reply can be matched to what we sent.
        reply_to=message_key(chat_id, reply.integer("message_id")) if reply else None,
        start_token=start_token(text),
    )


@dataclass(frozen=True)
class _Content:
    kind: InboundKind
    media: MediaRef | None = None
    location: Location | None = None
    shared_contacts: tuple[str, ...] = ()


def _content(message: _Fields, text: str | None) -> _Content:
    caption = message.maybe_text("caption")
    sizes = message.children("photo")
    if sizes:
        # Telegram lists several sizes of the same photo; the largest is the original.
        largest = max(sizes, key=lambda size: size.integer("width") * size.integer("height"))
        return _Content(InboundKind.IMAGE, media=_media(largest, _PHOTO_MIME, caption))
    if (sticker := message.maybe_child("sticker")) is not None:
        return _Content(InboundKind.STICKER, media=_media(sticker, _sticker_mime(sticker), None))
    for key, kind, default_mime in _FILE_KINDS:
        if (file := message.maybe_child(key)) is not None:
            return _Content(kind, media=_media(file, default_mime, caption))
    if (venue := message.maybe_child("venue")) is not None:
        place = venue.child("location")
        return _Content(
            InboundKind.LOCATION,
            location=Location(
                place.number("latitude"),
                place.number("longitude"),
                name=venue.maybe_text("title"),
                address=venue.maybe_text("address"),
            ),
        )
    if (where := message.maybe_child("location")) is not None:
        return _Content(
            InboundKind.LOCATION,
            location=Location(where.number("latitude"), where.number("longitude")),
        )
    if (contact := message.maybe_child("contact")) is not None:
        return _Content(InboundKind.CONTACTS, shared_contacts=(contact.text("phone_number"),))
    if text is not None:
        return _Content(InboundKind.TEXT)
    return _Content(InboundKind.UNSUPPORTED)


def _media(file: _Fields, default_mime: str, caption: str | None) -> MediaRef:
    return MediaRef(
        provider_media_id=file.text("file_id"),
        mime_type=file.maybe_text("mime_type") or default_mime,
        caption=caption,
        filename=file.maybe_text("file_name"),
    )


def _sticker_mime(sticker: _Fields) -> str:
    if sticker.maybe_flag("is_animated"):
        return "application/x-tgsticker"
    if sticker.maybe_flag("is_video"):
        return "video/webm"
    return "image/webp"


def _callback_query(query: _Fields, account: str, received_at: datetime) -> InboundMessage:
    query_id = query.text("id")
    person = query.child("from")
    # The message the button hangs on; absent when that message is too old to be shown.
    message = query.maybe_child("message")
    on_message = (
        message_key(message.child("chat").integer("id"), message.integer("message_id"))
        if message is not None
        else None
    )
    return InboundMessage(
        channel=TELEGRAM,
        account=account,
        provider_message_id=CALLBACK_PREFIX + query_id,
        sender=str(person.integer("id")),
        sent_at=received_at,
        kind=InboundKind.BUTTON,
        payload=query.maybe_text("data"),
        sender_name=_name(person),
        reply_to=on_message,
    )


def _my_chat_member(member: _Fields, account: str, update_id: int) -> Event:
    chat = member.child("chat")
    status = member.child("new_chat_member").text("status")
    if chat.text("type") == "private" and status == "kicked":
        # In a private chat the bot's status turns "kicked" when the person blocks the bot.
        # Telegram has no opt-out of its own: blocking is the plainest "stop" a person can
        # say, and every later send would fail with 403, so it withdraws every category.
        # Unblocking (status back to "member") is deliberately not read as consent again:
        # that takes a /start or an opt-in keyword, which arrive as messages.
        return PreferenceChange(
            channel=TELEGRAM,
            account=account,
            sender=str(chat.integer("id")),
            category="all",
            value=PreferenceValue.STOP,
            at=_moment(member.integer("date")),
            detail="blocked the bot",
        )
    return _ignored(f"bot's membership changed to {status}", update_id)


def _ignored(description: str, update_id: int) -> IgnoredEvent:
    return IgnoredEvent(TELEGRAM, f"Telegram {description}", key=str(update_id))


def _name(person: _Fields | None) -> str | None:
    if person is None:
        return None
    parts = (person.maybe_text("first_name"), person.maybe_text("last_name"))
    full = " ".join(part for part in parts if part)
    return full or person.maybe_text("username")


def _moment(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedWebhook(f"The Telegram date {seconds} is out of range.") from None


class _Fields:
    """Typed reads from one JSON object of an Update; a wrong shape is a MalformedWebhook.

    Telegram leaves optional fields out rather than sending null; a null counts as absent.
    """

    def __init__(self, raw: object, path: str) -> None:
        if not isinstance(raw, dict):
            raise MalformedWebhook(f"Telegram {path} must be a JSON object.")
        self._raw: dict[str, object] = raw
        self._path = path

    def field_names(self) -> list[str]:
        return list(self._raw)

    def child(self, key: str) -> _Fields:
        return _Fields(self._required(key), f"{self._path}.{key}")

    def maybe_child(self, key: str) -> _Fields | None:
        value = self._raw.get(key)
        return None if value is None else _Fields(value, f"{self._path}.{key}")

    def children(self, key: str) -> list[_Fields]:
        value = self._raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return [_Fields(item, f"{self._path}.{key}[{n}]") for n, item in enumerate(value)]

    def integer(self, key: str) -> int:
        value = self._required(key)
        # bool is an int to Python, but never to Telegram.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "an integer")
        return value

    def number(self, key: str) -> float:
        value = self._required(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._wrong(key, "a number")
        return float(value)

    def text(self, key: str) -> str:
        value = self.maybe_text(key)
        if value is None:
            raise self._missing(key)
        return value

    def maybe_text(self, key: str) -> str | None:
        value = self._raw.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self._wrong(key, "a string")

    def maybe_flag(self, key: str) -> bool:
        value = self._raw.get(key, False)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def _required(self, key: str) -> object:
        value = self._raw.get(key)
        if value is None:
            raise self._missing(key)
        return value

    def _missing(self, key: str) -> MalformedWebhook:
        return MalformedWebhook(f"Telegram {self._path}.{key} is missing.")

    def _wrong(self, key: str, expected: str) -> MalformedWebhook:
        return MalformedWebhook(f"Telegram {self._path}.{key} must be {expected}.")
