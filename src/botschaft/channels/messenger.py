"""The Facebook Messenger Platform adapter: webhooks in, messages out, attachments on demand.

Parsing lives in ``messenger_webhook`` and the error table in ``messenger_errors``; this
module renders outbound messages and speaks HTTP to the Send API.
Source: developers.facebook.com/docs/messenger-platform/reference/send-api
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import aiohttp
from pydantic import SecretStr

from botschaft.channels import meta
from botschaft.channels.base import (
    JSON_CONTENT,
    Capabilities,
    MediaUnavailable,
    Wire,
    send_encoded,
)
from botschaft.channels.events import Event, MediaRef
from botschaft.channels.json_body import json_object
from botschaft.channels.messages import Media, MessageTag, OutboundMessage
from botschaft.channels.messenger_errors import outcome_for_error
from botschaft.channels.messenger_webhook import parse_webhook
from botschaft.channels.outcomes import PermanentFailure, SendOutcome, Sent, TransientFailure
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import ConfigError
from botschaft.settings import MessengerSettings

__all__ = [
    "CAPABILITIES",
    "MediaUnavailable",
    "MessengerChannel",
    "outcome_for_answer",
    "render_message",
]

log = logging.getLogger(__name__)

# Quick replies rather than postback buttons: a neutral button list maps onto them one to
# one (13 instead of 3), and a tap arrives as an ordinary message that opens the window.
CAPABILITIES = Capabilities(
    service_window=timedelta(hours=24),
    agent_window=timedelta(days=7),
    templates=False,
    max_buttons=13,
    max_text_length=2000,
    # Neutral kinds; "document" goes out as Messenger's "file".
    media_kinds=frozenset({"image", "audio", "video", "document"}),
)

_ATTACHMENT_TYPES = {"image": "image", "audio": "audio", "video": "video", "document": "file"}
_TAGS = {MessageTag.HUMAN_AGENT: "HUMAN_AGENT"}

# Attachments may be large videos on a slow CDN.
_MEDIA_TIMEOUT = aiohttp.ClientTimeout(total=120, connect=10)
# Messenger's own attachment limit; anything bigger is not an attachment we were sent.
_MAX_MEDIA_BYTES = 25 * 1024 * 1024


class _Unrenderable(Exception):
    """An outbound message that Messenger cannot express; the reason is for people."""


class MessengerChannel:
    """The ``Channel`` for one Facebook Page.

    The HTTP session is created on first use inside the running event loop and lives until
    ``close``; use one adapter per event loop.
    """

    kind = ChannelKind.MESSENGER
    capabilities = CAPABILITIES

    def __init__(self, settings: MessengerSettings) -> None:
        self._page_token = _secret(settings.page_access_token, "PAGE_ACCESS_TOKEN")
        self._app_secret = _secret(settings.app_secret, "APP_SECRET")
        self._verify_token = _secret(settings.verify_token, "VERIFY_TOKEN")
        # "me" is the Page the token belongs to, so an unset page id still addresses it.
        page = settings.page_id or "me"
        base = settings.api_base.rstrip("/")
        self._messages_url = f"{base}/{settings.api_version}/{page}/messages"
        self._http = meta.graph_session()

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise ``WebhookRejected``/``WebhookForbidden`` unless Meta signed these exact bytes."""
        meta.verify_signature(self._app_secret, headers, body)

    def handshake(self, params: Mapping[str, str]) -> str:
        """The challenge to answer Meta's subscription check, or ``WebhookForbidden``."""
        return meta.check_handshake(self._verify_token, params)

    def parse(self, body: bytes) -> list[Event]:
        """Every update of a verified webhook body as neutral events (``MalformedWebhook``)."""
        return parse_webhook(body)

    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Send one message; provider errors and network failures become outcomes."""
        return await send_encoded(self, message)

    def encode(self, message: OutboundMessage) -> Wire | PermanentFailure:
        """The Send API request body for ``message``, or why Messenger cannot carry it."""
        try:
            return "", json.dumps(render_message(message)).encode()
        except _Unrenderable as exc:
            return PermanentFailure("unrenderable", str(exc))

    async def send_wire(self, wire: Wire) -> SendOutcome:
        """Post an encoded message; provider errors and network failures become outcomes."""
        session = self._http.open()
        try:
            async with session.post(
                self._messages_url, params={"access_token": self._page_token}, data=wire[1],
                headers=JSON_CONTENT,
            ) as response:
                status, raw = response.status, await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("messenger send failed on the network", extra={"error": type(exc).__name__})
            return TransientFailure("network", self._redact(f"{type(exc).__name__}: {exc}"))
        outcome = outcome_for_answer(status, raw)
        if not isinstance(outcome, Sent):
            log.info(
                "messenger send refused",
                extra={"http_status": status, "outcome": type(outcome).__name__},
            )
        return outcome

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """The attachment's bytes and MIME type; ``MediaUnavailable`` if they cannot be had.

        Messenger attachment URLs are signed CDN URLs that expire after a while; they are
        fetched without the Page token, which must never travel to a CDN.
        """
        if not media.url:
            raise MediaUnavailable(f"Messenger attachment {media.provider_media_id} has no URL.")
        session = self._http.open()
        try:
            async with session.get(media.url, timeout=_MEDIA_TIMEOUT) as response:
                if not response.ok:
                    raise MediaUnavailable(
                        f"Downloading Messenger attachment {media.provider_media_id} failed"
                        f" with HTTP {response.status} (the URL may have expired)."
                    )
                data = await _read_capped(response, media)
                declared = aiohttp.hdrs.CONTENT_TYPE in response.headers
                content_type = response.content_type if declared else media.mime_type
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise MediaUnavailable(
                f"Downloading Messenger attachment {media.provider_media_id} failed:"
                f" {type(exc).__name__}"
            ) from exc
        return data, content_type

    async def close(self) -> None:
        """Close the HTTP session and its kept-alive connections."""
        await self._http.close()

    def _redact(self, text: str) -> str:
        # The token rides in the query string, and some client errors quote the URL.
        return text.replace(self._page_token, "<page token>").rstrip(": ")


def outcome_for_answer(status: int, body: bytes) -> SendOutcome:
    """The outcome of the Send API's answer, keyed on the Graph error it names."""
    answer = json_object(body)
    error = meta.graph_error(answer)
    if error is not None:
        return outcome_for_error(status, error)
    if status >= 500:
        return TransientFailure(f"http_{status}", "Messenger answered with a server error.")
    message_id = answer.get("message_id") if answer and 200 <= status < 300 else None
    if isinstance(message_id, str) and message_id:
        return Sent(message_id)
    # Accepted without an id, or refused without an error: retrying could send twice.
    return PermanentFailure(f"http_{status}", "Messenger gave an answer without a message id.")


