"""Sending rates per account: token bucket, provider slow-downs, backoff and daily tiers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from botschaft.domain.rate_limit import (
    AccountLimits,
    AccountThrottle,
    TokenBucket,
    allowance_today,
    backoff,
    pair_backoff,
)

SECOND = timedelta(seconds=1)


def test_a_full_bucket_grants_its_burst_and_then_nothing() -> None:
    bucket = TokenBucket(rate=80, burst=80, now=0.0)
    assert bucket.take(0.0, 100) == 80
    assert bucket.take(0.0, 1) == 0


def test_the_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=80, burst=80, now=0.0)
    bucket.take(0.0, 80)
    assert bucket.take(0.5, 100) == 40


def test_the_bucket_never_holds_more_than_its_burst() -> None:
    bucket = TokenBucket(rate=1000, burst=50, now=0.0)
    assert bucket.take(60.0, 500) == 50


def test_wait_says_when_the_next_token_comes() -> None:
    bucket = TokenBucket(rate=30, burst=30, now=0.0)
    bucket.take(0.0, 30)
    assert bucket.wait(0.0) == pytest.approx(1 / 30)
    assert bucket.wait(1.0) == 0.0


def test_a_bucket_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, now=0.0)


def test_one_second_of_sending_stays_within_the_rate() -> None:
    throttle = AccountThrottle(AccountLimits(per_second=80, concurrency=8, burst=8), now=0.0)
    started, now = 0, 0.0
    while now < 1.0:
        started += throttle.take(now, 10)
        now += 0.001
    assert 80 <= started <= 88  # the rate plus the initial burst


def test_a_slow_down_pauses_the_account_for_the_time_the_provider_names() -> None:
    throttle = AccountThrottle(AccountLimits(per_second=80, concurrency=8), now=0.0)
    throttle.slow_down(0.0, 4 * SECOND)
    assert throttle.take(3.9, 10) == 0
    assert throttle.wait(3.0) == pytest.approx(1.0)
    assert throttle.take(4.5, 10) > 0


def test_a_slow_down_halves_the_rate_and_quiet_sending_wins_it_back() -> None:
    throttle = AccountThrottle(AccountLimits(per_second=1000, concurrency=8), now=0.0)
    throttle.slow_down(0.0, SECOND)
    assert throttle.bucket.rate == 500
    throttle.take(2.0, 1)
    assert 500 < throttle.bucket.rate < 1000
    throttle.take(60.0, 1)
    assert throttle.bucket.rate == 1000


def test_repeated_slow_downs_never_stall_the_account_below_its_floor() -> None:
    throttle = AccountThrottle(AccountLimits(per_second=100, concurrency=8), now=0.0)
    for _ in range(20):
        throttle.slow_down(0.0, timedelta(0))
    assert throttle.bucket.rate == pytest.approx(5.0)


def test_backoff_doubles_per_attempt_up_to_its_cap() -> None:
    waits = [backoff(n, 2 * SECOND, 30 * SECOND) for n in range(1, 7)]
    assert waits == [2 * SECOND, 4 * SECOND, 8 * SECOND, 16 * SECOND, 30 * SECOND, 30 * SECOND]


def test_backoff_counts_attempts_from_one() -> None:
    with pytest.raises(ValueError):
        backoff(0, SECOND, SECOND)


def test_pair_rate_backoff_grows_by_powers_of_four() -> None:
    assert [pair_backoff(n, 6 * SECOND) for n in (1, 2, 3)] == [
        6 * SECOND, 24 * SECOND, 96 * SECOND,
    ]


def test_a_daily_tier_leaves_what_the_last_24_hours_did_not_use() -> None:
    assert allowance_today(250, 240) == 10
    assert allowance_today(250, 300) == 0
    assert allowance_today(None, 10**6) is None
