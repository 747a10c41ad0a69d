"""Messenger Platform webhooks as neutral events.

Meta answers anything but 200 to a verified webhook with retries and, if that goes on, by
disabling the subscription. So every well-formed update of a kind we do not act on becomes an
``IgnoredEvent``; only a body that is not the documented envelope at all is a
``MalformedWebhook``. Unknown keys are ignored and every list is read to its end.
Source: developers.facebook.com/docs/messenger-platform/reference/webhook-events
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

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
    StatusUpdate,
)
from botschaft.channels.json_body import load_webhook
from botschaft.domain.channels import ChannelKind

__all__ = ["MARKETING_CATEGORY", "parse_webhook"]

_CHANNEL = ChannelKind.MESSENGER
_JsonObject = dict[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The same category name WhatsApp uses for its marketing preferences, so services treat a
# stop from either messenger alike.
MARKETING_CATEGORY = "marketing_messages"

# Messenger names no MIME type for attachments; the URL's extension usually tells, and
# ``fetch_media`` returns the type the CDN actually sends.
_MEDIA_KINDS = {
    "image": (InboundKind.IMAGE, "image/*"),
    "audio": (InboundKind.AUDIO, "audio/*"),
    "video": (InboundKind.VIDEO, "video/*"),
    "file": (InboundKind.DOCUMENT, "application/octet-stream"),
}

# Status values of Meta's marketing-message opt-in (uncertain: the documentation shows only a
# placeholder). Matching exact strings is safe either way: an unknown value stays ignored.
_NOTIFICATION_STATUSES = {
    "STOP_NOTIFICATIONS": PreferenceValue.STOP,
    "RESUME_NOTIFICATIONS": PreferenceValue.RESUME,
}


def parse_webhook(body: bytes) -> list[Event]:
    """Turn a verified Messenger webhook body into neutral events, in the order received.

    Raises ``MalformedWebhook`` if the body is not a ``page`` envelope; never ``KeyError``
    or ``TypeError``.
    """
    document = load_webhook(body, "The webhook body is not JSON.")
    root = _object(document, "The webhook body")
    if root.get("object") != "page":
        raise MalformedWebhook(f"The webhook is for {root.get('object')!r}, not 'page'.")
    events: list[Event] = []
    for i, raw_entry in enumerate(_list(root.get("entry"), "entry")):
        where = f"entry[{i}]"
        entry = _object(raw_entry, where)
        page = _identifier(entry.get("id"), f"{where}.id")
        # Entries for other subscriptions (feed changes, standby) carry no "messaging".
        items = _list(entry.get("messaging", []), f"{where}.messaging")
        for j, raw_item in enumerate(items):
            item_where = f"{where}.messaging[{j}]"
            item = _object(raw_item, item_where)
            events.extend(_item_events(page, item, entry.get("time"), item_where))
    return events


@dataclass(frozen=True)
class _Item:
    """One entry of ``messaging[]`` with what every kind needs."""

    page: str
    sender: str
    at: datetime
    raw: _JsonObject
    where: str


def _item_events(page: str, raw: _JsonObject, entry_time: object, where: str) -> list[Event]:
    message = raw.get("message")
    if isinstance(message, dict) and message.get("is_echo") is True:
        # Echoes are copies of what the page itself sent (through us or the inbox).
        mid = _optional_text(message, "mid", f"{where}.message")
        return [IgnoredEvent(_CHANNEL, "echo of a message the page sent", f"echo:{mid or ''}")]
    if "sender" not in raw and "optin" in raw:
        # The checkbox plugin reports an opt-in before the person has a page-scoped id:
        # only ``optin.user_ref`` names them, so there is nobody to address yet.
        return [IgnoredEvent(_CHANNEL, "plugin opt-in without a page-scoped id")]
    sender_object = _object(raw.get("sender"), f"{where}.sender")
    sender = _identifier(sender_object.get("id"), f"{where}.sender.id")
    # Delivery events may come without their own timestamp; the entry's time is then the
    # best we know.
    at = _moment(raw.get("timestamp", entry_time), f"{where}.timestamp")
    item = _Item(page, sender, at, raw, where)
    for kind, read in _READERS:
        if kind in raw:
            return read(item, _object(raw[kind], f"{where}.{kind}"))
    kinds = ", ".join(sorted(set(raw) - {"sender", "recipient", "timestamp"}))
    return [IgnoredEvent(_CHANNEL, f"Messenger event of an unhandled kind ({kinds})")]


def _message(item: _Item, message: _JsonObject) -> list[Event]:
    where = f"{item.where}.message"
    mid = _identifier(message.get("mid"), f"{where}.mid")
    text = _optional_text(message, "text", where)
    start_token = _start_token(message, item, where)
    reply = message.get("reply_to")
    reply_to = _optional_text(_object(reply, f"{where}.reply_to"), "mid", where) if reply else None
    common: dict[str, Any] = {
        "channel": _CHANNEL,
        "account": item.page,
        "sender": item.sender,
        "sent_at": item.at,
        "reply_to": reply_to,
        "start_token": start_token,
    }
    if "quick_reply" in message:
        quick_reply = _object(message["quick_reply"], f"{where}.quick_reply")
        payload = _optional_text(quick_reply, "payload", f"{where}.quick_reply")
        return [
            InboundMessage(
                provider_message_id=mid,
                kind=InboundKind.BUTTON,
                text=text,
                payload=payload,
                **common,
            )
        ]
    attachments = _attachments(message, mid, where)
    if not attachments:
        kind = InboundKind.TEXT if text is not None else InboundKind.UNSUPPORTED
        return [InboundMessage(provider_message_id=mid, kind=kind, text=text, **common)]
    # One message may carry several attachments while a neutral message holds one; each
    # becomes its own message, the first keeping the mid so replies and dedupe still match.
    return [
        InboundMessage(
            provider_message_id=mid if index == 0 else f"{mid}/{index}",
            kind=kind,
            text=text if index == 0 else None,
            media=media,
            location=location,
            **common,
        )
        for index, (kind, media, location) in enumerate(attachments)
    ]


_Attachment = tuple[InboundKind, MediaRef | None, Location | None]


def _attachments(message: _JsonObject, mid: str, where: str) -> list[_Attachment]:
    """The attachments that have a neutral kind; link previews ("fallback"), reels and the
    like are dropped here and leave a text message, or an unsupported one without text."""
    found: list[_Attachment] = []
    raw_list = _list(message.get("attachments", []), f"{where}.attachments")
    for index, raw in enumerate(raw_list):
        at = f"{where}.attachments[{index}]"
        attachment = _object(raw, at)
        kind = attachment.get("type")
        payload = _object(attachment.get("payload", {}), f"{at}.payload")
        if kind == "location":
            found.append((InboundKind.LOCATION, None, _location(attachment, payload, at)))
        elif isinstance(kind, str) and kind in _MEDIA_KINDS:
            found.append(_media(kind, payload, f"{mid}/{index}", at))
    return found


def _media(kind: str, payload: _JsonObject, media_id: str, where: str) -> _Attachment:
    inbound_kind, fallback_type = _MEDIA_KINDS[kind]
    url = _optional_text(payload, "url", f"{where}.payload")
    if "sticker_id" in payload:
        inbound_kind = InboundKind.STICKER
    name = PurePosixPath(unquote(urlsplit(url).path)).name if url else ""
    guessed = mimetypes.guess_type(name)[0] if name else None
    # Voice clips come as .mp4, which the extension alone calls video: a guess is kept only
    # when it agrees with the kind Meta names.
    agrees = guessed is not None and (kind == "file" or guessed.startswith(f"{kind}/"))
    media = MediaRef(
        provider_media_id=media_id,
        mime_type=guessed if guessed and agrees else fallback_type,
        filename=(name or None) if inbound_kind is InboundKind.DOCUMENT else None,
        url=url,
    )
    return inbound_kind, media, None


def _location(attachment: _JsonObject, payload: _JsonObject, where: str) -> Location:
    coordinates = _object(payload.get("coordinates"), f"{where}.payload.coordinates")
    latitude, longitude = coordinates.get("lat"), coordinates.get("long")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        raise MalformedWebhook(f"{where}: a location needs numeric lat and long.")
    name = _optional_text(attachment, "title", where)
    return Location(latitude=float(latitude), longitude=float(longitude), name=name)


def _postback(item: _Item, postback: _JsonObject) -> list[Event]:
    where = f"{item.where}.postback"
    start_token = _start_token(postback, item, where)
    return [
        InboundMessage(
            channel=_CHANNEL,
            account=item.page,
            provider_message_id=_identifier(postback.get("mid"), f"{where}.mid"),
            sender=item.sender,
            sent_at=item.at,
            kind=InboundKind.BUTTON,
            text=_optional_text(postback, "title", where),
            payload=_optional_text(postback, "payload", where),
            start_token=start_token,
        )
    ]


def _delivery(item: _Item, delivery: _JsonObject) -> list[Event]:
    where = f"{item.where}.delivery"
    mids = _list(delivery.get("mids", []), f"{where}.mids")
    if not mids:
        # Meta documents "mids" as optional; a bare watermark names no message of ours.
        watermark = delivery.get("watermark")
        return [
            IgnoredEvent(
                _CHANNEL,
                "delivery watermark without message ids",
                f"delivery:{item.sender}:{watermark}",
            )
        ]
    return [
        StatusUpdate(
            channel=_CHANNEL,
            account=item.page,
            provider_message_id=_identifier(mid, f"{where}.mids[{index}]"),
            status=DeliveryStatus.DELIVERED,
            at=item.at,
            recipient=item.sender,
        )
        for index, mid in enumerate(mids)
    ]


def _read(item: _Item, read: _JsonObject) -> list[Event]:
    # A read receipt is a watermark ("everything before this moment was read"), not a list
    # of message ids, and a neutral StatusUpdate names one message. Turning the watermark
    # into per-message updates needs our record of what we sent, which lives past
    # ``channels/``; until a neutral watermark event exists, the receipt is logged only.
    watermark = read.get("watermark")
    return [
        IgnoredEvent(
            _CHANNEL, f"read receipt up to watermark {watermark}", f"read:{item.sender}:{watermark}"
        )
    ]


def _optin(item: _Item, optin: _JsonObject) -> list[Event]:
    where = f"{item.where}.optin"
    status = optin.get("notification_messages_status")
    value = _NOTIFICATION_STATUSES.get(status) if isinstance(status, str) else None
    if value is not None:
        # A withdrawal must never be dropped in a consent-first product, even one made
        # through Meta's own marketing-message controls rather than our keywords.
        return [
            PreferenceChange(
                channel=_CHANNEL,
                account=item.page,
                sender=item.sender,
                category=MARKETING_CATEGORY,
                value=value,
                at=item.at,
                detail=_optional_text(optin, "title", where),
            )
        ]
    # A fresh opt-in to Meta's marketing messages (deprecated by Meta in January 2026) or
    # a Send to Messenger tap: Botschaft's consent comes from its own double opt-in, and it
    # does not send with Meta's notification tokens, so there is nothing to record.
    kind = _optional_text(optin, "type", where) or "plugin"
    return [
        IgnoredEvent(_CHANNEL, f"opt-in of type {kind}", f"optin:{item.sender}:{_millis(item.at)}")
    ]


def _referral(item: _Item, referral: _JsonObject) -> list[Event]:
    # A person who already talks to the page and opens m.me/<page>?ref=<token> produces a
    # referral without any message: no message id, no text, no tap. No neutral event fits
    # (InboundMessage needs a provider message id), so the ref is only described here; the
    # same token does reach services as ``start_token`` when it comes with a postback.
    ref = _optional_text(referral, "ref", f"{item.where}.referral")
    source = _optional_text(referral, "source", f"{item.where}.referral")
    return [
        IgnoredEvent(
            _CHANNEL,
            f"conversation opened via {source or 'a link'}, ref={ref!r}",
            f"referral:{item.sender}:{_millis(item.at)}",
        )
    ]


# Checked in this order: a postback may come with a top-level referral, which then belongs
# to the postback.
_READERS: tuple[tuple[str, Callable[[_Item, _JsonObject], list[Event]]], ...] = (
    ("message", _message),
    ("postback", _postback),
    ("delivery", _delivery),
    ("read", _read),
    ("optin", _optin),
    ("referral", _referral),
)


def _start_token(event: _JsonObject, item: _Item, where: str) -> str | None:
    """The ref of the m.me/<page>?ref=<token> link (or ad) that led to this event.

    The Get Started tap of a newcomer carries it inside the postback; other entry points
    put the referral beside the event in the messaging item.
    """
    return _ref(event.get("referral"), where) or _ref(item.raw.get("referral"), item.where)


def _ref(value: object, where: str) -> str | None:
    if value is None:
        return None
    return _optional_text(_object(value, f"{where}.referral"), "ref", f"{where}.referral")


def _moment(value: object, where: str) -> datetime:
    """Messenger times are integer milliseconds since the epoch."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedWebhook(f"{where} must be integer milliseconds, got {value!r}.")
    try:
        return _EPOCH + timedelta(milliseconds=value)
    except OverflowError:
        raise MalformedWebhook(f"{where} is out of range: {value!r}.") from None


def _millis(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(milliseconds=1)


def _object(value: object, where: str) -> _JsonObject:
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{where} is not a JSON object.")
    return value


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise MalformedWebhook(f"{where} is not a list.")
    return value


def _identifier(value: object, where: str) -> str:
    # Meta sends ids as strings; a number is accepted rather than failing a whole batch.
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedWebhook(f"{where} is missing or not an id.")


def _optional_text(obj: _JsonObject, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise MalformedWebhook(f"{where}.{key} is not a string.")
