"""Auto-replies over HTTP: a person writes on the sandbox phone at night, on a weekday, on a
public holiday, and what comes back is decided by the business hours and the outbound gate."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from botschaft.domain.auto_reply import AutoReplyKind
from botschaft.services.auto_reply_texts import set_enabled, set_text
from botschaft.services.business_hours import parse_week, save_week
from botschaft.services.context import Context
from botschaft.storage.business import AutoReplySent
from botschaft.storage.models import InboundEvent
from web_app import RunningApp, wait_for

BERLIN = ZoneInfo("Europe/Berlin")
NUMBER = "+4915123456789"
MONDAY_NIGHT = datetime(2026, 3, 2, 23, 0, tzinfo=BERLIN)
TUESDAY_MORNING = datetime(2026, 3, 3, 10, 0, tzinfo=BERLIN)
UNITY_DAY = datetime(2025, 10, 3, 11, 0, tzinfo=BERLIN)  # Friday, a public holiday


def open_weekdays(ctx: Context, *kinds: AutoReplyKind) -> None:
    with ctx.db.write() as session:
        save_week(session, ctx, parse_week({day: "09:00-18:00" for day in range(5)}))
        for kind in kinds:
            set_enabled(session, ctx, kind, True)


def write(client: httpx.Client, text: str, number: str = NUMBER) -> None:
    sent = client.post("/sandbox/api/messages", json={"number": number, "text": text,
                                                      "name": "Anna Müller"})
    assert sent.status_code == 202, sent.text


def phone(client: httpx.Client, number: str = NUMBER) -> list[tuple[str, str]]:
    found = client.get("/sandbox/api/messages", params={"number": number}).json()
    return [(m["direction"], m["text"]) for m in found]


def settled(app: RunningApp, client: httpx.Client, count: int) -> list[tuple[str, str]]:
    """The phone once it shows ``count`` messages and every inbound event was handled."""
    def enough() -> list[tuple[str, str]] | None:
        got = phone(client)
        return got if len(got) >= count else None

    shown: list[tuple[str, str]] = wait_for(enough)
    wait_for(lambda: _handled(app))
    return shown


def _handled(app: RunningApp) -> bool:
    with app.ctx.db.read() as session:
        waiting = session.scalar(select(func.count()).select_from(InboundEvent)
                                 .where(InboundEvent.state.in_(("pending", "handling"))))
    return waiting == 0


def chosen(app: RunningApp) -> list[str]:
    """The auto-replies chosen so far: written with the handling of each message, so a
    reply that should not have gone would be seen here even before it reached the phone."""
    wait_for(lambda: _handled(app))
    with app.ctx.db.read() as session:
        return list(session.scalars(select(AutoReplySent.kind).order_by(AutoReplySent.id)))


def test_a_message_at_night_gets_the_away_message_with_the_next_opening(
    running_app: RunningApp, clock,  # type: ignore[no-untyped-def]
) -> None:
    open_weekdays(running_app.ctx, AutoReplyKind.AWAY)
    clock.set(MONDAY_NIGHT)
    with running_app.client() as client:
        write(client, "Hallo, habt ihr morgen offen?")
        shown = settled(running_app, client, 2)
    assert shown[1] == ("out", "Hallo Anna, danke für deine Nachricht! Gerade ist niemand von"
                        " Botschaft da. Wir antworten dir am Dienstag, 3. März, ab 09:00 Uhr.")


def test_the_away_message_goes_once_per_night_however_often_the_person_writes(
    running_app: RunningApp, clock,  # type: ignore[no-untyped-def]
) -> None:
    open_weekdays(running_app.ctx, AutoReplyKind.AWAY)
    clock.set(MONDAY_NIGHT)
    with running_app.client() as client:
        write(client, "Hallo?")
        settled(running_app, client, 2)
        write(client, "Ist da jemand?")
        write(client, "Hallo???")
        shown = settled(running_app, client, 4)
    assert chosen(running_app) == ["away"]
    assert [direction for direction, _ in shown] == ["in", "out", "in", "in"]


def test_stop_at_night_gets_only_the_stop_confirmation(
    running_app: RunningApp, clock,  # type: ignore[no-untyped-def]
) -> None:
    open_weekdays(running_app.ctx, *AutoReplyKind)
    clock.set(MONDAY_NIGHT)
    with running_app.client() as client:
        write(client, "STOP")
        shown = settled(running_app, client, 2)
    assert chosen(running_app) == []
    assert shown[1][1].startswith("Botschaft: Du bist abgemeldet")


def test_a_first_contact_during_hours_gets_the_greeting_and_later_requests_the_receipt(
    running_app: RunningApp, clock,  # type: ignore[no-untyped-def]
) -> None:
    open_weekdays(running_app.ctx, AutoReplyKind.GREETING, AutoReplyKind.RECEIPT)
    clock.set(TUESDAY_MORNING)
    with running_app.client() as client:
        write(client, "Guten Morgen!")
        first = settled(running_app, client, 2)
        write(client, "Noch eine Frage")  # the same request: nothing automatic
        settled(running_app, client, 3)
        assert chosen(running_app) == ["greeting"]
        clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN))  # a day later: a new request
        write(client, "Und noch was")
        later = settled(running_app, client, 5)
    assert first[1][1].startswith("Hallo Anna, willkommen bei Botschaft!")
    assert chosen(running_app) == ["greeting", "receipt"]
    assert [d for d, _ in later] == ["in", "out", "in", "in", "out"]
    assert later[4][1] == ("Danke, Anna! Deine Nachricht ist angekommen. Wir melden uns"
                           " gleich bei dir.")


def test_on_german_unity_day_the_owner_wording_goes_out_in_the_contact_language(
    running_app: RunningApp, clock,  # type: ignore[no-untyped-def]
) -> None:
    ctx = running_app.ctx
    open_weekdays(ctx, AutoReplyKind.AWAY)
    with ctx.db.write() as session:
        set_text(session, AutoReplyKind.AWAY, "de",
                 "Heute zu, {first_name}. Wieder für dich da: {opens}.")
    clock.set(UNITY_DAY)
    with running_app.client() as client:
        write(client, "Hallo")
        shown = settled(running_app, client, 2)
    assert shown[1] == ("out", "Heute zu, Anna. Wieder für dich da: am Montag, 6. Oktober,"
                        " ab 09:00 Uhr.")


@pytest.mark.parametrize("moment", [TUESDAY_MORNING, MONDAY_NIGHT], ids=["day", "night"])
def test_with_every_auto_reply_switched_off_nothing_automatic_goes(
    running_app: RunningApp, clock, moment: datetime,  # type: ignore[no-untyped-def]
) -> None:
    open_weekdays(running_app.ctx)
    clock.set(moment)
    with running_app.client() as client:
        write(client, "Hallo")
        assert chosen(running_app) == []
        assert phone(client) == [("in", "Hallo")]
