"""Who is on duty, and who gets a new conversation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from botschaft.domain.duty import Agent, Rotation, choose_assignee, is_online

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # Wednesday, ISO week 10
FIVE_MINUTES = timedelta(minutes=5)
ANNA, BEN, CEM = 1, 2, 3


def seen(agent_id: int, ago: timedelta | None) -> Agent:
    return Agent(agent_id, None if ago is None else NOW - ago)


def choose(rotation: Rotation, agents: list[Agent], last: int | None = None) -> int | None:
    return choose_assignee(rotation, agents, last_assigned=last, now=NOW, time_zone=BERLIN,
                           online_within=FIVE_MINUTES)


def test_a_week_entry_wins_over_the_weekday_plan() -> None:
    rotation = Rotation(weeks={(2026, 10): ANNA}, weekdays={2: BEN})
    assert rotation.on_duty(date(2026, 3, 4)) == ANNA
    assert rotation.on_duty(date(2026, 3, 11)) == BEN  # a Wednesday of week 11


def test_the_weekday_is_the_business_local_day() -> None:
    # 23:30 UTC on Tuesday is already Wednesday in Berlin.
    late = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    rotation = Rotation(weekdays={1: ANNA, 2: BEN})
    assert choose_assignee(rotation, [seen(ANNA, None), seen(BEN, None)], last_assigned=None,
                           now=late, time_zone=BERLIN, online_within=FIVE_MINUTES) == BEN


def test_the_agent_on_duty_gets_it_even_when_not_online() -> None:
    agents = [seen(ANNA, None), seen(BEN, timedelta(minutes=1))]
    assert choose(Rotation(weekdays={2: ANNA}), agents) == ANNA


def test_round_robin_among_online_agents_when_nobody_is_on_duty() -> None:
    agents = [seen(ANNA, timedelta(minutes=1)), seen(BEN, timedelta(hours=2)),
              seen(CEM, timedelta(minutes=4))]
    assert choose(Rotation(), agents, last=None) == ANNA
    assert choose(Rotation(), agents, last=ANNA) == CEM  # Ben is not online
    assert choose(Rotation(), agents, last=CEM) == ANNA  # wraps around


def test_someone_on_duty_who_is_no_agent_any_more_is_passed_over() -> None:
    agents = [seen(BEN, timedelta(minutes=1))]
    assert choose(Rotation(weekdays={2: ANNA}), agents) == BEN


def test_nobody_online_and_nobody_on_duty_means_unassigned() -> None:
    assert choose(Rotation(), [seen(ANNA, timedelta(minutes=6)), seen(BEN, None)]) is None


def test_online_means_seen_within_the_window() -> None:
    assert is_online(seen(ANNA, FIVE_MINUTES), NOW, FIVE_MINUTES)
    assert not is_online(seen(ANNA, FIVE_MINUTES + timedelta(seconds=1)), NOW, FIVE_MINUTES)
