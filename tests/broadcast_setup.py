"""Subscribers, running campaigns and a dispatcher against a fake provider, for tests."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from botschaft.channels.base import Channel
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contacts import create_contact
from botschaft.services.context import Context
from botschaft.storage.broadcast import Audience, Campaign, Delivery
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from botschaft.worker.dispatcher import Dispatcher

from conftest import START

TEMPLATE = {"kind": "template", "template": {
    "name": "wochenangebot", "language": "de", "params": ["{{ first_name }}"],
    "text": "Hallo {{1}}, unser Angebot der Woche"}}


def subscribers(ctx: Context, text: PublishedText, count: int, *, first: int = 0,
                prefix: str = "+49151", digits: int = 8,
                channel: ChannelKind = ChannelKind.WHATSAPP, consent: bool = True) -> list[int]:
    """``count`` contacts with a granted marketing consent on ``channel``."""
    ids = []
    for n in range(first, first + count):
        address = (f"{prefix}{n:0{digits}d}" if channel is ChannelKind.WHATSAPP
                   else str(7_000_000 + n))
        contact = create_contact(ctx, identities=[(channel, address)], display_name=f"Kunde {n}")
        if consent:
            record_consent(ctx, ConsentRecord(
                contact_id=contact.id, channel=channel, purpose=MARKETING,
                kind=ConsentEventKind.GRANTED, source=ConsentSource.WEB_FORM,
                consent_text_id=text.id,
            ))
        ids.append(contact.id)
    return ids


def number(n: int) -> str:
    """The WhatsApp number of ``subscribers``' n-th person, as the provider writes it."""
    return f"49151{n:08d}"


def running_campaign(ctx: Context, contact_ids: Sequence[int], *,
                     channel: ChannelKind = ChannelKind.WHATSAPP,
                     content: dict[str, Any] | None = None) -> int:
    """A running campaign with one queued delivery per contact."""
    with ctx.db.write() as session:
        audience = Audience(name=f"Alle #{secrets.token_hex(4)}", rule={}, created_at=START,
                            updated_at=START)
        session.add(audience)
        session.flush()
        campaign = Campaign(
            name="Wochenangebot", status="running", channel=channel.value, purpose=MARKETING,
            audience_id=audience.id, content=content or TEMPLATE, track_links=False,
            time_zone="Europe/Berlin", created_at=START, updated_at=START, started_at=START,
            planned_count=len(contact_ids),
        )
        session.add(campaign)
        session.flush()
        session.add_all(
            Delivery(campaign_id=campaign.id, contact_id=contact_id, channel=channel.value,
                     state="queued", attempts=0, created_at=START)
            for contact_id in contact_ids
        )
        return campaign.id


def states(ctx: Context, campaign_id: int) -> dict[int, tuple[str, str | None]]:
    """(state, skip reason or error code) of each delivery, by contact id."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(Delivery.contact_id, Delivery.state, Delivery.skip_reason,
                   Delivery.error_code).where(Delivery.campaign_id == campaign_id)
        ).all()
    return {contact: (state, reason or code) for contact, state, reason, code in rows}


def campaign(ctx: Context, campaign_id: int) -> Campaign:
    with ctx.db.read() as session:
        return session.get_one(Campaign, campaign_id)


async def dispatch_until_idle(ctx: Context, adapters: dict[ChannelKind, Channel],
                              **options: Any) -> None:
    """Run a dispatcher until nothing is due at the clock's now; rates follow that clock."""
    clock = ctx.clock
    channels = Channels(adapters)
    try:
        await Dispatcher(ctx, channels, monotonic=lambda: clock.now().timestamp(),
                         **options).run_until_idle()
    finally:
        await channels.close()


class FakeInThread:
    """A fake provider served from a thread of its own, for tests whose senders are other
    processes (``botschaft worker``, ``botschaft campaign send``)."""

    def __init__(self, fake: FakeWhatsApp) -> None:
        self.fake = fake
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeWhatsApp:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self._loop).result(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def whatsapp_environment(fake: FakeWhatsApp) -> dict[str, str]:
    """BOTSCHAFT_* variables that point a process at ``fake``; no quiet hours, so a test's
    outcome does not depend on the time of day it runs at."""
    settings = fake.settings()
    return {
        "BOTSCHAFT_WHATSAPP__ENABLED": "true",
        "BOTSCHAFT_WHATSAPP__API_BASE": settings.api_base,
        "BOTSCHAFT_WHATSAPP__API_VERSION": settings.api_version,
        "BOTSCHAFT_WHATSAPP__PHONE_NUMBER_ID": settings.phone_number_id,
        "BOTSCHAFT_WHATSAPP__ACCESS_TOKEN": fake.access_token,
        "BOTSCHAFT_WHATSAPP__APP_SECRET": fake.app_secret,
        "BOTSCHAFT_WHATSAPP__VERIFY_TOKEN": fake.verify_token,
        "BOTSCHAFT_POLICY__QUIET_HOURS_START": "00:00",
        "BOTSCHAFT_POLICY__QUIET_HOURS_END": "00:00",
    }
