"""The Telegram Bot API adapter: webhook secret, updates, sending, callbacks and files.

Updates are read in ``telegram_updates`` and provider answers mapped in
``telegram_answers``; this module holds the adapter that speaks HTTP to the Bot API.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

import aiohttp

from botschaft.channels.base import (
    JSON_CONTENT,
    Capabilities,
    WebhookForbidden,
    WebhookRejected,
    Wire,
    send_encoded,
)
from botschaft.channels.events import Event, InboundMessage, MediaRef
from botschaft.channels.http_session import HttpSession
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.outcomes import PermanentFailure, SendOutcome, Sent, TransientFailure
from botschaft.channels.telegram_answers import ApiAnswer, failure_outcome, read_answer
from botschaft.channels.telegram_updates import (
    CALLBACK_PREFIX,
    START_PAYLOAD,
    message_key,
    parse_update,
)
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError, ConfigError
from botschaft.settings import TelegramSettings

logger = logging.getLogger(__name__)

WEBHOOK_HEADER = "x-telegram-bot-api-secret-token"

# Only what ``parse`` acts on; edits and the rest would be ignored after a round trip anyway.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")

CAPABILITIES = Capabilities(
    service_window=None,  # a bot may write to anyone who started it, at any time
    agent_window=None,
    templates=False,
    # Telegram allows up to 100 inline buttons; more than 10 choices read badly on a phone.
    max_buttons=10,
    max_text_length=4096,  # counted in UTF-16 code units, after entity parsing
    media_kinds=frozenset({"image", "document", "audio", "video"}),
)

_MEDIA_METHODS = {
    "image": ("sendPhoto", "photo"),
    "document": ("sendDocument", "document"),
    "audio": ("sendAudio", "audio"),
    "video": ("sendVideo", "video"),
}

# BotFather's tokens are "<bot id>:<secret>"; the bot id is the account events belong to.
_BOT_TOKEN = re.compile(r"(\d+):[A-Za-z0-9_-]+")
_CHAT_ID = re.compile(r"-?\d+")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

# Sending a document by URL makes Telegram download it first, which can take a while.
_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)
# Telegram's bulk limit is about 30 messages a second; more sockets would only wait for 429s.
_CONNECTIONS = 16


class Clock(Protocol):
    """What the adapter needs of a clock; the services' clocks fit."""

    def now(self) -> datetime: ...


class TelegramCallFailed(BotschaftError):
    """A Bot API call outside the send path (webhook setup, file download) failed."""

    code = "telegram_call_failed"
    status = 502


