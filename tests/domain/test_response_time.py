"""The response-time badge from measured first responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from botschaft.domain.response_time import (
    MIN_SAMPLES,
    Request,
    ResponseBadge,
    badge_for,
    measure,
)

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def answered(after: timedelta, days_ago: int = 1) -> Request:
    opened = NOW - timedelta(days=days_ago)
    return Request(opened, opened + after)


@pytest.mark.parametrize(("p75", "badge"), [
    (30 * timedelta(seconds=1), ResponseBadge.INSTANTLY),
    (2 * MINUTE, ResponseBadge.INSTANTLY),
    (10 * MINUTE, ResponseBadge.MINUTES),
    (45 * MINUTE, ResponseBadge.HOUR),
    (timedelta(hours=5), ResponseBadge.FEW_HOURS),
    (timedelta(hours=20), ResponseBadge.DAY),
    (timedelta(hours=30), None),
])
def test_each_bucket_has_its_upper_bound(p75: timedelta, badge: ResponseBadge | None) -> None:
    assert badge_for(p75) is badge


def test_the_badge_follows_the_75th_percentile_not_the_median() -> None:
    # Median 1 minute, but three in eight waited 40 minutes: "within an hour" is what holds.
    requests = [answered(MINUTE)] * 5 + [answered(40 * MINUTE)] * 3
    result = measure(requests, NOW)
    assert result.badge is ResponseBadge.HOUR
    assert result.p75 == 40 * MINUTE
    assert result.samples == 8


def test_too_few_requests_give_no_badge() -> None:
    result = measure([answered(MINUTE)] * (MIN_SAMPLES - 1), NOW)
    assert (result.badge, result.samples) == (None, MIN_SAMPLES - 1)


def test_requests_unanswered_for_over_a_day_count_as_slower_than_any_answer() -> None:
    unanswered = Request(NOW - timedelta(days=3), None)
    result = measure([answered(MINUTE)] * 3 + [unanswered] * 2, NOW)
    assert result.samples == 5
    assert result.badge is None  # the 75th percentile is an unanswered one


def test_a_request_still_young_and_unanswered_is_left_out() -> None:
    running = Request(NOW - timedelta(hours=2), None)
    result = measure([answered(MINUTE)] * 5 + [running], NOW)
    assert (result.badge, result.samples) == (ResponseBadge.INSTANTLY, 5)
