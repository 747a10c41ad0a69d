"""Auto-replies in the inbound lane: several messages in one batch, a STOP, a gate refusal."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from botschaft.channels.events import InboundKind, InboundMessage
from botschaft.channels.registry import Channels
from botschaft.domain.auto_reply import AutoReplyKind
from botschaft.domain.channels import ChannelKind
from botschaft.services.auto_reply_texts import set_enabled
from botschaft.services.business_hours import parse_week, save_week
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.services.inbound import handle_pending
from botschaft.services.intake import store_events
from botschaft.storage.business import AutoReplySent, RequestOpening
from botschaft.storage.models import Message

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = datetime(2026, 3, 2, 23, 0, tzinfo=BERLIN)
NUMBER = "+4915123456789"


def _switch_on(ctx: Context, *kinds: AutoReplyKind) -> None:
    with ctx.db.write() as session:
        save_week(session, ctx, parse_week({day: "09:00-18:00" for day in range(5)}))
        for kind in kinds:
            set_enabled(session, ctx, kind, True)


def _message(ctx: Context, text: str) -> InboundMessage:
    return InboundMessage(
        channel=ChannelKind.SANDBOX, account="sandbox",
        provider_message_id=f"sbx-in.{secrets.token_urlsafe(8)}", sender=NUMBER,
        sent_at=ctx.clock.now(), kind=InboundKind.TEXT, text=text, sender_name="Anna Müller",
    )


def _handle(ctx: Context, *texts: str) -> list[tuple[str, str, str | None]]:
    """Store the messages, handle them in one batch; the outbound rows that resulted."""
    store_events(ctx, [_message(ctx, text) for text in texts])
    channels = Channels.from_settings(ctx.settings, ctx.clock)
    asyncio.run(handle_pending(ctx, channels))
    with ctx.db.read() as session:
        rows = session.scalars(select(Message).where(Message.direction == "out")
                               .order_by(Message.id))
        return [(row.status, row.text or "", row.skip_reason) for row in rows]


def test_three_messages_in_one_batch_get_one_away_message(ctx: Context,
                                                          clock: ManualClock) -> None:
    _switch_on(ctx, AutoReplyKind.AWAY)
    clock.set(NIGHT)
    sent = _handle(ctx, "Hallo?", "Ist da wer?", "Hallo???")
    assert [status for status, _, _ in sent] == ["sent"]
    assert sent[0][1].startswith("Hallo Anna, danke für deine Nachricht!")


def test_a_stop_in_the_same_batch_silences_the_away_message_of_the_message_before(
    ctx: Context, clock: ManualClock,
) -> None:
    # The away message is chosen for "Hallo?", but it is sent after the batch committed,
    # when the STOP is already in the ledger: the gate holds it back.
    _switch_on(ctx, AutoReplyKind.AWAY)
    clock.set(NIGHT)
    sent = _handle(ctx, "Hallo?", "STOP")
    away = [row for row in sent if row[1].startswith("Hallo Anna")]
    assert away == [("skipped", away[0][1], "withdrawn")]
    assert [row[0] for row in sent if "abgemeldet" in row[1]] == ["sent"]


def test_only_the_message_that_opens_a_conversation_is_a_request(ctx: Context) -> None:
    _handle(ctx, "Erste Frage", "Zweite Frage")
    with ctx.db.read() as session:
        openings = session.scalars(select(RequestOpening)).all()
    assert len(openings) == 1


def test_a_keyword_message_is_no_request_and_gets_no_auto_reply(ctx: Context) -> None:
    _switch_on(ctx, *AutoReplyKind)
    _handle(ctx, "STOP")
    with ctx.db.read() as session:
        assert session.scalars(select(RequestOpening)).all() == []
        assert session.scalars(select(AutoReplySent)).all() == []
