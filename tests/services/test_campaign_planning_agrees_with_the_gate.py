"""Planning's SQL and the gate agree: for people with any history of consent facts, the
reason planning writes is the reason ``domain/gate.decide`` gives for the same moment."""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.domain.errors import ConsentConflict
from botschaft.domain.gate import MessageFormat, MessageKind, Outbound, Skip, decide
from botschaft.services.campaign_planning import plan_campaign
from botschaft.services.clock import ManualClock
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.services.recipients import recipient_for
from botschaft.storage.broadcast import Delivery
from botschaft.storage.models import ChannelIdentity, Contact
from broadcasts import audience, campaign, person

KINDS = [ConsentEventKind.REQUESTED, ConsentEventKind.CONFIRMED, ConsentEventKind.GRANTED,
         ConsentEventKind.WITHDRAWN, ConsentEventKind.EXPIRED, ConsentEventKind.PAUSED,
         ConsentEventKind.LIMITED, ConsentEventKind.IMPORTED]
NEEDS_TEXT = {ConsentEventKind.REQUESTED, ConsentEventKind.GRANTED, ConsentEventKind.IMPORTED}


def _history(ctx: Context, clock: ManualClock, text: PublishedText, contact_id: int,
             rng: random.Random) -> None:
    for _ in range(rng.randint(0, 6)):
        kind = rng.choice(KINDS)
        clock.advance(timedelta(hours=rng.choice([1, 5, 30, 80])))
        try:
            record_consent(ctx, ConsentRecord(
                contact_id, ChannelKind.WHATSAPP, MARKETING, kind, ConsentSource.KEYWORD,
                consent_text_id=text.id if kind in NEEDS_TEXT else None,
                until=clock.now() + timedelta(days=rng.choice([-1, 3]))
                if kind is ConsentEventKind.PAUSED else None,
                per_period=2 if kind is ConsentEventKind.LIMITED else None,
            ))
        except ConsentConflict:
            continue  # the ledger refuses it, as it would in use


@pytest.mark.parametrize("seed", [20260302, 7, 1234, 99])
def test_planning_gives_the_gates_reason_for_every_history(
    ctx: Context, clock: ManualClock, text_version: PublishedText, seed: int
) -> None:
    rng = random.Random(seed)
    people = [person(ctx, f"+4915100007{n:03d}", f"Kunde {n}").id for n in range(40)]
    for contact_id in people:
        _history(ctx, clock, text_version, contact_id, rng)
        with ctx.db.write() as session:
            identity = session.scalars(select(ChannelIdentity).where(
                ChannelIdentity.contact_id == contact_id)).one()
            if rng.random() < 0.3:
                identity.last_inbound_at = clock.now() - timedelta(hours=rng.choice([2, 50]))
            if rng.random() < 0.05:
                identity.unreachable_at = clock.now()
            if rng.random() < 0.05:
                session.execute(update(Contact).where(Contact.id == contact_id)
                                .values(erased_at=clock.now()))
    # Mid-morning in Berlin, so that quiet hours (the dispatcher's to judge) play no part.
    clock.advance(timedelta(days=1))
    zone = ZoneInfo(ctx.settings.default_time_zone)
    while not 9 <= clock.now().astimezone(zone).hour < 18:
        clock.advance(timedelta(hours=1))
    campaign_id = campaign(ctx, audience(ctx))
    plan_campaign(ctx, campaign_id)
    with ctx.db.read() as session:
        planned = {d.contact_id: d.skip_reason for d in session.scalars(select(Delivery))}
        expected = {}
        for contact_id in people:
            contact = session.get_one(Contact, contact_id)
            identity = contact.identities[0]
            decision = decide(
                recipient_for(session, ctx, contact, identity),
                Outbound(MessageKind.MARKETING, MARKETING, MessageFormat.TEMPLATE),
                ctx.settings.policy.policy(), clock.now(),
            )
            expected[contact_id] = decision.reason.value if isinstance(decision, Skip) else None
    assert planned == expected
    assert len(set(expected.values())) >= 4  # the histories reach several outcomes
