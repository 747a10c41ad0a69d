"""A fake Messenger Send API on loopback, following Meta's documented contract.

It checks the Page token, validates request bodies, enforces the 24-hour window per person
(and the 7 days of the HUMAN_AGENT tag), answers with Meta's success and error shapes,
serves attachment URLs, and builds and signs webhook payloads as Meta sends them. Tests
drive it with ``user_writes`` (a person writes, opening the window), ``fail_next`` (script a
provider error for one person), ``limit_rate``, ``before_answer`` (let a delivery webhook
overtake the answer to a send) and an injectable clock.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import SecretStr

from botschaft.settings import MessengerSettings
from botschaft.testing.fake_meta import FakeMetaApp, graph_error

Clock = Callable[[], datetime]
Json = dict[str, Any]

SERVICE_WINDOW = timedelta(hours=24)
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
# How long after the person's last message each tag may still be used (Meta's message-tag
# documentation). The event, purchase and account update tags are left out: Meta may have
# retired them, and the adapter does not use them.
TAG_WINDOWS = {"HUMAN_AGENT": timedelta(days=7), "CUSTOMER_FEEDBACK": timedelta(days=7)}
_MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
_ATTACHMENT_TYPES = frozenset({"image", "audio", "video", "file"})
_CDN_PATH = "/cdn/attachments/{key}/{name}"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# (code, subcode) → (HTTP status, message) as Meta words them. Meta answers most errors with
# 400; the adapter must not rely on the status, and neither should tests.
_ERRORS: dict[tuple[int, int | None], tuple[int, str]] = {
    (2, None): (503, "An unexpected error has occurred. Please retry your request later."),
    (4, None): (400, "(#4) Application request limit reached"),
    (10, 1893063): (400, "(#10) This Page is restricted from messaging."),
    (10, 2018278): (
        400,
        "(#10) This message is sent outside of allowed window. Learn more about the new"
        " policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
    ),
    (100, None): (400, "(#100) Invalid parameter"),
    (100, 2018001): (400, "(#100) No matching user found"),
    (190, None): (401, "Invalid OAuth access token - Cannot parse access token"),
    (200, 1545041): (400, "(#200) This person isn't available right now."),
    (551, 1545041): (400, "(#551) This person isn't available right now."),
    (551, None): (400, "(#551) This person isn't available right now."),
    (613, None): (400, "(#613) Calls to this api have exceeded the rate limit."),
    (1200, None): (500, "(#1200) Temporary send message failure. Please try again later."),
}


@dataclass(frozen=True)
class AcceptedSend:
    """A message the fake accepted: its mid, the request body as sent, and when."""

    message_id: str
    body: Json
    at: datetime

    @property
    def recipient(self) -> str:
        return str(self.body["recipient"]["id"])

    @property
    def messaging_type(self) -> str:
        return str(self.body["messaging_type"])

    @property
    def tag(self) -> str | None:
        tag = self.body.get("tag")
        return str(tag) if tag is not None else None

    @property
    def message(self) -> Json:
        message: Json = self.body["message"]
        return message


class FakeMessenger(FakeMetaApp):
    """A Send API for one Facebook Page, on 127.0.0.1 with an ephemeral port.

    Use ``async with FakeMessenger() as fake`` (or ``start``/``stop``) and point the adapter
    at ``fake.settings()``.
    """

    def __init__(
        self,
        *,
        page_id: str = "104570312345678",
        api_version: str = "v23.0",
        page_access_token: str | None = None,
        app_secret: str | None = None,
        verify_token: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.page_id = page_id
        self.api_version = api_version
        # Fresh secrets per fake unless given, so no test passes on a well-known value.
        self.page_access_token = page_access_token or secrets.token_urlsafe(24)
        self.app_secret = app_secret or secrets.token_hex(16)
        self.verify_token = verify_token or secrets.token_urlsafe(12)
        self.sent: list[AcceptedSend] = []
        # Awaited after a message is accepted and before the send is answered: Meta's
        # delivery webhook can reach the business before that answer does.
        self.before_answer: Callable[[AcceptedSend], Awaitable[None]] | None = None
        # A fake may be run by hand against real time; tests pass a fixed clock.
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._last_message: dict[str, datetime] = {}
        self._scripted: dict[str, deque[tuple[int, int | None]]] = {}
        self._rate_limit: int | None = None
        self._attachments: dict[str, tuple[bytes, str, str]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/{version}/{page}/messages", self._messages)
        router.add_get(_CDN_PATH, self._attachment)

    def settings(self) -> MessengerSettings:
        """Adapter settings that point at this fake, with its ids and secrets."""
        return MessengerSettings(
            enabled=True,
            api_base=self.base_url,
            api_version=self.api_version,
            page_id=self.page_id,
            page_access_token=SecretStr(self.page_access_token),
            app_secret=SecretStr(self.app_secret),
            verify_token=SecretStr(self.verify_token),
        )

    # -- scripting -------------------------------------------------------------------------

    def user_writes(self, psid: str, text: str, *, at: datetime | None = None) -> Json:
        """A person writes ``text``: open their window; return Meta's webhook payload."""
        when = at or self._clock()
        self._last_message[psid] = when
        return self.text_webhook(psid, text, at=when)

    def fail_next(self, psid: str, code: int, subcode: int | None = None) -> None:
        """Answer the next send to ``psid`` with Graph error ``(code, subcode)``."""
        if (code, subcode) not in _ERRORS:
            raise ValueError(f"The fake knows no Messenger error {(code, subcode)}.")
        self._scripted.setdefault(psid, deque()).append((code, subcode))

    def limit_rate(self, code: int | None = 613) -> None:
        """Refuse every send with rate-limit error ``code`` (613 or 4); ``None`` lifts it."""
        if code is not None and (code, None) not in _ERRORS:
            raise ValueError(f"The fake knows no Messenger error {code}.")
        self._rate_limit = code

    def add_attachment(self, data: bytes, content_type: str, name: str = "file.bin") -> str:
        """Store an attachment a person sent; return its signed CDN URL, as in webhooks."""
        key = secrets.token_hex(8)
        signature = secrets.token_hex(16)
        self._attachments[key] = (data, content_type, signature)
        path = _CDN_PATH.format(key=key, name=name)
        return f"{self.base_url}{path}?_nc_cat=1&oh={signature}&oe=6A1B2C3D"

    # -- webhook payloads, as Meta sends them ---------------------------------------------

    def text_webhook(
        self, psid: str, text: str, *, mid: str | None = None, at: datetime | None = None
    ) -> Json:
        """A person's text message."""
        return self._envelope(psid, "message", {"mid": mid or _new_mid(), "text": text}, at)

    def quick_reply_webhook(
        self, psid: str, title: str, payload: str, *, at: datetime | None = None
    ) -> Json:
        """A tap on a quick reply: the title comes as text, the button id as payload."""
        message = {"mid": _new_mid(), "text": title, "quick_reply": {"payload": payload}}
        return self._envelope(psid, "message", message, at)

    def postback_webhook(
        self,
        psid: str,
        title: str,
        payload: str,
        *,
        ref: str | None = None,
        at: datetime | None = None,
    ) -> Json:
        """A tap on a postback button; with ``ref``, the Get Started tap of an m.me link."""
        postback: Json = {"mid": _new_mid(), "title": title, "payload": payload}
        if ref is not None:
            postback["referral"] = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
        return self._envelope(psid, "postback", postback, at)

    def referral_webhook(self, psid: str, ref: str, *, at: datetime | None = None) -> Json:
        """A person already in the conversation opened ``m.me/<page>?ref=<ref>``."""
        referral = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
        return self._envelope(psid, "referral", referral, at)

    def attachment_webhook(
        self,
        psid: str,
        kind: Literal["image", "audio", "video", "file"],
        url: str,
        *,
        at: datetime | None = None,
    ) -> Json:
        """A person sent an attachment; ``url`` as from ``add_attachment``."""
        message = {"mid": _new_mid(), "attachments": [{"type": kind, "payload": {"url": url}}]}
        return self._envelope(psid, "message", message, at)

    def location_webhook(
        self, psid: str, latitude: float, longitude: float, *, at: datetime | None = None
    ) -> Json:
        """A shared location (Meta still documents the attachment, if rarely sent)."""
        attachment = {
            "type": "location",
            "title": "Pinned Location",
            "payload": {"coordinates": {"lat": latitude, "long": longitude}},
        }
        return self._envelope(psid, "message", {"mid": _new_mid(), "attachments": [attachment]}, at)

    def delivery_webhook(
        self, psid: str, mids: Sequence[str], *, at: datetime | None = None
    ) -> Json:
        """Messages of ours reached the person's device."""
        when = at or self._clock()
        delivery = {"mids": list(mids), "watermark": _millis(when)}
        return self._envelope(psid, "delivery", delivery, when)

    def read_webhook(self, psid: str, *, at: datetime | None = None) -> Json:
        """The person read everything we sent before ``at`` (a watermark, not message ids)."""
        when = at or self._clock()
        return self._envelope(psid, "read", {"watermark": _millis(when)}, when)

    def echo_webhook(self, psid: str, text: str, mid: str, *, at: datetime | None = None) -> Json:
        """Meta's copy of a message the Page sent to ``psid``: sender and recipient swap."""
        message = {"mid": mid, "is_echo": True, "app_id": 1517776481860111, "text": text}
        return self._envelope(psid, "message", message, at, from_page=True)

    def optin_webhook(
        self, psid: str, status: str | None = None, *, at: datetime | None = None
    ) -> Json:
        """A marketing-message opt-in; ``status`` as ``notification_messages_status``."""
        when = at or self._clock()
        optin: Json = {
            "type": "notification_messages",
            "payload": "weekly-offers",
            "notification_messages_token": secrets.token_urlsafe(24),
            "notification_messages_frequency": "WEEKLY",
            "notification_messages_timezone": "Europe/Berlin",
            "token_expiry_timestamp": _millis(when + timedelta(days=180)),
            "user_token_status": "NOT_REFRESHED",
            "title": "Angebote der Woche",
        }
        if status is not None:
            optin["notification_messages_status"] = status
        return self._envelope(psid, "optin", optin, when)

    def _envelope(
        self, psid: str, kind: str, content: Json, at: datetime | None, *, from_page: bool = False
    ) -> Json:
        when = _millis(at or self._clock())
        person, page = {"id": psid}, {"id": self.page_id}
        item = {
            "sender": page if from_page else person,
            "recipient": person if from_page else page,
            "timestamp": when,
            kind: content,
        }
        return {
            "object": "page",
            "entry": [{"id": self.page_id, "time": when, "messaging": [item]}],
        }

    # -- the HTTP API ----------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(190)
        page = request.match_info["page"]
        if request.match_info["version"] != self.api_version or page not in (self.page_id, "me"):
            return _error(
                100, f"(#100) Unsupported post request. Object with ID '{page}' does not exist."
            )
        try:
            body = await request.json()
        except ValueError:
            return _error(100, "(#100) The request body is not JSON.")
        problem = _problem(body)
        if problem:
            return _error(100, f"(#100) {problem}")
        if self._rate_limit is not None:
            return _error(self._rate_limit)
        psid = str(body["recipient"]["id"])
        scripted = self._scripted.get(psid)
        if scripted:
            code, subcode = scripted.popleft()
            return _error(code, subcode=subcode)
        now = self._clock()
        last = self._last_message.get(psid)
        if last is None:
            return _error(100, subcode=2018001)
        allowed = TAG_WINDOWS[body["tag"]] if "tag" in body else SERVICE_WINDOW
        if now - last > allowed:
            return _error(10, subcode=2018278)
        mid = _new_mid()
        accepted = AcceptedSend(mid, body, now)
        self.sent.append(accepted)
        if self.before_answer is not None:
            await self.before_answer(accepted)
        return web.json_response({"recipient_id": psid, "message_id": mid})

    async def _attachment(self, request: web.Request) -> web.Response:
        stored = self._attachments.get(request.match_info["key"])
        # Signed CDN URLs refuse a missing or altered signature.
        if stored is None or not secrets.compare_digest(request.query.get("oh", ""), stored[2]):
            return web.Response(status=403, text="URL signature mismatch")
        data, content_type, _ = stored
        return web.Response(body=data, content_type=content_type)

    def _authorised(self, request: web.Request) -> bool:
        # Meta takes the Page token as the access_token parameter or as a bearer token.
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        given = request.query.get("access_token") or bearer
        return secrets.compare_digest(given.encode(), self.page_access_token.encode())


