"""A fake Telegram Bot API on loopback that answers as core.telegram.org/bots/api documents.

It validates what the real API validates for the calls Botschaft makes, answers errors in
Telegram's envelope and wording, keeps per-chat message ids, and builds Updates the way
Telegram POSTs them, so adapters are tested over real HTTP without the network.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web

from botschaft.testing.loopback import LoopbackServer
from botschaft.testing.telegram_chats import Chat, TelegramChats

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTests_only-1"  # noqa: S105 - made up

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Parameters that a form body carries as JSON-serialised strings.
_JSON_PARAMETERS = ("reply_markup", "reply_parameters", "allowed_updates")
_MEDIA_FIELDS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendAudio": "audio",
    "sendVideo": "video",
}


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted from the bot."""

    method: str
    chat_id: int
    message_id: int
    text: str | None = None
    media: str | None = None  # the URL or file_id given for sendPhoto and its siblings
    caption: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()  # (text, callback_data or url), row after row
    reply_to_message_id: int | None = None


class ApiError(Exception):
    """Raised inside a method handler; becomes Telegram's error envelope."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class FakeTelegram(LoopbackServer, TelegramChats):
    """The Bot API for one bot token, on 127.0.0.1 and an ephemeral port.

    A chat is known once ``register``-ed or once its person wrote (``user_writes`` and the
    other builders of ``TelegramChats``); a send to any other chat finds no chat.

    Sending limits are off unless given: ``per_second`` for the whole bot,
    ``per_chat_per_second`` for one chat (Telegram's soft limits are about 30 and 1).
    ``clock`` (Unix seconds) dates messages and measures those limits, so tests can move
    time instead of sleeping.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "botschaft_test_bot",
        per_second: int | None = None,
        per_chat_per_second: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(token, bot_username, clock)
        self.token = token
        self.sent: list[SentMessage] = []
        self.answered_callbacks: list[tuple[str, str | None]] = []
        self.webhook: dict[str, Any] | None = None
        self._per_second = per_second
        self._per_chat = per_chat_per_second
        self._recent_sends: deque[float] = deque()
        self._failures: deque[ApiError] = deque()
        self._methods: dict[str, Callable[[dict[str, Any]], object]] = {
            "getme": lambda _: self.bot_user,
            "sendmessage": self._send_message,
            **{name.lower(): partial(self._send_media, name) for name in _MEDIA_FIELDS},
            "answercallbackquery": self._answer_callback_query,
            "setwebhook": self._set_webhook,
            "getfile": self._get_file,
        }

    # -- lifecycle ------------------------------------------------------------------------

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/bot{token}/{method}", self._api)
        router.add_get("/file/bot{token}/{path:.+}", self._download)

    # -- what the test controls ---------------------------------------------------------

    def flood_next(self, retry_after: int) -> None:
        """The next API call is refused with 429 and this ``retry_after``."""
        self.fail_next(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def fail_next(self, code: int, description: str, retry_after: int | None = None) -> None:
        """The next API call is refused with this error, whatever it asks."""
        self._failures.append(ApiError(code, description, retry_after))

    # -- the HTTP side ------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        # Telegram matches method names case-insensitively.
        handler = self._methods.get(request.match_info["method"].lower())
        if handler is None:
            return _error(ApiError(404, "Not Found"))
        try:
            params = await _parameters(request)
            if self._failures:
                raise self._failures.popleft()
            result = handler(params)
        except ApiError as refused:
            return _error(refused)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        found = next((f for f in self._files.values() if f.path == path), None)
        if request.match_info["token"] != self.token or found is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found.content, content_type="application/octet-stream")

    def _send_message(self, params: dict[str, Any]) -> object:
        chat = self._recipient(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_length(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._accept("sendMessage", chat, params, {"text": text})

    def _send_media(self, method: str, params: dict[str, Any]) -> object:
        field_name = _MEDIA_FIELDS[method]
        chat = self._recipient(params)
        media = params.get(field_name)
        if not isinstance(media, str) or not media:
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        if not media.startswith(("https://", "http://")) and media not in self._files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = params.get("caption")
        if caption is not None and (not isinstance(caption, str) or _utf16_length(caption) > 1024):
            raise ApiError(400, "Bad Request: message caption is too long")
        file_id = media if media in self._files else self.add_file(b"", f"{field_name}s")
        extra: dict[str, Any] = {field_name: {"file_id": file_id, "file_unique_id": file_id[-8:]}}
        if field_name == "photo":
            extra["photo"] = [{**extra["photo"], "width": 800, "height": 600}]
        if caption:
            extra["caption"] = caption
        return self._accept(method, chat, params, extra, media=media)

    def _recipient(self, params: Mapping[str, Any]) -> Chat:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
            chat_id = int(chat_id)
        # "@username" names only public groups and channels, which this fake has none of.
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _accept(
        self,
        method: str,
        chat: Chat,
        params: Mapping[str, Any],
        extra: dict[str, Any],
        media: str | None = None,
    ) -> object:
        buttons = _inline_keyboard(params.get("reply_markup"))
        reply_to = _reply_to(chat, params.get("reply_parameters"))
        self._admit(chat)
        message_id = chat.next_message_id()
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=chat.id,
                message_id=message_id,
                text=extra.get("text"),
                media=media,
                caption=extra.get("caption"),
                buttons=buttons,
                reply_to_message_id=reply_to,
            )
        )
        if buttons:
            extra["reply_markup"] = params["reply_markup"]
        return self._message(chat, message_id, self.bot_user, extra)

    def _admit(self, chat: Chat) -> None:
        now = self._clock()
        for recent, limit in (
            (self._recent_sends, self._per_second),
            (chat.recent_sends, self._per_chat),
        ):
            while recent and recent[0] <= now - 1:
                recent.popleft()
            if limit is not None and len(recent) >= limit:
                wait = max(1, math.ceil(recent[0] + 1 - now))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._recent_sends.append(now)
        chat.recent_sends.append(now)

    def _answer_callback_query(self, params: dict[str, Any]) -> object:
        query_id = params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._open_callbacks:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if text is not None and (not isinstance(text, str) or len(text) > 200):
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.answered_callbacks.append((query_id, text))
        return True

    def _set_webhook(self, params: dict[str, Any]) -> object:
        url = params.get("url")
        if not isinstance(url, str):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and (
            not isinstance(secret, str) or not _SECRET_TOKEN.fullmatch(secret)
        ):
            raise ApiError(
                400, "Bad Request: bad webhook: secret token contains unallowed characters"
            )
        allowed = params.get("allowed_updates")
        if allowed is not None and (
            not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed)
        ):
            raise ApiError(400, "Bad Request: can't parse allowed updates")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        return True

    def _get_file(self, params: dict[str, Any]) -> object:
        file_id = params.get("file_id")
        found = self._files.get(file_id) if isinstance(file_id, str) else None
        if file_id is None or found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-8:],
            "file_size": len(found.content),
            "file_path": found.path,
        }


