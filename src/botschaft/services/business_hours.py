"""The business's opening hours and closed dates: read for every message, edited by the owner.

The week lives in the database (the owner edits it in the app); the time zone and the
holiday country and state are settings. No stored week means hours were never set: the
business counts as always open and no away message goes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from botschaft.domain.business_hours import (
    WEEKDAYS,
    BusinessHours,
    Interval,
    InvalidBusinessHours,
    holidays_of_year,
    intervals_of_day,
)
from botschaft.services.audit import record_audit
from botschaft.services.context import Context
from botschaft.storage.business import ClosedDate, WeeklyHours

_ROW = 1  # the single row of business_hours


@dataclass(frozen=True)
class HoursView:
    """What the settings screen shows: the week as text, closed dates, holidays of a year."""

    configured: bool
    week: tuple[tuple[str, ...], ...]  # seven entries, Monday first
    time_zone: str
    holiday_country: str
    holiday_state: str
    closed_dates: tuple[tuple[date, str], ...]
    holidays: tuple[tuple[date, str], ...]


def load_hours(session: Session, ctx: Context) -> BusinessHours | None:
    """The business hours in force, or None when the owner never set any."""
    row = session.get(WeeklyHours, _ROW)
    if row is None:
        return None
    return _hours(ctx, row.week, session.scalars(select(ClosedDate.day)).all())


def _hours(ctx: Context, week: Mapping[str, Sequence[str]], closed: Sequence[date]
           ) -> BusinessHours:
    business = ctx.settings.business
    return BusinessHours.weekly(
        {int(day): texts for day, texts in week.items()}, business.time_zone,
        holiday_country=business.holiday_country, holiday_state=business.holiday_state,
        closed_dates=closed,
    )


def hours_view(ctx: Context, year: int, language: str) -> HoursView:
    business = ctx.settings.business
    with ctx.db.read() as session:
        row = session.get(WeeklyHours, _ROW)
        closed = session.execute(select(ClosedDate.day, ClosedDate.note)
                                 .order_by(ClosedDate.day)).all()
        week = row.week if row is not None else {}
        hours = _hours(ctx, week, [])
    return HoursView(
        configured=row is not None,
        week=tuple(tuple(str(i) for i in hours.week[day]) for day in range(WEEKDAYS)),
        time_zone=business.time_zone,
        holiday_country=business.holiday_country,
        holiday_state=business.holiday_state,
        closed_dates=tuple((day, note) for day, note in closed),
        holidays=tuple(holidays_of_year(hours, year, language)),
    )


def parse_week(days: Mapping[int, str]) -> dict[str, list[str]]:
    """A week from the form: per weekday, intervals separated by commas ("" is closed).

    Raises ``InvalidBusinessHours`` naming the day's problem.
    """
    week: dict[str, list[str]] = {}
    for day in range(WEEKDAYS):
        parts = [part for part in days.get(day, "").replace(";", ",").split(",")
                 if part.strip()]
        intervals = intervals_of_day(Interval.parse(part) for part in parts)
        week[str(day)] = [str(interval) for interval in intervals]
    return week


def save_week(session: Session, ctx: Context, week: Mapping[str, Sequence[str]]) -> None:
    """Replace the week's intervals (already checked by ``parse_week``)."""
    checked = {str(int(day)): [str(Interval.parse(t)) for t in texts]
               for day, texts in week.items()}
    _hours(ctx, checked, [])  # refuses overlaps and days out of range
    row = session.get(WeeklyHours, _ROW)
    if row is None:
        session.add(WeeklyHours(id=_ROW, week=checked, updated_at=ctx.clock.now()))
    else:
        row.week, row.updated_at = checked, ctx.clock.now()
    session.flush()


def clear_week(session: Session) -> None:
    """Forget the hours: the business counts as always open again."""
    session.execute(delete(WeeklyHours))


def add_closed_date(session: Session, day: date, note: str) -> None:
    if session.get(ClosedDate, day) is not None:
        raise InvalidBusinessHours(f"{day.isoformat()} is a closed date already.")
    session.add(ClosedDate(day=day, note=note.strip()[:200]))
    session.flush()


def remove_closed_date(session: Session, day: date) -> bool:
    found = session.get(ClosedDate, day)
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def change_week(ctx: Context, actor_id: int, days: Mapping[int, str]) -> bool:
    """The owner's new week (text per weekday, "" closed), with its audit row.

    True if anything changed; ``InvalidBusinessHours`` names the problem of a bad day.
    """
    week = parse_week(days)
    with ctx.db.write() as session:
        row = session.get(WeeklyHours, _ROW)
        before = dict(row.week) if row is not None else None
        if before == week:
            return False
        save_week(session, ctx, week)
        record_audit(session, actor_id, "business_hours.changed", "business_hours",
                     {"from": before, "to": week}, at=ctx.clock.now())
        return True


def forget_week(ctx: Context, actor_id: int) -> bool:
    """Hours no longer set: always open, no away message."""
    with ctx.db.write() as session:
        row = session.get(WeeklyHours, _ROW)
        if row is None:
            return False
        record_audit(session, actor_id, "business_hours.cleared", "business_hours",
                     {"from": dict(row.week)}, at=ctx.clock.now())
        clear_week(session)
        return True


def close_on(ctx: Context, actor_id: int, day: date, note: str) -> None:
    with ctx.db.write() as session:
        add_closed_date(session, day, note)
        record_audit(session, actor_id, "business_hours.closed_date_added",
                     f"date:{day.isoformat()}", {"note": note.strip()[:200]},
                     at=ctx.clock.now())


def open_again_on(ctx: Context, actor_id: int, day: date) -> bool:
    with ctx.db.write() as session:
        if not remove_closed_date(session, day):
            return False
        record_audit(session, actor_id, "business_hours.closed_date_removed",
                     f"date:{day.isoformat()}", at=ctx.clock.now())
        return True