def _problem(body: object) -> str | None:
    """Why Meta would refuse this request body with error 100, or None."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not recipient.get("id"):
        return "The parameter recipient is required"
    messaging_type = body.get("messaging_type")
    if messaging_type not in _MESSAGING_TYPES:
        return "Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"
    if messaging_type == "MESSAGE_TAG" and body.get("tag") not in TAG_WINDOWS:
        return "Param tag must be a valid message tag for messaging_type MESSAGE_TAG"
    if messaging_type != "MESSAGE_TAG" and "tag" in body:
        return "Param tag is only allowed with messaging_type MESSAGE_TAG"
    message = body.get("message")
    if not isinstance(message, dict):
        return "The parameter message is required"
    return _message_problem(message)


def _message_problem(message: Json) -> str | None:
    text, attachment = message.get("text"), message.get("attachment")
    if (text is None) == (attachment is None):
        return "Param message must contain exactly one of text or attachment"
    if text is not None and (not isinstance(text, str) or not text):
        return "Param message[text] must be a non-empty string"
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return f"Length of param message[text] must be less than or equal to {MAX_TEXT}"
    if attachment is not None:
        if not isinstance(attachment, dict) or attachment.get("type") not in _ATTACHMENT_TYPES:
            return "Param message[attachment][type] must be image, audio, video or file"
        payload = attachment.get("payload")
        if not isinstance(payload, dict):
            return "Param message[attachment][payload] is required"
        if not payload.get("url") and not payload.get("attachment_id"):
            return "Param message[attachment][payload] needs a url or attachment_id"
    return _quick_replies_problem(message.get("quick_replies", []))


def _quick_replies_problem(quick_replies: object) -> str | None:
    if not isinstance(quick_replies, list) or len(quick_replies) > MAX_QUICK_REPLIES:
        return f"Param message[quick_replies] must be an array of at most {MAX_QUICK_REPLIES}"
    for reply in quick_replies:
        if not isinstance(reply, dict) or reply.get("content_type") != "text":
            return "Each quick reply needs content_type text"
        if not reply.get("title") or not reply.get("payload"):
            return "A text quick reply needs a title and a payload"
    return None


def _error(code: int, message: str | None = None, *, subcode: int | None = None) -> web.Response:
    status, default_message = _ERRORS[(code, subcode)]
    if subcode is None:
        return graph_error(status, code, message or default_message)
    return graph_error(status, code, message or default_message, error_subcode=subcode)


def _new_mid() -> str:
    return "m_" + secrets.token_urlsafe(64)


def _millis(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(milliseconds=1)
