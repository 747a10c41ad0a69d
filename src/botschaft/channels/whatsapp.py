"""The WhatsApp Business Cloud API adapter: webhooks in, messages out, media on demand.

Parsing lives in ``whatsapp_parse`` and the error table in ``whatsapp_errors``; this module
renders outbound messages and speaks HTTP to the Graph API.
Source: developers.facebook.com/documentation/business-messaging/whatsapp
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
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
from botschaft.channels.messages import Media, OutboundMessage, Template, TemplateParameter
from botschaft.channels.outcomes import PermanentFailure, SendOutcome, Sent, TransientFailure
from botschaft.channels.whatsapp_errors import describe_error, is_known_error, outcome_for_error
from botschaft.channels.whatsapp_parse import parse_webhook
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import ConfigError
from botschaft.settings import WhatsAppSettings

__all__ = ["CAPABILITIES", "MediaUnavailable", "WhatsAppChannel", "outcome_for_error"]

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    service_window=timedelta(hours=24),
    agent_window=None,
    templates=True,
    max_buttons=3,
    max_text_length=4096,
    media_kinds=frozenset({"image", "audio", "video", "document", "sticker"}),
)

# Meta takes captions on these kinds only; audio and stickers have none.
_CAPTIONED = frozenset({"image", "video", "document"})


class _Unrenderable(Exception):
    """An outbound message that WhatsApp cannot express; the reason is for people."""


class WhatsAppChannel:
    """The ``Channel`` for one WhatsApp business phone number.

    The HTTP session is created on first use inside the running event loop and lives until
    ``close``; use one adapter per event loop.
    """

    kind = ChannelKind.WHATSAPP
    capabilities = CAPABILITIES

    def __init__(self, settings: WhatsAppSettings) -> None:
        self._access_token = _secret(settings.access_token, "ACCESS_TOKEN")
        self._app_secret = _secret(settings.app_secret, "APP_SECRET")
        self._verify_token = _secret(settings.verify_token, "VERIFY_TOKEN")
        if not settings.phone_number_id:
            raise ConfigError("BOTSCHAFT_WHATSAPP__PHONE_NUMBER_ID must be set for WhatsApp.")
        self._graph = f"{settings.api_base.rstrip('/')}/{settings.api_version}"
        self._messages_url = f"{self._graph}/{settings.phone_number_id}/messages"
        self._http = meta.graph_session()
        self._headers = {**self._auth(), **JSON_CONTENT}

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
        """The Cloud API request body for ``message``, or why WhatsApp cannot carry it."""
        try:
            return "", json.dumps(render_message(message)).encode()
        except _Unrenderable as exc:
            return PermanentFailure("unrenderable", str(exc))

    async def send_wire(self, wire: Wire) -> SendOutcome:
        """Post an encoded message; provider errors and network failures become outcomes."""
        session = self._http.open()
        try:
            async with session.post(
                self._messages_url, data=wire[1], headers=self._headers
            ) as response:
                status, raw = response.status, await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("whatsapp send failed on the network", extra={"error": type(exc).__name__})
            return TransientFailure("network", f"{type(exc).__name__}: {exc}".rstrip(": "))
        outcome = outcome_for_answer(status, raw)
        if not isinstance(outcome, Sent):
            log.info(
                "whatsapp send refused",
                extra={
                    "http_status": status,
                    "outcome": type(outcome).__name__,
                    "code": outcome.code,
                },
            )
        return outcome

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """The attachment's bytes and MIME type; ``MediaUnavailable`` if Meta has none.

        Meta first answers the media id with a short-lived URL, which wants the same token.
        """
        session = self._http.open()
        what = f"WhatsApp media {media.provider_media_id}"
        try:
            async with session.get(
                f"{self._graph}/{media.provider_media_id}", headers=self._auth()
            ) as response:
                info = json_object(await response.read()) if response.ok else None
            url = info.get("url") if info else None
            if not isinstance(url, str):
                raise MediaUnavailable(f"Meta has no download URL for {what} (expired?).")
            async with session.get(url, headers=self._auth()) as response:
                if not response.ok:
                    raise MediaUnavailable(
                        f"Downloading {what} failed with HTTP {response.status}."
                    )
                data = await response.read()
                served_as = response.content_type
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise MediaUnavailable(f"Downloading {what} failed: {exc!r}") from exc
        mime = info.get("mime_type") if info else None
        return data, mime if isinstance(mime, str) and mime else served_as

    async def close(self) -> None:
        """Close the HTTP session and its kept-alive connections."""
        await self._http.close()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token}"}


def outcome_for_answer(status: int, body: bytes) -> SendOutcome:
    """The outcome of the Graph API's answer to a send, keyed on the error code it names."""
    answer = json_object(body)
    error = meta.graph_error(answer)
    if error is not None and isinstance(error.get("code"), int | str):
        code = str(error["code"])
        data = error.get("error_data")
        details = data.get("details") if isinstance(data, dict) else None
        message = error.get("message")
        detail = describe_error(
            message if isinstance(message, str) else "",
            details if isinstance(details, str) else None,
        )
        if not is_known_error(code) and status >= 500:
            return TransientFailure(code, detail)
        return outcome_for_error(code, detail)
    if status >= 500:
        return TransientFailure(f"http_{status}", "WhatsApp answered with a server error.")
    if 200 <= status < 300 and answer is not None:
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        message_id = first.get("id") if isinstance(first, dict) else None
        if isinstance(message_id, str) and message_id:
            return Sent(message_id)
    # Accepted without an id, or refused without an error: retrying could send twice.
    return PermanentFailure(f"http_{status}", "WhatsApp gave an answer without a message id.")


