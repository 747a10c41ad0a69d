"""Botschaft and the fake providers, seen from a webhook test.

``Botschaft`` is the running app: its bearer API and a look into its database. A
``Provider`` is one messenger's side of a conversation with one person: what the person
writes, how the provider signs and POSTs it to ``/webhooks/<channel>``, and what Botschaft
sent back through the fake provider. The fixtures that build them are in ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy import select

from botschaft.channels.meta import sign
from botschaft.domain.channels import ChannelKind
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.storage.models import ChannelIdentity, InboundEvent, Message
from botschaft.testing.fake_messenger import FakeMessenger
from botschaft.testing.fake_telegram import FakeTelegram
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from web_app import wait_for

Json = dict[str, Any]
T = TypeVar("T")

# Rows the inbound lane has not finished with yet ("handling": claimed by a lane).
UNSETTLED = ("pending", "handling")

TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"
META_HEADER = "X-Hub-Signature-256"


class LoopThread:
    """An event loop in a thread of its own, where the fake providers serve.

    The app runs under uvicorn in another thread and calls the fakes while a test waits
    with ``wait_for``; a fake on the test's own thread would be stuck behind that wait.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass(frozen=True)
class StoredEvent:
    """A row of ``inbound_events`` as a test reads it."""

    channel: str
    kind: str
    state: str
    error: str | None


@dataclass
class Botschaft:
    """The running app: its URL, an API client with a bearer token, and its database."""

    base_url: str
    api: httpx.Client
    ctx: Context
    clock: ManualClock

    def conversations(self, channel: ChannelKind) -> list[Json]:
        answer = self.api.get("/api/v1/conversations", params={"channel": channel.value})
        answer.raise_for_status()
        found: list[Json] = answer.json()
        return found

    def conversation_with(self, provider: Provider) -> Json:
        """The person's conversation, once the inbound lane has opened it."""
        return wait_for(  # type: ignore[no-any-return]
            lambda: next(
                (
                    c
                    for c in self.conversations(provider.channel)
                    if c["address"] == provider.address
                ),
                None,
            )
        )

    def messages(self, conversation: Json) -> list[Json]:
        answer = self.api.get(f"/api/v1/conversations/{conversation['id']}/messages")
        answer.raise_for_status()
        found: list[Json] = answer.json()
        return found

    def message(self, conversation: Json, message_id: int) -> Json:
        return next(m for m in self.messages(conversation) if m["id"] == message_id)

    def wait_for_message_where(self, conversation: Json, predicate: Callable[[Json], bool]) -> Json:
        """The first message of the conversation that ``predicate`` accepts, once there."""
        return wait_for(  # type: ignore[no-any-return]
            lambda: next((m for m in self.messages(conversation) if predicate(m)), None)
        )

    def wait_for_message(self, conversation: Json, message_id: int, status: str) -> Json:
        return self.wait_for_message_where(
            conversation, lambda m: m["id"] == message_id and m["status"] == status
        )

    def reply(self, conversation: Json, text: str) -> Json:
        """An agent answers through the API; the answer is the stored message."""
        answer = self.api.post(
            f"/api/v1/conversations/{conversation['id']}/messages", json={"text": text}
        )
        assert answer.status_code == 201, answer.text
        reply: Json = answer.json()
        return reply

    def provider_message_id(self, message_id: int) -> str | None:
        with self.ctx.db.read() as session:
            return session.get_one(Message, message_id).provider_message_id

    def identity(self, channel: ChannelKind, address: str) -> ChannelIdentity:
        with self.ctx.db.read() as session:
            return session.scalars(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == channel.value, ChannelIdentity.address == address
                )
            ).one()

    def stored_events(self) -> list[StoredEvent]:
        with self.ctx.db.read() as session:
            rows = session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()
            return [StoredEvent(r.channel, r.kind, r.state, r.error) for r in rows]

    def settle(self) -> list[StoredEvent]:
        """Wait until the inbound lane has taken every stored event; return them all."""
        wait_for(lambda: all(e.state not in UNSETTLED for e in self.stored_events()))
        return self.stored_events()


@dataclass(frozen=True)
class SentText:
    """A message the fake provider accepted from Botschaft."""

    recipient: str  # as the provider names the person
    text: str | None
    provider_message_id: str


