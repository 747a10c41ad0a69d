"""What a campaign delivery does after each neutral outcome of a send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from botschaft.channels.outcomes import (
    Deferred,
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    Sent,
    TransientFailure,
    Unreachability,
    WindowClosed,
)
from botschaft.channels.whatsapp_errors import outcome_for_error
from botschaft.services.campaign_outcomes import (
    HaltCampaign,
    MarkFailed,
    MarkSent,
    Requeue,
    RetryPolicy,
    action_for,
)

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
POLICY = RetryPolicy(max_attempts=3, base=2 * SECOND, cap=60 * SECOND)


def test_a_sent_message_keeps_the_providers_id() -> None:
    assert action_for(Sent("wamid.1"), 1, POLICY, NOW) == MarkSent("wamid.1")


@pytest.mark.parametrize("code", ["130429", "80007", "4"])
def test_an_account_rate_limit_requeues_and_slows_the_account_without_using_an_attempt(
    code: str,
) -> None:
    action = action_for(outcome_for_error(code, "slow down"), 1, POLICY, NOW)
    assert isinstance(action, Requeue)
    assert action.reason == "rate_limited"
    assert action.slow_account_for is not None and action.slow_account_for > timedelta(0)
    assert action.not_before == NOW + action.slow_account_for
    assert not action.counts_as_attempt


def test_a_telegram_retry_after_is_waited_exactly() -> None:
    outcome = RateLimited(timedelta(seconds=37), RateScope.ACCOUNT, "429", "retry after 37")
    action = action_for(outcome, 1, POLICY, NOW)
    assert isinstance(action, Requeue)
    assert action.not_before == NOW + timedelta(seconds=37)
    assert action.slow_account_for == timedelta(seconds=37)


def test_the_pair_rate_limit_waits_for_that_person_only_and_grows_by_four() -> None:
    first = action_for(outcome_for_error("131056", "pair"), 1, POLICY, NOW)
    second = action_for(outcome_for_error("131056", "pair"), 2, POLICY, NOW)
    assert isinstance(first, Requeue) and isinstance(second, Requeue)
    assert first.slow_account_for is None
    assert first.not_before == NOW + 6 * SECOND
    assert second.not_before == NOW + 24 * SECOND


def test_the_per_user_marketing_cap_defers_that_person_by_a_day() -> None:
    action = action_for(outcome_for_error("131049", "cap"), 1, POLICY, NOW)
    assert isinstance(action, Requeue)
    assert action.reason == "deferred"
    assert action.not_before == NOW + timedelta(hours=24)
    assert not action.counts_as_attempt


@pytest.mark.parametrize("code", ["131000", "131016"])
def test_transient_failures_retry_with_growing_waits(code: str) -> None:
    waits = [action_for(outcome_for_error(code, "hiccup"), n, POLICY, NOW) for n in (1, 2)]
    assert [w.not_before for w in waits if isinstance(w, Requeue)] == [
        NOW + 2 * SECOND, NOW + 4 * SECOND,
    ]


def test_a_transient_failure_fails_once_the_attempts_are_used_up() -> None:
    action = action_for(TransientFailure("http_503", "down"), 3, POLICY, NOW)
    assert isinstance(action, MarkFailed)
    assert action.code == "http_503"
    assert "3 attempts" in action.detail


def test_a_permanent_failure_fails_with_the_providers_reason() -> None:
    action = action_for(PermanentFailure("132001", "template missing"), 1, POLICY, NOW)
    assert action == MarkFailed("132001", "template missing")


def test_a_closed_window_fails_the_delivery() -> None:
    assert isinstance(action_for(WindowClosed("131047", "24 h"), 1, POLICY, NOW), MarkFailed)


def test_an_opt_out_in_the_app_fails_and_changes_the_persons_records() -> None:
    outcome = RecipientUnreachable(Unreachability.OPTED_OUT, "131050", "stopped marketing")
    action = action_for(outcome, 1, POLICY, NOW)
    assert action == MarkFailed("131050", "stopped marketing", Unreachability.OPTED_OUT)


@pytest.mark.parametrize("code", ["131048", "190", "368", "131031"])
def test_spam_limits_and_account_blocks_halt_the_campaign(code: str) -> None:
    assert isinstance(action_for(outcome_for_error(code, "stop"), 1, POLICY, NOW), HaltCampaign)


def test_deferred_outcomes_of_other_channels_wait_as_long_as_they_say() -> None:
    action = action_for(Deferred(timedelta(hours=2), "x", "later"), 1, POLICY, NOW)
    assert isinstance(action, Requeue) and action.not_before == NOW + timedelta(hours=2)