async def _parameters(request: web.Request) -> dict[str, Any]:
    """Query string, JSON or form body, as the Bot API accepts them all."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: the JSON body must be an object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
        for key in _JSON_PARAMETERS:
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return params


def _inline_keyboard(markup: object) -> tuple[tuple[str, str], ...]:
    if markup is None:
        return ()
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(
            400,
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup'
            " should be an Array of Arrays",
        )
    buttons = []
    for button in (button for row in rows for button in row):
        text = button.get("text") if isinstance(button, dict) else None
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text is empty")
        data = button.get("callback_data")
        if data is None and "url" not in button:
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button:"
                " Text buttons are unallowed in the inline keyboard",
            )
        if data is not None and (not isinstance(data, str) or not 1 <= len(data.encode()) <= 64):
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        buttons.append((text, data or button["url"]))
    return tuple(buttons)


def _reply_to(chat: Chat, parameters: object) -> int | None:
    if parameters is None:
        return None
    message_id = parameters.get("message_id") if isinstance(parameters, dict) else None
    if not isinstance(message_id, int):
        raise ApiError(400, "Bad Request: can't parse reply parameters JSON object")
    exists = 1 <= message_id <= chat.last_message_id
    if not exists and not (
        isinstance(parameters, dict) and parameters.get("allow_sending_without_reply")
    ):
        raise ApiError(400, "Bad Request: message to be replied not found")
    return message_id if exists else None


def _utf16_length(text: str) -> int:
    # Telegram counts lengths in UTF-16 code units: an emoji outside the BMP counts twice.
    return len(text.encode("utf-16-le")) // 2


def _error(refused: ApiError) -> web.Response:
    answer: dict[str, Any] = {
        "ok": False,
        "error_code": refused.code,
        "description": refused.description,
    }
    if refused.retry_after is not None:
        answer["parameters"] = {"retry_after": refused.retry_after}
    return web.json_response(answer, status=refused.code)