class Provider:
    """One messenger's side of a conversation with one person."""

    channel: ChannelKind
    address: str  # the person as Botschaft stores them
    recipient: str  # the person as the provider names them in a send
    name: str | None  # the name Botschaft learns from the provider's webhooks, if any

    def __init__(self, app: Botschaft) -> None:
        self.app = app

    @property
    def url(self) -> str:
        return f"{self.app.base_url}/webhooks/{self.channel.value}"

    def writes(self, text: str) -> Json:
        """The person writes ``text``: the provider's webhook payload (its window opens)."""
        raise NotImplementedError

    def encode(self, payload: Json) -> bytes:
        """The body bytes exactly as the provider POSTs them."""
        raise NotImplementedError

    def credentials(self, body: bytes) -> dict[str, str]:
        """The header that authenticates ``body``: a signature or the shared secret."""
        raise NotImplementedError

    def forged_credentials(self, body: bytes) -> dict[str, str]:
        """The same header made with a secret that is not ours."""
        raise NotImplementedError

    def sent(self) -> list[SentText]:
        raise NotImplementedError

    def deliver(self, payload: Json) -> httpx.Response:
        """POST ``payload`` to Botschaft as the provider would, signed."""
        body = self.encode(payload)
        return self.post(body, self.credentials(body))

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        with httpx.Client(timeout=10) as client:
            return client.post(
                self.url, content=body, headers={"Content-Type": "application/json", **headers}
            )


class WhatsAppPerson(Provider):
    channel = ChannelKind.WHATSAPP
    address = "+4915123456789"
    recipient = "4915123456789"
    name = "Jürgen Müller"

    def __init__(self, app: Botschaft, fake: FakeWhatsApp) -> None:
        super().__init__(app)
        self.fake = fake

    def writes(self, text: str) -> Json:
        return self.fake.receive_from(self.address, text, name=self.name or "")

    def encode(self, payload: Json) -> bytes:
        # The fake escapes non-ASCII as Meta does; the signature covers exactly these bytes.
        return self.fake.signed_webhook(payload)[0]

    def credentials(self, body: bytes) -> dict[str, str]:
        return {META_HEADER: sign(self.fake.app_secret, body)}

    def forged_credentials(self, body: bytes) -> dict[str, str]:
        return {META_HEADER: sign("not-the-app-secret", body)}

    def sent(self) -> list[SentText]:
        return [
            SentText(m.to, (m.body.get("text") or {}).get("body"), m.id) for m in self.fake.sent
        ]


class TelegramPerson(Provider):
    channel = ChannelKind.TELEGRAM
    chat_id = 4242
    address = str(chat_id)
    recipient = str(chat_id)
    name = "Jürgen"

    def __init__(self, app: Botschaft, fake: FakeTelegram, secret: str) -> None:
        super().__init__(app)
        self.fake = fake
        self.secret = secret
        # Telegram names people by the first name they gave; the chat is known from now on.
        fake.register(self.chat_id, first_name=self.name or "")

    def writes(self, text: str) -> Json:
        return self.fake.user_writes(self.chat_id, text)

    def encode(self, payload: Json) -> bytes:
        # Telegram sends UTF-8 as it is, unlike Meta.
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def credentials(self, body: bytes) -> dict[str, str]:
        return {TELEGRAM_HEADER: self.secret}

    def forged_credentials(self, body: bytes) -> dict[str, str]:
        return {TELEGRAM_HEADER: "not-the-webhook-secret"}

    def sent(self) -> list[SentText]:
        return [
            SentText(str(m.chat_id), m.text, f"{m.chat_id}:{m.message_id}") for m in self.fake.sent
        ]


class MessengerPerson(Provider):
    channel = ChannelKind.MESSENGER
    address = "6254019874512345"  # a page-scoped id
    recipient = address
    name = None  # Messenger webhooks carry no names

    def __init__(self, app: Botschaft, fake: FakeMessenger) -> None:
        super().__init__(app)
        self.fake = fake

    def writes(self, text: str) -> Json:
        return self.fake.user_writes(self.address, text)

    def encode(self, payload: Json) -> bytes:
        return self.fake.signed_webhook(payload)[0]

    def credentials(self, body: bytes) -> dict[str, str]:
        return {META_HEADER: sign(self.fake.app_secret, body)}

    def forged_credentials(self, body: bytes) -> dict[str, str]:
        return {META_HEADER: sign("not-the-app-secret", body)}

    def sent(self) -> list[SentText]:
        return [SentText(s.recipient, s.message.get("text"), s.message_id) for s in self.fake.sent]
