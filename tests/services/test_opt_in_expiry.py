from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from botschaft.domain.signup import RequestKind
from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.services.opt_in_requests import add_request, expire_overdue_agreements
from botschaft.storage.signup import OptInRequest


def _agreement(ctx: Context, text: PublishedText) -> None:
    with ctx.db.write() as session:
        add_request(session, ctx, kind=RequestKind.PAGE_AGREEMENT, purpose="marketing",
                    consent_text_id=text.id, language="de", ip="203.0.113.9")


def test_the_scheduler_expires_agreements_nobody_redeemed_in_time(
    ctx: Context, text_version: PublishedText, clock: ManualClock
) -> None:
    _agreement(ctx, text_version)
    clock.advance(timedelta(hours=47))
    _agreement(ctx, text_version)
    assert expire_overdue_agreements(ctx) == 0
    clock.advance(timedelta(hours=2))
    assert expire_overdue_agreements(ctx) == 1
    with ctx.db.read() as session:
        states = session.scalars(select(OptInRequest.state).order_by(OptInRequest.id)).all()
    assert list(states) == ["expired", "open"]