class TelegramChannel:
    """The ``Channel`` for one Telegram bot.

    ``clock`` gives the arrival time of callback queries, which Telegram sends undated; it is
    any object with ``now()`` returning an aware datetime, such as the services' clock.
    """

    kind: ChannelKind = ChannelKind.TELEGRAM
    capabilities: Capabilities = CAPABILITIES

    def __init__(self, settings: TelegramSettings, *, clock: Clock | None = None) -> None:
        token = settings.bot_token.get_secret_value() if settings.bot_token else ""
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        bot = _BOT_TOKEN.fullmatch(token)
        if bot is None:
            raise ConfigError(
                "BOTSCHAFT_TELEGRAM__BOT_TOKEN must be the token BotFather gave"
                " (digits, a colon, then letters, digits, _ or -)"
            )
        if not _WEBHOOK_SECRET.fullmatch(secret):
            # setWebhook would refuse it; better to say so at startup than at setup time.
            raise ConfigError(
                "BOTSCHAFT_TELEGRAM__WEBHOOK_SECRET must be 1-256 characters of"
                " A-Z a-z 0-9 _ - (Telegram allows no others)"
            )
        self.account = bot.group(1)
        self._token = token
        self._secret = secret.encode("utf-8")
        self._username = settings.bot_username.removeprefix("@")
        base = settings.api_base.rstrip("/")
        self._method_base = f"{base}/bot{token}/"
        self._file_base = f"{base}/file/bot{token}/"
        self._clock = clock or _SystemClock()
        self._http = HttpSession(connections=_CONNECTIONS, timeout=_TIMEOUT)

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise unless the request carries our webhook secret.

        Telegram does not sign bodies; the secret given to ``setWebhook`` comes back in a
        header, compared here in constant time and never echoed.
        """
        given = next((v for k, v in headers.items() if k.lower() == WEBHOOK_HEADER), None)
        if given is None:
            raise WebhookRejected("The request has no X-Telegram-Bot-Api-Secret-Token header.")
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._secret):
            raise WebhookForbidden("X-Telegram-Bot-Api-Secret-Token does not match.")

    def parse(self, body: bytes) -> list[Event]:
        """The one event in a verified Update; ``MalformedWebhook`` if it cannot be read."""
        return [parse_update(body, self.account, self._clock.now)]

    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Send text (with inline buttons) or media by URL; every answer becomes an outcome.

        ``Sent`` carries ``"<chat id>:<message id>"``, the same shape inbound ids have.
        """
        return await send_encoded(self, message)

    def encode(self, message: OutboundMessage) -> Wire | PermanentFailure:
        """The Bot API method and encoded parameters for ``message``, or why Telegram
        cannot carry it."""
        request = _render(message)
        if isinstance(request, PermanentFailure):
            return request
        method, payload = request
        return method, json.dumps(payload).encode()

    async def send_wire(self, wire: Wire) -> SendOutcome:
        """Call the Bot API with an encoded message; every answer becomes an outcome."""
        method, body = wire
        answer = await self._call(method, body)
        if isinstance(answer, TransientFailure):
            return answer
        if not answer.ok:
            return failure_outcome(answer)
        return _sent(answer.result)

    async def answer_callback(self, callback_query_id: str, text: str | None = None) -> SendOutcome:
        """Answer a button tap, optionally with a short notice shown to the person.

        Telegram expects every callback query to be answered (the button shows a spinner
        until then). ``Sent`` carries ``"cb:<id>"``, the id the inbound event had.
        """
        payload: dict[str, object] = {"callback_query_id": callback_query_id}
        if text is not None:
            payload["text"] = text
        answer = await self._call("answerCallbackQuery", payload)
        if isinstance(answer, TransientFailure):
            return answer
        if not answer.ok:
            return failure_outcome(answer)
        return Sent(CALLBACK_PREFIX + callback_query_id)

    async def set_webhook(self, url: str) -> None:
        """Point Telegram at ``url`` with our secret; raise ``TelegramCallFailed`` if refused.

        Raises rather than returning an outcome: this runs once at setup, where a person
        must read why it failed.
        """
        payload: dict[str, object] = {
            "url": url,
            "secret_token": self._secret.decode("utf-8"),
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        answer = await self._call("setWebhook", payload)
        if isinstance(answer, TransientFailure):
            raise TelegramCallFailed(f"Telegram could not be reached: {answer.detail}")
        if not answer.ok:
            raise TelegramCallFailed(f"Telegram refused the webhook: {answer.description}")

    def deep_link(self, token: str) -> str:
        """The ``t.me`` link that opens the bot and sends ``/start <token>`` on Start."""
        if not START_PAYLOAD.fullmatch(token):
            raise ValueError("A Telegram start token is 1-64 characters of A-Z a-z 0-9 _ -")
        if not self._username:
            raise ConfigError("BOTSCHAFT_TELEGRAM__BOT_USERNAME must be set for t.me links")
        return f"https://t.me/{self._username}?start={token}"

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """Download an attachment: ``getFile`` names its path, then the file is fetched.

        Raises ``TelegramCallFailed`` if Telegram refuses (bots may download up to 20 MB).
        """
        answer = await self._call("getFile", {"file_id": media.provider_media_id})
        if isinstance(answer, TransientFailure):
            raise TelegramCallFailed(f"Telegram could not be reached: {answer.detail}")
        if not answer.ok:
            raise TelegramCallFailed(f"Telegram refused the file: {answer.description}")
        result = answer.result
        path = result.get("file_path") if isinstance(result, dict) else None
        if not isinstance(path, str):
            raise TelegramCallFailed("Telegram named no path for the file.")
        try:
            async with self._http.open().get(self._file_base + path) as response:
                if response.status != 200:
                    raise TelegramCallFailed(f"The file download failed with {response.status}.")
                content = await response.read()
                # Telegram serves files as octet-stream; the update knew the real type.
                return content, media.mime_type or response.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TelegramCallFailed(f"The file download failed: {self._describe(exc)}") from None

    async def close(self) -> None:
        """Close the HTTP session; a later call opens a new one."""
        await self._http.close()

    async def _call(
        self, method: str, payload: Mapping[str, object] | bytes
    ) -> ApiAnswer | TransientFailure:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            async with self._http.open().post(
                self._method_base + method, data=body, headers=JSON_CONTENT
            ) as response:
                answer = read_answer(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning(
                "telegram call failed", extra={"method": method, "error": type(exc).__name__}
            )
            return TransientFailure("network_error", self._describe(exc))
        if not answer.ok:
            logger.info(
                "telegram refused a call",
                extra={"method": method, "error_code": answer.error_code},
            )
        return answer

    def _describe(self, exc: BaseException) -> str:
        # The token is part of every URL, and aiohttp errors may quote the URL; outcomes
        # are stored and shown, so the token is cut out.
        return f"{type(exc).__name__}: {exc}".replace(self._token, "<token>")


def _render(message: OutboundMessage) -> tuple[str, dict[str, object]] | PermanentFailure:
    """The Bot API method and parameters for a message, or why Telegram cannot carry it."""
    if message.template is not None:
        return PermanentFailure(
            "template_unsupported",
            "Telegram has no message templates; send the text itself"
            " (a bot may write to anyone who started it, at any time).",
        )
    if (message.text is None) == (message.media is None):
        return PermanentFailure("message_shape", "A message needs either text or media.")
    payload: dict[str, object] = {"chat_id": _chat_id(message.to)}
    if message.buttons:
        # One button per row: titles stay readable on a phone.
        payload["reply_markup"] = {
            "inline_keyboard": [
                [{"text": button.title, "callback_data": button.id}] for button in message.buttons
            ]
        }
    if message.reply_to is not None:
        reply_id = message.reply_to.rpartition(":")[2]
        if not reply_id.isdecimal():
            return PermanentFailure("reply_to_invalid", "reply_to is not a Telegram message id.")
        # Without this flag a deleted original would make the whole send fail.
        payload["reply_parameters"] = {
            "message_id": int(reply_id),
            "allow_sending_without_reply": True,
        }
    if message.media is None:
        payload["text"] = message.text
        return "sendMessage", payload
    target = _MEDIA_METHODS.get(message.media.kind)
    if target is None:
        return PermanentFailure(
            "media_kind_unsupported", f"Telegram cannot send media of kind {message.media.kind!r}."
        )
    method, field = target
    payload[field] = message.media.url
    if message.media.caption:
        payload["caption"] = message.media.caption
    return method, payload


def callback_query_id(event: InboundMessage) -> str | None:
    """The callback query id to pass to ``answer_callback``, if the event is a button tap."""
    if event.channel is not ChannelKind.TELEGRAM:
        return None
    if not event.provider_message_id.startswith(CALLBACK_PREFIX):
        return None
    return event.provider_message_id.removeprefix(CALLBACK_PREFIX)


def _chat_id(to: str) -> int | str:
    # Telegram takes a numeric id or "@channelname"; ids go as numbers, they are int64.
    return int(to) if _CHAT_ID.fullmatch(to) else to


def _sent(result: object) -> SendOutcome:
    message_id = result.get("message_id") if isinstance(result, dict) else None
    chat = result.get("chat") if isinstance(result, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if not isinstance(message_id, int) or not isinstance(chat_id, int):
        # Telegram said ok, so the message most likely went out: retrying would send it twice.
        return PermanentFailure("unexpected_answer", "Telegram accepted without a message id.")
    return Sent(message_key(chat_id, message_id))


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
