"""Who is on duty, and who gets a new conversation.

The rotation names an agent per ISO week (``(2026, 41)``: Anna) and, as a standing plan, per
weekday (Mondays: Ben). A week's entry wins over the weekday's, so a holiday cover is one
entry. A new conversation goes to the agent on duty; when nobody is (or the one on duty is
no longer an agent), round-robin among the agents seen online in the last few minutes;
when nobody is online, to nobody: the conversation waits, unassigned, for whoever comes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class Rotation:
    weeks: Mapping[tuple[int, int], int] = field(default_factory=dict)  # (ISO year, week)
    weekdays: Mapping[int, int] = field(default_factory=dict)  # 0 = Monday

    def on_duty(self, day: date) -> int | None:
        """The user on duty on a local calendar day, if the rotation names one."""
        year, week, _ = day.isocalendar()
        found = self.weeks.get((year, week))
        return found if found is not None else self.weekdays.get(day.weekday())


@dataclass(frozen=True)
class Agent:
    """A user who may be given conversations, as the choice needs to see them."""

    id: int
    last_seen_at: datetime | None


def is_online(agent: Agent, now: datetime, within: timedelta) -> bool:
    return agent.last_seen_at is not None and now - agent.last_seen_at <= within


def choose_assignee(
    rotation: Rotation, agents: Sequence[Agent], *, last_assigned: int | None, now: datetime,
    time_zone: tzinfo, online_within: timedelta,
) -> int | None:
    """The user a new conversation goes to, or None.

    ``agents`` are those who may take conversations now (active, with a role that answers);
    ``last_assigned`` is the user the previous conversation went to, where round-robin
    continues after (by id, wrapping around).
    """
    eligible = {agent.id for agent in agents}
    duty = rotation.on_duty(now.astimezone(time_zone).date())
    if duty is not None and duty in eligible:
        return duty
    online = sorted(agent.id for agent in agents if is_online(agent, now, online_within))
    if not online:
        return None
    if last_assigned is None:
        return online[0]
    return next((agent for agent in online if agent > last_assigned), online[0])
