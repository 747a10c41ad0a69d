"""One contract for every provider adapter, run against each with its fake provider.

What the rest of Botschaft relies on of a channel, whichever messenger it is: it is a
``Channel``; ``verify`` lets through what the provider sent and nothing forged; ``parse``
turns a person's message into one neutral message with a stable dedupe key and refuses
garbage with ``MalformedWebhook``; ``send`` reaches a person who just wrote and turns a dead
network into a ``TransientFailure``; ``close`` may be called any number of times. The same
tests run for WhatsApp, Telegram and Messenger (Litestar runs its store backends this way).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pytest
from pydantic import SecretStr

from botschaft.channels.base import (
    Capabilities,
    Channel,
    MalformedWebhook,
    WebhookForbidden,
    WebhookRejected,
)
from botschaft.channels.events import InboundKind, InboundMessage
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.messenger import MessengerChannel
from botschaft.channels.outcomes import Sent, TransientFailure
from botschaft.channels.telegram import TelegramChannel
from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.settings import TelegramSettings
from botschaft.testing.fake_messenger import FakeMessenger
from botschaft.testing.fake_telegram import FakeTelegram
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from web_app import free_port

pytestmark = pytest.mark.anyio

Headers = dict[str, str]
TEXT = "Grüße aus Köln, Jürgen Müller"


@runtime_checkable
class RuntimeChannel(Channel, Protocol):
    """``Channel`` made checkable with ``isinstance``; the protocol itself stays static."""


@dataclass
class Provider:
    """One adapter with its fake: how to build it, and what its provider would POST."""

    kind: ChannelKind
    person: str  # the person as the adapter addresses them, and as parse() names them
    channel: Channel
    adapter_at: Callable[[str], Channel]  # the adapter with another API base URL
    writes: Callable[[str], tuple[bytes, Headers]]  # the person writes: body and headers
    forge: Callable[[bytes, Headers], tuple[bytes, Headers]]  # a request not from the provider
    unauthenticated: Callable[[Headers], Headers]  # the headers without signature or secret


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=[ChannelKind.WHATSAPP, ChannelKind.TELEGRAM, ChannelKind.MESSENGER])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Provider]:
    build = {
        ChannelKind.WHATSAPP: _whatsapp,
        ChannelKind.TELEGRAM: _telegram,
        ChannelKind.MESSENGER: _messenger,
    }[request.param]
    async for built in build():
        yield built


async def _whatsapp() -> AsyncIterator[Provider]:
    person = "+4915123456789"
    async with FakeWhatsApp() as fake:

        def adapter_at(api_base: str) -> Channel:
            settings = fake.settings().model_copy(update={"api_base": api_base})
            return WhatsAppChannel(settings)

        def writes(text: str) -> tuple[bytes, Headers]:
            return fake.signed_webhook(fake.receive_from(person, text, name="Jürgen Müller"))

        channel = WhatsAppChannel(fake.settings())
        yield Provider(
            ChannelKind.WHATSAPP, person, channel, adapter_at, writes, _tamper, _without_signature
        )
        await channel.close()


async def _telegram() -> AsyncIterator[Provider]:
    chat_id, secret = 4242, "contract-Webhook_secret-1"
    async with FakeTelegram() as fake:

        def adapter_at(api_base: str) -> Channel:
            return TelegramChannel(
                TelegramSettings(
                    enabled=True,
                    api_base=api_base,
                    bot_token=SecretStr(fake.token),
                    bot_username="botschaft_test_bot",
                    webhook_secret=SecretStr(secret),
                )
            )

        def writes(text: str) -> tuple[bytes, Headers]:
            update = fake.user_writes(chat_id, text)
            body = json.dumps(update, ensure_ascii=False).encode("utf-8")
            return body, {"X-Telegram-Bot-Api-Secret-Token": secret}

        def forge(body: bytes, headers: Headers) -> tuple[bytes, Headers]:
            # Telegram signs no body: a forger's tell is the secret they cannot know.
            return body, {"X-Telegram-Bot-Api-Secret-Token": "guessed-secret"}

        def unauthenticated(headers: Headers) -> Headers:
            return {"Content-Type": "application/json"}

        channel = adapter_at(fake.base_url)
        yield Provider(
            ChannelKind.TELEGRAM, str(chat_id), channel, adapter_at, writes, forge, unauthenticated
        )
        await channel.close()


async def _messenger() -> AsyncIterator[Provider]:
    psid = "6254019874512345"
    async with FakeMessenger() as fake:

        def adapter_at(api_base: str) -> Channel:
            settings = fake.settings().model_copy(update={"api_base": api_base})
            return MessengerChannel(settings)

        def writes(text: str) -> tuple[bytes, Headers]:
            return fake.signed_webhook(fake.user_writes(psid, text))

        channel = MessengerChannel(fake.settings())
        yield Provider(
            ChannelKind.MESSENGER, psid, channel, adapter_at, writes, _tamper, _without_signature
        )
        await channel.close()


def _tamper(body: bytes, headers: Headers) -> tuple[bytes, Headers]:
    """Meta's signature covers the body: change one word and keep the signature."""
    tampered = body.replace(b"K\\u00f6ln", b"Bonn")
    assert tampered != body
    return tampered, headers


