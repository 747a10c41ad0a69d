"""A fake WhatsApp Business Cloud API on loopback, following Meta's documented contract.

It checks the path and the bearer token, validates message bodies, enforces the 24-hour
customer-service window and a throughput limit, answers with Meta's success and error
shapes, serves media, and builds and signs webhook payloads exactly as Meta sends them.
Tests drive it with ``receive_from`` (a person writes, opening the window), ``fail_next``
(script a provider error for one recipient), ``before_answer`` (let a status webhook
overtake the answer to a send) and an injectable clock.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import SecretStr

from botschaft.settings import WhatsAppSettings
from botschaft.testing.fake_meta import FakeMetaApp
from botschaft.testing.fake_whatsapp_contract import (
    ERRORS,
    SERVICE_WINDOW,
    Json,
    error_response,
    new_wamid,
    pricing_block,
    refusal_reason,
    status_error,
    unix_seconds,
)

Clock = Callable[[], datetime]

_DOWNLOAD_PATH = "/whatsapp_business/attachments/"


@dataclass(frozen=True)
class AcceptedMessage:
    """A message the fake accepted: its wamid, the request body as sent, and when."""

    id: str
    body: Json
    at: datetime

    @property
    def to(self) -> str:
        return str(self.body.get("to") or self.body.get("recipient"))


@dataclass(frozen=True)
class _ScriptedFailure:
    code: int
    asynchronous: bool


class FakeWhatsApp(FakeMetaApp):
    """A Cloud API for one business phone number, on 127.0.0.1 with an ephemeral port.

    Use ``async with FakeWhatsApp() as fake`` (or ``start``/``stop``) and point the adapter
    at ``fake.settings()``. ``clock`` drives the 24-hour window and the throughput limit;
    ``throughput_per_second`` defaults to Meta's 80 messages per second for one number
    (``None`` switches the limit off, e.g. for a frozen clock and a large campaign).
    """

    def __init__(
        self,
        *,
        phone_number_id: str = "106540352242922",
        waba_id: str = "102290129340398",
        display_phone_number: str = "15550783881",
        api_version: str = "v23.0",
        access_token: str | None = None,
        app_secret: str | None = None,
        verify_token: str | None = None,
        clock: Clock | None = None,
        throughput_per_second: int | None = 80,
    ) -> None:
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.display_phone_number = display_phone_number
        self.api_version = api_version
        # Fresh secrets per fake unless given, so no test passes on a well-known value.
        self.access_token = access_token or secrets.token_urlsafe(24)
        self.app_secret = app_secret or secrets.token_hex(16)
        self.verify_token = verify_token or secrets.token_urlsafe(12)
        self.throughput_per_second = throughput_per_second
        self.sent: list[AcceptedMessage] = []
        # Status webhooks Meta would send later, e.g. the failed status of an async error.
        self.pending_webhooks: list[Json] = []
        # Awaited after a message is accepted and before the send is answered: under load
        # Meta's "delivered" webhook can reach the business before that answer does.
        self.before_answer: Callable[[AcceptedMessage], Awaitable[None]] | None = None
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._last_inbound: dict[str, datetime] = {}
        self._scripted: dict[str, deque[_ScriptedFailure]] = {}
        self._recent_sends: deque[datetime] = deque()
        self._media: dict[str, tuple[bytes, str]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(_DOWNLOAD_PATH, self._download)
        router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        router.add_get("/{version}/{media_id}", self._media_info)

    def settings(self) -> WhatsAppSettings:
        """Adapter settings that point at this fake, with its ids and secrets."""
        return WhatsAppSettings(
            enabled=True,
            api_base=self.base_url,
            api_version=self.api_version,
            phone_number_id=self.phone_number_id,
            access_token=SecretStr(self.access_token),
            app_secret=SecretStr(self.app_secret),
            verify_token=SecretStr(self.verify_token),
        )

    # -- scripting -------------------------------------------------------------------------

    def receive_from(
        self, sender: str, text: str, *, name: str = "Erika Mustermann", at: datetime | None = None
    ) -> Json:
        """A person writes ``text``: open their 24-hour window; return Meta's webhook payload."""
        return self.receive(sender, {"type": "text", "text": {"body": text}}, name=name, at=at)

    def receive(
        self,
        sender: str,
        message: Mapping[str, Any],
        *,
        name: str = "Erika Mustermann",
        at: datetime | None = None,
    ) -> Json:
        """Like ``receive_from`` for any message object (``{"type": "image", "image": …}``)."""
        when = at or self._clock()
        self._last_inbound[_recipient_key(sender)] = when
        return self.message_webhook(sender, message, name=name, at=when)

    def fail_next(self, to: str, code: int, *, asynchronous: bool = False) -> None:
        """Answer the next send to ``to`` with error ``code``.

        With ``asynchronous`` the send is accepted and a ``failed`` status carrying the
        error is queued in ``pending_webhooks``, as Meta reports 131026, 131049 and 131050.
        """
        if code not in ERRORS:
            raise ValueError(f"The fake knows no WhatsApp error {code}.")
        failure = _ScriptedFailure(code, asynchronous)
        self._scripted.setdefault(_recipient_key(to), deque()).append(failure)

    def add_media(self, data: bytes, mime_type: str) -> str:
        """Store an attachment as if a person had sent it; return its media id."""
        media_id = str(secrets.randbelow(10**15) + 10**15)
        self._media[media_id] = (data, mime_type)
        return media_id

    # -- webhook payloads, as Meta sends them ---------------------------------------------

    def message_webhook(
        self,
        sender: str,
        message: Mapping[str, Any],
        *,
        name: str = "Erika Mustermann",
        at: datetime | None = None,
    ) -> Json:
        """An inbound-message payload; ``id``, ``from`` and ``timestamp`` are filled in.

        A sender that is not a phone number is a business-scoped user id: Meta then sends
        ``from`` empty and the id in ``from_user_id`` and ``contacts[].user_id``.
        """
        key = _recipient_key(sender)
        item = copy.deepcopy(dict(message))
        item.setdefault("id", new_wamid(key))
        item.setdefault("timestamp", unix_seconds(at or self._clock()))
        contact: Json = {"profile": {"name": name}}
        if key.isdigit():
            item.setdefault("from", key)
            contact["wa_id"] = key
        else:
            item.setdefault("from", "")
            item.setdefault("from_user_id", key)
            contact.update({"wa_id": "", "user_id": key})
        return self._envelope("messages", {"contacts": [contact], "messages": [item]})

    def status_webhook(
        self,
        message_id: str,
        status: Literal["sent", "delivered", "read", "failed"],
        recipient: str,
        *,
        at: datetime | None = None,
        errors: Sequence[int] = (),
        callback_data: str | None = None,
        pricing: Literal["PMP", "CBP"] = "PMP",
    ) -> Json:
        """A status payload; failed statuses carry ``errors``, the others a pricing block.

        ``pricing`` picks the shape: ``PMP`` (per-message pricing, current) or the legacy
        ``CBP`` with a ``conversation`` object.
        """
        key = _recipient_key(recipient)
        item: Json = {
            "id": message_id,
            "status": status,
            "timestamp": unix_seconds(at or self._clock()),
        }
        item["recipient_id" if key.isdigit() else "recipient_user_id"] = key
        if callback_data is not None:
            item["biz_opaque_callback_data"] = callback_data
        if errors:
            item["errors"] = [status_error(code) for code in errors]
        elif status != "failed":
            item.update(pricing_block(pricing, at or self._clock()))
        return self._envelope("messages", {"statuses": [item]})

    def preference_webhook(
        self,
        sender: str,
        value: Literal["stop", "resume"],
        *,
        at: datetime | None = None,
        detail: str | None = None,
    ) -> Json:
        """A ``user_preferences`` payload: the person stopped or resumed marketing messages."""
        key = _recipient_key(sender)
        wording = "stop" if value == "stop" else "resume"
        item: Json = {
            "wa_id": key,
            "detail": detail or f"User requested to {wording} marketing messages",
            "category": "marketing_messages",
            "value": value,
            "timestamp": int((at or self._clock()).timestamp()),  # an int here, unlike elsewhere
        }
        contact = {"profile": {"name": "Erika Mustermann"}, "wa_id": key}
        return self._envelope(
            "user_preferences", {"contacts": [contact], "user_preferences": [item]}
        )

    def _envelope(self, field: str, value: Json) -> Json:
        metadata = {
            "display_phone_number": self.display_phone_number,
            "phone_number_id": self.phone_number_id,
        }
        change = {
            "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
            "field": field,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [change]}],
        }

    # -- the HTTP API ----------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error_response(190)
        path_id = request.match_info["phone_number_id"]
        if request.match_info["version"] != self.api_version or path_id != self.phone_number_id:
            return error_response(
                100, f"Unsupported post request. Object with ID '{path_id}' does not exist."
            )
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error_response(100, "The request body is not JSON.")
        refusal = refusal_reason(body)
        if refusal:
            return error_response(100, refusal)
        key = _recipient_key(str(body.get("to") or body.get("recipient")))
        now = self._clock()
        if self._over_throughput(now):
            return error_response(130429)
        scripted = self._scripted.get(key)
        failure = scripted.popleft() if scripted else None
        if failure is not None and not failure.asynchronous:
            return error_response(failure.code)
        if body["type"] != "template" and not self._window_open(key, now):
            return error_response(131047)
        wamid = new_wamid(key)
        if self.throughput_per_second is not None:  # unlimited: a million sends, no list
            self._recent_sends.append(now)
        accepted = AcceptedMessage(wamid, body, now)
        self.sent.append(accepted)
        if failure is not None:
            self.pending_webhooks.append(
                self.status_webhook(wamid, "failed", key, at=now, errors=[failure.code])
            )
        if self.before_answer is not None:
            await self.before_answer(accepted)
        contact: Json = {"input": body.get("to") or body.get("recipient")}
        contact["wa_id" if key.isdigit() else "user_id"] = key
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            }
        )

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return error_response(190)
        media_id = request.match_info["media_id"]
        if request.match_info["version"] != self.api_version or media_id not in self._media:
            return error_response(
                100, f"Unsupported get request. Object with ID '{media_id}' does not exist."
            )
        data, mime_type = self._media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}{_DOWNLOAD_PATH}?mid={media_id}",
                "mime_type": mime_type,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        # Meta's download URLs also want the bearer token; without it they answer 401.
        if not self._authorised(request):
            return web.Response(status=401)
        stored = self._media.get(request.query.get("mid", ""))
        if stored is None:
            return web.Response(status=404)
        data, mime_type = stored
        return web.Response(body=data, content_type=mime_type)

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return secrets.compare_digest(given.encode(), f"Bearer {self.access_token}".encode())

    def _window_open(self, key: str, now: datetime) -> bool:
        last = self._last_inbound.get(key)
        return last is not None and now - last <= SERVICE_WINDOW

    def _over_throughput(self, now: datetime) -> bool:
        if self.throughput_per_second is None:
            return False
        while self._recent_sends and now - self._recent_sends[0] >= timedelta(seconds=1):
            self._recent_sends.popleft()
        return len(self._recent_sends) >= self.throughput_per_second


def _recipient_key(address: str) -> str:
    """Phone numbers as Meta writes them (digits, no '+'); other ids as they are."""
    digits = address.removeprefix("+")
    return digits if digits.isdigit() else address
