"""Fixtures: the real app under uvicorn, wired to the three fake providers on loopback.

Every test gets a fresh database (SQLite, and PostgreSQL when configured), fresh fakes and
the test's ``ManualClock``, which the app and the fakes share: a person's message, its
timestamp and both sides' 24-hour windows run on the same time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from botschaft.services.api_tokens import create_token
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.settings import Settings, TelegramSettings
from botschaft.testing.fake_messenger import FakeMessenger
from botschaft.testing.fake_telegram import FakeTelegram
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from botschaft.web.app import create_app
from web_app import free_port, serve_in_thread
from webhooks.harness import (
    Botschaft,
    LoopThread,
    MessengerPerson,
    Provider,
    TelegramPerson,
    WhatsAppPerson,
)

TELEGRAM_SECRET = secrets.token_urlsafe(24)  # A-Z a-z 0-9 _ -, as setWebhook demands


@pytest.fixture(scope="session")
def provider_loop() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture
def fake_whatsapp(provider_loop: LoopThread, clock: ManualClock) -> Iterator[FakeWhatsApp]:
    fake = FakeWhatsApp(clock=clock.now)
    provider_loop.run(fake.start())
    yield fake
    provider_loop.run(fake.stop())


@pytest.fixture
def fake_telegram(provider_loop: LoopThread, clock: ManualClock) -> Iterator[FakeTelegram]:
    fake = FakeTelegram(clock=lambda: clock.now().timestamp())
    provider_loop.run(fake.start())
    yield fake
    provider_loop.run(fake.stop())


@pytest.fixture
def fake_messenger(provider_loop: LoopThread, clock: ManualClock) -> Iterator[FakeMessenger]:
    fake = FakeMessenger(clock=clock.now)
    provider_loop.run(fake.start())
    yield fake
    provider_loop.run(fake.stop())


@pytest.fixture
def app(
    ctx: Context,
    settings: Settings,
    clock: ManualClock,
    fake_whatsapp: FakeWhatsApp,
    fake_telegram: FakeTelegram,
    fake_messenger: FakeMessenger,
) -> Iterator[Botschaft]:
    """Botschaft with all three provider channels switched on, each pointing at its fake."""
    telegram = TelegramSettings(
        enabled=True,
        api_base=fake_telegram.base_url,
        bot_token=SecretStr(fake_telegram.token),
        bot_username="botschaft_test_bot",
        webhook_secret=SecretStr(TELEGRAM_SECRET),
    )
    configured = settings.model_copy(
        update={
            "embedded_worker": False,
            "whatsapp": fake_whatsapp.settings(),
            "telegram": telegram,
            "messenger": fake_messenger.settings(),
        }
    )
    port = free_port()
    server, thread = serve_in_thread(create_app(configured, clock=clock), port)
    base_url = f"http://127.0.0.1:{port}"
    token = create_token(ctx, "webhook tests").token
    api = httpx.Client(base_url=base_url, timeout=10, headers={"Authorization": f"Bearer {token}"})
    yield Botschaft(base_url, api, ctx, clock)
    api.close()
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def whatsapp(app: Botschaft, fake_whatsapp: FakeWhatsApp) -> WhatsAppPerson:
    return WhatsAppPerson(app, fake_whatsapp)


@pytest.fixture
def telegram(app: Botschaft, fake_telegram: FakeTelegram) -> TelegramPerson:
    return TelegramPerson(app, fake_telegram, TELEGRAM_SECRET)


@pytest.fixture
def messenger(app: Botschaft, fake_messenger: FakeMessenger) -> MessengerPerson:
    return MessengerPerson(app, fake_messenger)


@pytest.fixture(params=["whatsapp", "telegram", "messenger"])
def provider(request: pytest.FixtureRequest) -> Provider:
    """Each provider in turn, for the behaviours every webhook channel shares."""
    person: Provider = request.getfixturevalue(request.param)
    return person


@pytest.fixture(params=["whatsapp", "messenger"])
def meta_provider(request: pytest.FixtureRequest) -> WhatsAppPerson | MessengerPerson:
    """The two Meta platforms, which share the GET verification handshake."""
    person: WhatsAppPerson | MessengerPerson = request.getfixturevalue(request.param)
    return person