def _without_signature(headers: Headers) -> Headers:
    return {k: v for k, v in headers.items() if k.lower() != "x-hub-signature-256"}


# -- the protocol -----------------------------------------------------------------------------


async def test_the_adapter_is_a_channel_of_its_kind(provider: Provider) -> None:
    assert isinstance(provider.channel, RuntimeChannel)
    assert provider.channel.kind is provider.kind
    assert isinstance(provider.channel.capabilities, Capabilities)
    assert provider.channel.capabilities.max_text_length > 0


# -- verify -----------------------------------------------------------------------------------


async def test_verify_accepts_a_request_as_the_provider_sends_it(provider: Provider) -> None:
    body, headers = provider.writes(TEXT)

    provider.channel.verify(headers, body)


async def test_verify_forbids_a_forged_request(provider: Provider) -> None:
    body, headers = provider.forge(*provider.writes(TEXT))

    with pytest.raises(WebhookForbidden):
        provider.channel.verify(headers, body)


async def test_verify_rejects_a_request_without_signature_or_secret(provider: Provider) -> None:
    body, headers = provider.writes(TEXT)

    with pytest.raises(WebhookRejected) as raised:
        provider.channel.verify(provider.unauthenticated(headers), body)
    assert not isinstance(raised.value, WebhookForbidden)


# -- parse ------------------------------------------------------------------------------------


async def test_parse_turns_a_persons_text_into_one_inbound_message(provider: Provider) -> None:
    body, _ = provider.writes(TEXT)

    [event] = provider.channel.parse(body)

    assert isinstance(event, InboundMessage)
    assert (event.channel, event.kind, event.text) == (provider.kind, InboundKind.TEXT, TEXT)
    assert event.sender == provider.person
    assert event.provider_message_id


async def test_parse_gives_the_same_webhook_the_same_dedupe_key(provider: Provider) -> None:
    body, _ = provider.writes(TEXT)
    later, _ = provider.writes(TEXT)

    [first] = provider.channel.parse(body)
    [again] = provider.channel.parse(body)
    [other] = provider.channel.parse(later)

    assert first.dedupe_key
    assert first.dedupe_key == again.dedupe_key
    assert first.dedupe_key != other.dedupe_key


GARBAGE = {
    "empty": b"",
    "not JSON": b"<html>502 Bad Gateway</html>",
    "not UTF-8": b"\xff\xfe\x00garbage",
    "a JSON list": b"[]",
    "JSON of another shape": b'{"hello": "world"}',
    "deeply nested JSON": b"[" * 100_000,
    "an integer too long to read": b"1" * 5_000,
}


@pytest.mark.parametrize("garbage", list(GARBAGE))
async def test_parse_refuses_garbage_with_malformed_webhook(
    request: pytest.FixtureRequest, provider: Provider, garbage: str
) -> None:
    with pytest.raises(MalformedWebhook):
        provider.channel.parse(GARBAGE[garbage])


# -- send and close ---------------------------------------------------------------------------


async def test_send_reaches_a_person_who_just_wrote(provider: Provider) -> None:
    body, _ = provider.writes("Hallo, ist jemand da?")
    [event] = provider.channel.parse(body)
    assert isinstance(event, InboundMessage)

    outcome = await provider.channel.send(OutboundMessage(to=event.sender, text="Ja, gern!"))

    assert isinstance(outcome, Sent)
    assert outcome.provider_message_id


async def test_send_to_a_provider_that_cannot_be_reached_is_a_transient_failure(
    provider: Provider,
) -> None:
    closed = provider.adapter_at(f"http://127.0.0.1:{free_port()}")
    try:
        outcome = await closed.send(OutboundMessage(to=provider.person, text="Hallo"))
    finally:
        await closed.close()

    assert isinstance(outcome, TransientFailure)


async def test_close_may_be_called_again_after_use(provider: Provider) -> None:
    provider.writes("Hallo")
    await provider.channel.send(OutboundMessage(to=provider.person, text="Hallo zurück"))

    await provider.channel.close()
    await provider.channel.close()


async def test_close_may_be_called_on_an_adapter_that_never_sent(provider: Provider) -> None:
    unused = provider.adapter_at("http://127.0.0.1:9")

    await unused.close()
    await unused.close()