def render_message(message: OutboundMessage) -> dict[str, Any]:
    """The Cloud API request body for ``message``; ``_Unrenderable`` if it has no form there."""
    if (message.template is not None and message.text is not None and message.media is None
            and not message.buttons):
        # A template may carry its text as written, for the inbox and first-party channels;
        # WhatsApp renders the approved template itself, so the text is not sent.
        message = replace(message, text=None)
    kinds = [part for part in (message.text, message.media, message.template) if part is not None]
    if len(kinds) != 1:
        raise _Unrenderable("A message needs exactly one of text, media or template.")
    if message.buttons and message.text is None:
        raise _Unrenderable("WhatsApp reply buttons go with a text message.")
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    body.update(_recipient(message.to))
    if message.text is not None and message.buttons:
        body["type"] = "interactive"
        body["interactive"] = {
            "type": "button",
            "body": {"text": message.text},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button.id, "title": button.title}}
                    for button in message.buttons
                ]
            },
        }
    elif message.text is not None:
        body["type"] = "text"
        # Link previews are on: a message with a link is usually meant to show it.
        body["text"] = {"body": message.text, "preview_url": True}
    elif message.media is not None:
        body["type"] = message.media.kind
        body[message.media.kind] = _media(message.media)
    elif message.template is not None:
        body["type"] = "template"
        body["template"] = _template(message.template)
    if message.reply_to:
        body["context"] = {"message_id": message.reply_to}
    if message.callback_data:
        body["biz_opaque_callback_data"] = message.callback_data
    return body


def _recipient(to: str) -> dict[str, str]:
    # Numbers go in `to` as digits; a business-scoped user id (e.g. "US.1349…") goes in
    # `recipient` (Meta's business-scoped user id documentation, 2026).
    digits = to.removeprefix("+")
    return {"to": digits} if digits.isdigit() else {"recipient": to}


def _media(media: Media) -> dict[str, str]:
    if media.kind not in CAPABILITIES.media_kinds:
        raise _Unrenderable(f"WhatsApp cannot send media of kind {media.kind!r}.")
    rendered = {"link": media.url}
    if media.caption:
        if media.kind not in _CAPTIONED:
            raise _Unrenderable(f"WhatsApp does not show captions on {media.kind}.")
        rendered["caption"] = media.caption
    if media.filename:
        if media.kind != "document":
            raise _Unrenderable("WhatsApp takes a file name for documents only.")
        rendered["filename"] = media.filename
    return rendered


def _template(template: Template) -> dict[str, Any]:
    rendered: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    components = []
    for component in template.components:
        item: dict[str, Any] = {
            "type": component.type,
            "parameters": [_parameter(parameter) for parameter in component.parameters],
        }
        if component.sub_type is not None:
            item["sub_type"] = component.sub_type
        if component.index is not None:
            item["index"] = str(component.index)  # Meta wants the button index as a string
        components.append(item)
    if components:
        rendered["components"] = components
    return rendered


def _parameter(parameter: TemplateParameter) -> dict[str, Any]:
    given = [parameter.text, parameter.image_url, parameter.payload]
    if sum(value is not None for value in given) != 1:
        raise _Unrenderable("A template parameter needs one of text, image URL or payload.")
    if parameter.text is not None:
        return {"type": "text", "text": parameter.text}
    if parameter.image_url is not None:
        return {"type": "image", "image": {"link": parameter.image_url}}
    return {"type": "payload", "payload": parameter.payload}


def _secret(value: SecretStr | None, name: str) -> str:
    secret = value.get_secret_value() if value is not None else ""
    if not secret.strip():
        raise ConfigError(f"BOTSCHAFT_WHATSAPP__{name} must be set for WhatsApp.")
    return secret