def render_message(message: OutboundMessage) -> dict[str, Any]:
    """The Send API request body for ``message``; ``_Unrenderable`` if it has no form there.

    Inside the 24-hour window a message goes as ``RESPONSE``; with the HUMAN_AGENT tag it
    goes as ``MESSAGE_TAG``, which Meta accepts up to 7 days after the person's last
    message. ``reply_to`` and ``callback_data`` have no Send API field and are not sent.
    """
    if message.template is not None:
        raise _Unrenderable(
            "Messenger has no message templates: reply inside the 24-hour window, or as a"
            " human agent (HUMAN_AGENT tag) within 7 days."
        )
    if message.text is not None and message.media is None:
        content: dict[str, Any] = {"text": message.text}
    elif message.media is not None and message.text is None:
        content = _attachment(message.media)
    else:
        raise _Unrenderable("A Messenger message needs exactly one of text or media.")
    if message.buttons:
        content["quick_replies"] = [
            {"content_type": "text", "title": button.title, "payload": button.id}
            for button in message.buttons
        ]
    body: dict[str, Any] = {"recipient": {"id": message.to}, "messaging_type": "RESPONSE"}
    if message.tag is not None:
        tag = _TAGS.get(message.tag)
        if tag is None:
            raise _Unrenderable(f"Messenger has no message tag {message.tag.value!r}.")
        body |= {"messaging_type": "MESSAGE_TAG", "tag": tag}
    body["message"] = content
    return body


def _attachment(media: Media) -> dict[str, Any]:
    kind = _ATTACHMENT_TYPES.get(media.kind)
    if kind is None:
        raise _Unrenderable(f"Messenger cannot send media of kind {media.kind!r}.")
    if media.caption:
        # Messenger attachments have no caption; sending it as a second message would make
        # one send two, with two outcomes, so the caller decides.
        raise _Unrenderable(
            "Messenger attachments carry no caption: send the caption as its own text message."
        )
    # The Send API takes no file name (Messenger shows the URL's); and as we send by URL
    # each time and never keep Meta's attachment id, the upload need not stay reusable.
    return {"attachment": {"type": kind, "payload": {"url": media.url, "is_reusable": False}}}


async def _read_capped(response: aiohttp.ClientResponse, media: MediaRef) -> bytes:
    if response.content_length is not None and response.content_length > _MAX_MEDIA_BYTES:
        raise MediaUnavailable(
            f"Messenger attachment {media.provider_media_id} is larger than 25 MB."
        )
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data.extend(chunk)
        if len(data) > _MAX_MEDIA_BYTES:
            raise MediaUnavailable(
                f"Messenger attachment {media.provider_media_id} is larger than 25 MB."
            )
    return bytes(data)


def _secret(value: SecretStr | None, name: str) -> str:
    text = value.get_secret_value().strip() if value is not None else ""
    if not text:
        raise ConfigError(f"BOTSCHAFT_MESSENGER__{name} must be set for Messenger.")
    return text
