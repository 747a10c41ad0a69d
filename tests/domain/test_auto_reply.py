"""Which auto-reply answers a message: a weekday, a night, a weekend, a public holiday."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from botschaft.domain.auto_reply import (
    AutoReplyKind,
    InvalidAutoReplyText,
    ReplyHistory,
    check_text,
    choose_auto_reply,
    first_name,
    opens_request,
    render,
)
from botschaft.domain.business_hours import BusinessHours

BERLIN = ZoneInfo("Europe/Berlin")
ALL = frozenset(AutoReplyKind)
HOURS = BusinessHours.weekly({day: ["09:00-18:00"] for day in range(5)}, "Europe/Berlin",
                             holiday_country="DE", holiday_state="BY")
WEEKDAY = datetime(2026, 3, 4, 11, 0, tzinfo=BERLIN)  # Wednesday
NIGHT = datetime(2026, 3, 4, 23, 30, tzinfo=BERLIN)  # Wednesday night
SATURDAY = datetime(2026, 3, 7, 15, 0, tzinfo=BERLIN)
UNITY_DAY = datetime(2025, 10, 3, 11, 0, tzinfo=BERLIN)  # a Friday, a public holiday
EPIPHANY = datetime(2026, 1, 6, 11, 0, tzinfo=BERLIN)  # a Tuesday; a holiday in Bavaria only

NEWCOMER = ReplyHistory(first_message_of_contact=True, opens_request=True)
RETURNING = ReplyHistory(first_message_of_contact=False, opens_request=True)
ONGOING = ReplyHistory(first_message_of_contact=False, opens_request=False)


def test_a_first_message_on_a_weekday_gets_the_greeting() -> None:
    assert choose_auto_reply(ALL, HOURS, NEWCOMER, WEEKDAY) is AutoReplyKind.GREETING


def test_a_new_request_from_a_known_contact_on_a_weekday_gets_the_receipt() -> None:
    assert choose_auto_reply(ALL, HOURS, RETURNING, WEEKDAY) is AutoReplyKind.RECEIPT


def test_a_message_in_an_ongoing_conversation_gets_nothing_during_hours() -> None:
    assert choose_auto_reply(ALL, HOURS, ONGOING, WEEKDAY) is None


@pytest.mark.parametrize("moment", [NIGHT, SATURDAY, UNITY_DAY, EPIPHANY],
                         ids=["night", "weekend", "unity-day", "epiphany-in-bavaria"])
def test_outside_hours_every_message_first_gets_the_away_message(moment: datetime) -> None:
    for history in (NEWCOMER, RETURNING, ONGOING):
        assert choose_auto_reply(ALL, HOURS, history, moment) is AutoReplyKind.AWAY


def test_epiphany_is_a_working_day_in_berlin() -> None:
    berlin = BusinessHours.weekly({day: ["09:00-18:00"] for day in range(5)}, "Europe/Berlin",
                                  holiday_country="DE", holiday_state="BE")
    assert choose_auto_reply(ALL, berlin, RETURNING, EPIPHANY) is AutoReplyKind.RECEIPT


def test_the_away_message_goes_once_per_closed_period() -> None:
    sent_friday_night = datetime(2026, 3, 6, 20, 0, tzinfo=BERLIN)
    history = ReplyHistory(False, False, last_away_at=sent_friday_night)
    assert choose_auto_reply(ALL, HOURS, history, SATURDAY) is None
    # The next closed period (Monday night) hears it again.
    monday_night = datetime(2026, 3, 9, 21, 0, tzinfo=BERLIN)
    assert choose_auto_reply(ALL, HOURS, history, monday_night) is AutoReplyKind.AWAY


def test_an_away_message_from_before_the_last_opening_does_not_count() -> None:
    last_night = datetime(2026, 3, 3, 23, 0, tzinfo=BERLIN)
    history = ReplyHistory(False, False, last_away_at=last_night)
    assert choose_auto_reply(ALL, HOURS, history, NIGHT) is AutoReplyKind.AWAY


def test_a_switched_off_away_message_leaves_the_greeting_at_night() -> None:
    enabled = frozenset({AutoReplyKind.GREETING})
    assert choose_auto_reply(enabled, HOURS, NEWCOMER, NIGHT) is AutoReplyKind.GREETING
    assert choose_auto_reply(enabled, HOURS, RETURNING, NIGHT) is None


def test_the_greeting_goes_once_per_contact() -> None:
    greeted = ReplyHistory(True, True, greeted=True)
    assert choose_auto_reply(frozenset({AutoReplyKind.GREETING}), HOURS, greeted, WEEKDAY) is None


def test_the_receipt_pauses_for_an_hour_after_the_last_one() -> None:
    recent = ReplyHistory(False, True, last_receipt_at=WEEKDAY - timedelta(minutes=20))
    older = ReplyHistory(False, True, last_receipt_at=WEEKDAY - timedelta(hours=2))
    assert choose_auto_reply(ALL, HOURS, recent, WEEKDAY) is None
    assert choose_auto_reply(ALL, HOURS, older, WEEKDAY) is AutoReplyKind.RECEIPT


def test_nothing_automatic_while_an_agent_is_answering_even_at_night() -> None:
    busy = ReplyHistory(False, True, last_agent_reply_at=NIGHT - timedelta(minutes=5))
    assert choose_auto_reply(ALL, HOURS, busy, NIGHT) is None


def test_without_business_hours_there_is_no_away_message() -> None:
    assert choose_auto_reply(ALL, None, RETURNING, NIGHT) is AutoReplyKind.RECEIPT


def test_everything_switched_off_means_no_auto_reply() -> None:
    assert choose_auto_reply(frozenset(), HOURS, NEWCOMER, NIGHT) is None


def test_a_request_opens_with_a_new_resolved_or_long_quiet_conversation() -> None:
    quiet = WEEKDAY - timedelta(hours=13)
    busy = WEEKDAY - timedelta(hours=1)
    assert opens_request(new_conversation=True, was_resolved=False, previous_message_at=None,
                         now=WEEKDAY)
    assert opens_request(new_conversation=False, was_resolved=True, previous_message_at=busy,
                         now=WEEKDAY)
    assert opens_request(new_conversation=False, was_resolved=False, previous_message_at=quiet,
                         now=WEEKDAY)
    assert not opens_request(new_conversation=False, was_resolved=False,
                             previous_message_at=busy, now=WEEKDAY)


def test_placeholders_are_filled_and_an_unknown_name_takes_its_space_along() -> None:
    text = "Hallo {name}! {business} ist ab {opens} wieder da."
    values = {"name": "Anna", "business": "Reisebüro Sonne", "opens": "Montag, 09:00"}
    assert render(text, values) == "Hallo Anna! Reisebüro Sonne ist ab Montag, 09:00 wieder da."
    assert render("Hallo {name}!", {"name": ""}) == "Hallo!"


def test_a_first_name_is_the_first_word_of_the_display_name() -> None:
    assert first_name("Anna Müller") == "Anna"
    assert first_name(None) == first_name("  ") == ""


@pytest.mark.parametrize("text", ["Hi {name.__class__}", "Hi {email}", "Hi {", "Hi } there", "  "])
def test_a_text_with_anything_but_the_declared_placeholders_is_refused(text: str) -> None:
    with pytest.raises(InvalidAutoReplyText):
        check_text(text)


def test_a_text_with_declared_placeholders_is_accepted_stripped() -> None:
    assert check_text("  Hi {first_name}, thanks!  ") == "Hi {first_name}, thanks!"
