"""The dispatcher sends a running campaign through the gate to the fake providers."""

from __future__ import annotations

import pytest

from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from broadcast_setup import campaign, dispatch_until_idle, running_campaign, states, subscribers

WA = ChannelKind.WHATSAPP


@pytest.mark.anyio
async def test_every_consenting_subscriber_gets_the_campaign_once(
    ctx: Context, text_version: PublishedText, fake: FakeWhatsApp
) -> None:
    people = subscribers(ctx, text_version, 25)
    campaign_id = running_campaign(ctx, people)
    await dispatch_until_idle(ctx, {WA: WhatsAppChannel(fake.settings())})
    assert sorted(m.to for m in fake.sent) == sorted(f"49151{n:08d}" for n in range(25))
    assert set(states(ctx, campaign_id).values()) == {("sent", None)}
    done = campaign(ctx, campaign_id)
    assert (done.status, done.sent, done.failed) == ("done", 25, 0)
