from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from botschaft.domain.consent import ConsentEventKind
from botschaft.services.campaign_results import campaign_summary
from botschaft.services.campaigns import start_campaign
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.services.evidence import verify_ledger
from botschaft.storage.broadcast import Delivery, bump_counters
from broadcasts import audience, campaign, record, subscriber


def _bench_seed() -> Any:
    """bench/seed_subscribers.seed, loaded by path (bench/ is no package, and putting it on
    sys.path would shadow test packages such as tests/webhooks with bench/webhooks.py)."""
    path = Path(__file__).resolve().parents[2] / "bench" / "seed_subscribers.py"
    spec = importlib.util.spec_from_file_location("bench_seed_subscribers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module.seed


def test_the_summary_counts_opt_outs_within_48_hours_of_the_message(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    people = [subscriber(ctx, text_version, f"+49151000006{n:02d}", f"Kundin {n}")
              for n in range(3)]
    campaign_id = campaign(ctx, audience(ctx))
    start_campaign(ctx, campaign_id, "de")
    with ctx.db.write() as session:
        session.execute(update(Delivery).values(state="delivered", sent_at=clock.now()))
        bump_counters(session, campaign_id, sent=3, delivered=3)
    clock.advance(timedelta(hours=10))
    record(ctx, people[0], ConsentEventKind.WITHDRAWN, None)
    clock.advance(timedelta(hours=40))  # 50 h after the message: not this campaign's doing
    record(ctx, people[1], ConsentEventKind.WITHDRAWN, None)
    summary = campaign_summary(ctx, campaign_id)
    assert (summary.targeted, summary.sent, summary.delivered, summary.pending) == (3, 3, 3, 0)
    assert summary.opted_out_48h == 1
    assert summary.skipped == {}


def test_the_benchmark_seed_writes_a_ledger_that_verifies_and_plans_as_described(
    ctx: Context, clock: ManualClock
) -> None:
    seeded = _bench_seed()(ctx, 300, now=clock.now())
    assert verify_ledger(ctx).broken is None
    campaign_id = campaign(ctx, audience(ctx, name="Alle Kunden"))
    result = start_campaign(ctx, campaign_id, "de")
    assert result.planned == 300
    assert result.skipped == {"no_consent": seeded.without_consent,
                              "withdrawn": seeded.withdrawn,
                              "frequency_cap": seeded.over_cap}
    with ctx.db.read() as session:
        queued = session.scalars(select(Delivery.id).where(
            Delivery.campaign_id == campaign_id, Delivery.state == "queued")).all()
    assert len(queued) == seeded.consenting - seeded.over_cap
