"""Business hours: when the business answers, in its own time zone, minus its holidays.

Hours are intervals per weekday (several a day, e.g. 09:00-12:30 and 14:00-18:00), kept as
minutes since local midnight so that "until midnight" is simply 24:00. A day is closed as a
whole when it is a public holiday of the configured country and state (the ``holidays``
library) or one of the business's extra closed dates (company holidays, a stocktaking day).
Everything here is pure: the caller passes ``now``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from botschaft.domain.errors import BotschaftError

DAY_MINUTES = 24 * 60
WEEKDAYS = 7  # Monday is 0, as datetime.weekday() counts
# How far ahead and back we look for an opening or a closing; beyond a year the business is
# simply closed (and says so), and nobody keeps a year-long closed period.
SEARCH_DAYS = 400


class InvalidBusinessHours(BotschaftError):
    code = "business_hours_invalid"
    status = 422


@dataclass(frozen=True, order=True)
class Interval:
    """Open from ``start`` to ``end`` minutes after local midnight (end excluded)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_MINUTES:
            raise InvalidBusinessHours(
                f"An opening interval must start before it ends, within one day"
                f" (00:00 to 24:00); {format_minutes(self.start)}-{format_minutes(self.end)}"
                " is not."
            )

    @classmethod
    def parse(cls, text: str) -> Interval:
        """``"09:00-17:30"`` (a hyphen or an en dash between the two times)."""
        parts = re.split(r"\s*[-\u2013]\s*", text.strip())
        if len(parts) != 2:
            raise InvalidBusinessHours(
                f"{text!r} is no opening interval; write it as 09:00-17:30."
            )
        return cls(parse_minutes(parts[0]), parse_minutes(parts[1]))

    def __str__(self) -> str:
        return f"{format_minutes(self.start)}-{format_minutes(self.end)}"


def parse_minutes(text: str) -> int:
    """``"08:30"`` as 510 minutes; ``"24:00"`` is allowed as the end of a day."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None:
        raise InvalidBusinessHours(f"{text!r} is no time of day; write it as 08:30.")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise InvalidBusinessHours(f"{text!r} is no time of day between 00:00 and 24:00.")
    return hours * 60 + minutes


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def intervals_of_day(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted, and refused if two of them overlap (that is always a typing mistake)."""
    ordered = tuple(sorted(intervals))
    for earlier, later in itertools.pairwise(ordered):
        if later.start < earlier.end:
            raise InvalidBusinessHours(f"The opening intervals {earlier} and {later} overlap.")
    return ordered


@dataclass(frozen=True)
class BusinessHours:
    """The week's opening intervals, the time zone, and the days closed as a whole."""

    week: tuple[tuple[Interval, ...], ...]  # seven entries, Monday first
    time_zone: ZoneInfo
    holiday_country: str = ""  # ISO 3166-1 code, e.g. "DE"; empty: no public holidays
    holiday_state: str = ""  # the library's subdivision code, e.g. "BY"
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.week) != WEEKDAYS:
            raise InvalidBusinessHours("Business hours need an entry for each of seven days.")
        for day in self.week:
            intervals_of_day(day)

    @classmethod
    def weekly(
        cls, days: Mapping[int, Iterable[str]], time_zone: str, *, holiday_country: str = "",
        holiday_state: str = "", closed_dates: Iterable[date] = (),
    ) -> BusinessHours:
        """Hours from text per weekday (0 = Monday), e.g. ``{0: ["09:00-17:00"]}``."""
        week = tuple(
            intervals_of_day(Interval.parse(text) for text in days.get(weekday, ()))
            for weekday in range(WEEKDAYS)
        )
        return cls(week, zone(time_zone), holiday_country, holiday_state,
                   frozenset(closed_dates))

    def closed_reason(self, day: date, language: str = "en") -> str | None:
        """Why ``day`` is closed as a whole: the holiday's name, or None if it is not."""
        if day in self.closed_dates:
            return ""
        return holiday_names(self.holiday_country, self.holiday_state, day.year,
                             language).get(day)

    def is_closed_day(self, day: date) -> bool:
        return self.closed_reason(day) is not None

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The opening intervals of a local calendar day (none on a holiday)."""
        return () if self.is_closed_day(day) else self.week[day.weekday()]


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or an error that says what is expected."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidBusinessHours(
            f"{name!r} is no IANA time zone (e.g. Europe/Berlin)."
        ) from None


def is_open(hours: BusinessHours, now: datetime) -> bool:
    """True when ``now`` falls in an opening interval of its local day."""
    local = now.astimezone(hours.time_zone)
    minute = local.hour * 60 + local.minute
    return any(i.start <= minute < i.end for i in hours.intervals_on(local.date()))


def next_opening(hours: BusinessHours, now: datetime) -> datetime | None:
    """When the business next opens: ``now`` itself if it is open, None if never in a year."""
    if is_open(hours, now):
        return now
    local_day = now.astimezone(hours.time_zone).date()
    for offset in range(SEARCH_DAYS):
        day = local_day + timedelta(days=offset)
        for interval in hours.intervals_on(day):
            start = _at(hours, day, interval.start)
            if start > now:
                return start
    return None


def last_closing(hours: BusinessHours, now: datetime) -> datetime | None:
    """When the business last closed before ``now`` (None if it was not open in a year).

    Together with ``next_opening`` this bounds the closed period ``now`` is in, which the
    away message is sent once per.
    """
    local_day = now.astimezone(hours.time_zone).date()
    for offset in range(SEARCH_DAYS):
        day = local_day - timedelta(days=offset)
        for interval in reversed(hours.intervals_on(day)):
            end = _at(hours, day, interval.end)
            if end <= now:
                return end
    return None


def _at(hours: BusinessHours, day: date, minutes: int) -> datetime:
    # 24:00 is the next day's midnight; building it that way keeps DST days right.
    if minutes == DAY_MINUTES:
        return datetime.combine(day + timedelta(days=1), time(0), hours.time_zone)
    return datetime.combine(day, time(minutes // 60, minutes % 60), hours.time_zone)


def holidays_of_year(
    hours: BusinessHours, year: int, language: str = "en"
) -> list[tuple[date, str]]:
    """The public holidays of a year for the configured country and state, by date."""
    return sorted(holiday_names(hours.holiday_country, hours.holiday_state, year,
                                language).items())


# The library names holidays in a few languages per country; its codes differ from ours.
_LIBRARY_LANGUAGE = {"en": "en_US", "de": "de"}


@lru_cache(maxsize=64)
def holiday_names(country: str, state: str, year: int, language: str) -> Mapping[date, str]:
    """Public holidays of one year: computed once per process, looked up many times."""
    if not country:
        return {}
    wanted = _LIBRARY_LANGUAGE.get(language, "en_US")
    supported = holidays.list_localized_countries().get(country, [])
    calendar = holidays.country_holidays(
        country, subdiv=state or None, years=year,
        language=wanted if wanted in supported else None,
    )
    return dict(calendar.items())


def check_holiday_region(country: str, state: str) -> None:
    """Refuse a country or state the holiday calendar does not know, naming the known ones."""
    if not country:
        if state:
            raise InvalidBusinessHours("A holiday state needs a holiday country.")
        return
    known = holidays.list_supported_countries()
    if country not in known:
        raise InvalidBusinessHours(
            f"{country!r} is no country the holiday calendar knows (use a code such as DE, AT, CH)."
        )
    if state and state not in known[country]:
        raise InvalidBusinessHours(
            f"{state!r} is no state of {country}; known: {', '.join(known[country])}."
        )
