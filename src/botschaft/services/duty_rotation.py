"""The duty rotation: who is on duty per weekday and per ISO week, edited by the owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.domain.business_hours import InvalidBusinessHours
from botschaft.domain.duty import Rotation
from botschaft.domain.roles import Role
from botschaft.services.audit import record_audit
from botschaft.services.context import Context
from botschaft.storage.accounts import User
from botschaft.storage.business import DutyWeek, DutyWeekday

WEEKS_SHOWN = 8
# Who takes conversations: agents and owners (marketers do not answer customers).
ANSWERING_ROLES = (Role.AGENT.value, Role.OWNER.value)


@dataclass(frozen=True)
class WeekRow:
    iso_year: int
    iso_week: int
    monday: date
    user_id: int | None


@dataclass(frozen=True)
class RotationView:
    weekdays: tuple[int | None, ...]  # seven entries, Monday first
    weeks: tuple[WeekRow, ...]  # this week and the next ones
    people: tuple[tuple[int, str], ...]  # who may be on duty: (id, name)


def load_rotation(session: Session) -> Rotation:
    return Rotation(
        weeks={(row.iso_year, row.iso_week): row.user_id
               for row in session.scalars(select(DutyWeek))},
        weekdays={row.weekday: row.user_id for row in session.scalars(select(DutyWeekday))},
    )


def rotation_view(ctx: Context, today: date) -> RotationView:
    with ctx.db.read() as session:
        rotation = load_rotation(session)
        people = tuple(
            (user_id, name) for user_id, name in session.execute(
                select(User.id, User.display_name)
                .where(User.role.in_(ANSWERING_ROLES), User.disabled_at.is_(None))
                .order_by(User.display_name)
            )
        )
    monday = today - timedelta(days=today.weekday())
    weeks = []
    for offset in range(WEEKS_SHOWN):
        start = monday + timedelta(weeks=offset)
        year, week, _ = start.isocalendar()
        weeks.append(WeekRow(year, week, start, rotation.weeks.get((year, week))))
    return RotationView(tuple(rotation.weekdays.get(day) for day in range(7)), tuple(weeks),
                        people)


def set_weekday(ctx: Context, actor_id: int, weekday: int, user_id: int | None) -> bool:
    """Put someone (or nobody) on duty on a weekday; True if that changed anything."""
    if not 0 <= weekday < 7:
        raise InvalidBusinessHours(f"{weekday} is no weekday (0 is Monday, 6 Sunday).")
    with ctx.db.write() as session:
        _check_person(session, user_id)
        row = session.get(DutyWeekday, weekday)
        before = row.user_id if row is not None else None
        if before == user_id:
            return False
        if row is not None:
            session.delete(row)
            session.flush()
        if user_id is not None:
            session.add(DutyWeekday(weekday=weekday, user_id=user_id))
        record_audit(session, actor_id, "duty.weekday_changed", f"weekday:{weekday}",
                     {"from": before, "to": user_id}, at=ctx.clock.now())
        return True


def set_week(ctx: Context, actor_id: int, iso_year: int, iso_week: int,
             user_id: int | None) -> bool:
    """Put someone (or nobody: the weekday plan applies) on duty for an ISO week."""
    try:
        date.fromisocalendar(iso_year, iso_week, 1)
    except ValueError:
        raise InvalidBusinessHours(f"{iso_year}-W{iso_week:02d} is no calendar week.") from None
    with ctx.db.write() as session:
        _check_person(session, user_id)
        row = session.get(DutyWeek, (iso_year, iso_week))
        before = row.user_id if row is not None else None
        if before == user_id:
            return False
        if row is not None:
            session.delete(row)
            session.flush()
        if user_id is not None:
            session.add(DutyWeek(iso_year=iso_year, iso_week=iso_week, user_id=user_id))
        record_audit(session, actor_id, "duty.week_changed",
                     f"week:{iso_year}-W{iso_week:02d}", {"from": before, "to": user_id},
                     at=ctx.clock.now())
        return True


def _check_person(session: Session, user_id: int | None) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or user.disabled_at is not None or user.role not in ANSWERING_ROLES:
        raise InvalidBusinessHours(
            "Only an active agent or owner can be on duty; choose someone from the list."
        )
