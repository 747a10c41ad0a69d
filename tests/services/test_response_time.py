"""The badge from stored requests and replies, and its cache."""

from __future__ import annotations

from datetime import timedelta

from botschaft.domain.channels import ChannelKind
from botschaft.domain.response_time import ResponseBadge
from botschaft.services.clock import ManualClock
from botschaft.services.contacts import ContactView
from botschaft.services.context import Context
from botschaft.services.inbox import conversation_for
from botschaft.services.response_time import CACHE_FOR, ResponseTimeCache, response_time
from botschaft.storage.business import RequestOpening
from botschaft.storage.models import Message

MINUTE = timedelta(minutes=1)


def _request(ctx: Context, contact: ContactView, answered_after: timedelta | None,
             author: str = "agent") -> None:
    """A request at the clock's time, answered after ``answered_after`` by ``author``."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        conversation = conversation_for(session, ctx, contact.id, ChannelKind.WHATSAPP)
        inbound = Message(conversation_id=conversation.id, channel="whatsapp", direction="in",
                          author="contact", content_type="text", text="?", status="received",
                          created_at=now)
        session.add(inbound)
        session.flush()
        session.add(RequestOpening(message_id=inbound.id, conversation_id=conversation.id,
                                   opened_at=now))
        if answered_after is not None:
            session.add(Message(conversation_id=conversation.id, channel="whatsapp",
                                direction="out", author=author, content_type="text",
                                text="!", status="sent", created_at=now + answered_after))


def test_only_replies_by_people_of_the_team_count(ctx: Context, contact: ContactView,
                                                  clock: ManualClock) -> None:
    for _ in range(5):
        _request(ctx, contact, MINUTE, author="system")  # an auto-reply is no answer
        clock.advance(timedelta(hours=2))
    assert response_time(ctx).samples == 0  # unanswered, but still young: not counted
    clock.advance(timedelta(days=2))
    measured = response_time(ctx)
    assert (measured.badge, measured.samples) == (None, 5)  # unanswered for over a day


def test_the_badge_counts_the_first_agent_reply_after_each_opening(
    ctx: Context, contact: ContactView, clock: ManualClock,
) -> None:
    for minutes in (1, 1, 1, 2, 30):
        _request(ctx, contact, minutes * MINUTE)
        clock.advance(timedelta(hours=2))
    measured = response_time(ctx)
    assert (measured.badge, measured.p75, measured.samples) == (
        ResponseBadge.INSTANTLY, 2 * MINUTE, 5)


def test_the_cache_measures_again_only_after_its_time(ctx: Context, contact: ContactView,
                                                      clock: ManualClock) -> None:
    cache = ResponseTimeCache()
    assert cache.get(ctx).samples == 0
    for _ in range(5):
        _request(ctx, contact, MINUTE)
    assert cache.get(ctx).samples == 0  # still the first measurement
    clock.advance(CACHE_FOR)
    assert cache.get(ctx).samples == 5
