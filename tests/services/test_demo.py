from __future__ import annotations

import asyncio

from botschaft.channels.registry import Channels
from botschaft.domain.consent import ConsentStatus
from botschaft.services.context import Context
from botschaft.services.demo import ANNA, BEN, CARLA, seed_demo
from botschaft.services.evidence import consent_proof, verify_ledger
from botschaft.services.inbox import list_conversations, list_messages


def _seed(ctx: Context) -> bool:
    return asyncio.run(seed_demo(ctx, Channels.from_settings(ctx.settings, ctx.clock))).created


def test_the_demo_shows_a_reply_a_subscriber_a_stop_and_a_pending_request(ctx: Context) -> None:
    assert _seed(ctx)
    conversations = {c.address: c for c in list_conversations(ctx)}
    assert set(conversations) == {ANNA, BEN, CARLA}

    ben = list_messages(ctx, conversations[BEN].id)
    assert [(m.direction, m.status) for m in ben][-1] == ("out", "sent")
    assert "abgemeldet" in (ben[-1].text or "")

    def marketing(number: str) -> ConsentStatus:
        return consent_proof(ctx, f"sandbox:{number}").states[0].state.status

    assert marketing(ANNA) is ConsentStatus.ACTIVE
    assert marketing(BEN) is ConsentStatus.WITHDRAWN
    assert marketing(CARLA) is ConsentStatus.PENDING
    assert verify_ledger(ctx).intact


def test_running_the_demo_again_keeps_the_data_as_it_is(ctx: Context) -> None:
    _seed(ctx)
    before = verify_ledger(ctx).rows
    assert not _seed(ctx)
    assert verify_ledger(ctx).rows == before
