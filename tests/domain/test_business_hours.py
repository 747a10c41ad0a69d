"""Business hours: weekdays, nights, weekends, public holidays by country and state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from botschaft.domain.business_hours import (
    BusinessHours,
    Interval,
    InvalidBusinessHours,
    check_holiday_region,
    holidays_of_year,
    is_open,
    last_closing,
    next_opening,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_WITH_LUNCH = ["09:00-12:30", "13:30-18:00"]


def shop(state: str = "BY", **changes: object) -> BusinessHours:
    """Mon-Fri 09:00-12:30 and 13:30-18:00, Saturday 10:00-14:00, in Munich."""
    days: dict[int, list[str]] = {day: WEEKDAYS_WITH_LUNCH for day in range(5)}
    days[5] = ["10:00-14:00"]
    return BusinessHours.weekly(days, "Europe/Berlin", holiday_country="DE",
                                holiday_state=state, **changes)  # type: ignore[arg-type]


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


def test_a_weekday_morning_is_open() -> None:
    assert is_open(shop(), berlin(2026, 3, 2, 9, 0))  # Monday, the first minute


def test_the_lunch_break_and_the_closing_minute_are_closed() -> None:
    assert not is_open(shop(), berlin(2026, 3, 2, 12, 30))
    assert not is_open(shop(), berlin(2026, 3, 2, 18, 0))
    assert is_open(shop(), berlin(2026, 3, 2, 17, 59))


def test_the_night_is_closed_and_the_next_opening_is_the_morning() -> None:
    night = berlin(2026, 3, 3, 2, 15)  # Tuesday 02:15
    assert not is_open(shop(), night)
    assert next_opening(shop(), night) == berlin(2026, 3, 3, 9, 0)
    assert last_closing(shop(), night) == berlin(2026, 3, 2, 18, 0)


def test_hours_are_read_in_the_business_time_zone_whatever_zone_now_is_in() -> None:
    # 08:30 UTC on a winter Monday is 09:30 in Munich.
    assert is_open(shop(), datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    assert not is_open(shop(), datetime(2026, 3, 2, 7, 30, tzinfo=UTC))


def test_the_weekend_opens_on_saturday_and_stays_closed_until_monday() -> None:
    assert is_open(shop(), berlin(2026, 3, 7, 11, 0))  # Saturday
    sunday = berlin(2026, 3, 8, 12, 0)
    assert not is_open(shop(), sunday)
    assert next_opening(shop(), sunday) == berlin(2026, 3, 9, 9, 0)
    assert last_closing(shop(), sunday) == berlin(2026, 3, 7, 14, 0)


def test_german_unity_day_is_closed_in_every_state() -> None:
    friday = berlin(2025, 10, 3, 11, 0)
    for state in ("BY", "BE", "HH"):
        hours = shop(state)
        assert not is_open(hours, friday)
        assert hours.closed_reason(date(2025, 10, 3), "de") == "Tag der Deutschen Einheit"
    assert next_opening(shop(), friday) == berlin(2025, 10, 4, 10, 0)  # Saturday hours


def test_epiphany_closes_bavaria_but_not_berlin() -> None:
    tuesday = berlin(2026, 1, 6, 10, 0)
    assert not is_open(shop("BY"), tuesday)
    assert is_open(shop("BE"), tuesday)
    assert shop("BY").closed_reason(date(2026, 1, 6), "en") == "Epiphany"


def test_without_a_country_there_are_no_public_holidays() -> None:
    hours = BusinessHours.weekly({4: ["09:00-17:00"]}, "Europe/Berlin")
    assert is_open(hours, berlin(2025, 10, 3, 11, 0))
    assert holidays_of_year(hours, 2025) == []


def test_an_extra_closed_date_closes_the_whole_day() -> None:
    hours = shop(closed_dates=[date(2026, 3, 4)])
    assert not is_open(hours, berlin(2026, 3, 4, 10, 0))
    assert next_opening(hours, berlin(2026, 3, 4, 10, 0)) == berlin(2026, 3, 5, 9, 0)
    assert hours.closed_reason(date(2026, 3, 4)) == ""


def test_open_until_midnight_and_from_midnight_is_one_open_night() -> None:
    hours = BusinessHours.weekly({0: ["20:00-24:00"], 1: ["00:00-02:00"]}, "Europe/Berlin")
    assert is_open(hours, berlin(2026, 3, 2, 23, 59))
    assert is_open(hours, berlin(2026, 3, 3, 0, 30))
    assert last_closing(hours, berlin(2026, 3, 3, 3, 0)) == berlin(2026, 3, 3, 2, 0)


def test_the_next_opening_after_a_dst_change_is_at_local_time() -> None:
    # Summer time starts on Sunday 29 March 2026; Monday 09:00 is then 07:00 UTC.
    opening = next_opening(shop(), berlin(2026, 3, 28, 20, 0))
    assert opening == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_business_never_open_has_no_next_opening() -> None:
    never = BusinessHours.weekly({}, "Europe/Berlin")
    assert next_opening(never, berlin(2026, 3, 2, 10, 0)) is None
    assert last_closing(never, berlin(2026, 3, 2, 10, 0)) is None


def test_the_holidays_of_a_year_are_listed_by_date_in_the_language_asked() -> None:
    listed = holidays_of_year(shop("BY"), 2026, "de")
    assert listed[0] == (date(2026, 1, 1), "Neujahr")
    assert (date(2026, 1, 6), "Heilige Drei Könige") in listed
    assert (date(2026, 1, 6), "Heilige Drei Könige") not in holidays_of_year(shop("BE"), 2026,
                                                                           "de")


@pytest.mark.parametrize("text", ["9-17", "09:00", "18:00-09:00", "09:00-25:00", "09:61-10:00"])
def test_a_malformed_interval_is_refused_with_a_readable_message(text: str) -> None:
    with pytest.raises(InvalidBusinessHours) as raised:
        Interval.parse(text)
    assert raised.value.code == "business_hours_invalid"


def test_overlapping_intervals_on_one_day_are_refused() -> None:
    with pytest.raises(InvalidBusinessHours, match="overlap"):
        BusinessHours.weekly({0: ["09:00-13:00", "12:00-18:00"]}, "Europe/Berlin")


def test_an_unknown_time_zone_is_refused_by_name() -> None:
    with pytest.raises(InvalidBusinessHours, match="Europe/Munich"):
        BusinessHours.weekly({}, "Europe/Munich")


def test_an_unknown_country_or_state_is_refused_naming_what_is_known() -> None:
    check_holiday_region("DE", "BY")
    with pytest.raises(InvalidBusinessHours, match="'XX'"):
        check_holiday_region("XX", "")
    with pytest.raises(InvalidBusinessHours, match="BW, BY"):
        check_holiday_region("DE", "Bavaria")
