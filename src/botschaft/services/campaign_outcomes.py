"""What a campaign delivery does after each answer of a provider: the one table.

The channels turn provider answers into neutral outcomes (channels/outcomes.py); this
module turns those outcomes, for a campaign, into what happens to the delivery, the sender
account and the campaign. Pure: the attempt number and the time are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from botschaft.channels.outcomes import (
    Deferred,
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    SendOutcome,
    Sent,
    TransientFailure,
    Unreachability,
    WindowClosed,
)
from botschaft.domain.rate_limit import backoff, pair_backoff

# Answers after which every further send of the campaign would be refused or would harm the
# sender: WhatsApp's spam rate limit (131048, "halt campaign"), an expired token (190), a
# policy block or locked account (368, 131031), a restricted Facebook page (10/1893063).
HALTING_CODES = frozenset({"131048", "190", "368", "131031", "10/1893063"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base: timedelta
    cap: timedelta


@dataclass(frozen=True)
class MarkSent:
    provider_message_id: str


@dataclass(frozen=True)
class Requeue:
    """Back to ``queued`` until ``not_before``; the message did not go out."""

    not_before: datetime
    reason: str  # rate_limited | retry | deferred | halted
    code: str
    detail: str
    slow_account_for: timedelta | None = None  # also pause the sender account this long
    counts_as_attempt: bool = True


@dataclass(frozen=True)
class MarkFailed:
    code: str
    detail: str
    unreachable: Unreachability | None = None  # the person's records change too


@dataclass(frozen=True)
class HaltCampaign:
    """Pause the whole campaign and requeue this delivery: the sender must look first."""

    code: str
    detail: str


CampaignAction = MarkSent | Requeue | MarkFailed | HaltCampaign


def action_for(
    outcome: SendOutcome, attempt: int, policy: RetryPolicy, now: datetime
) -> CampaignAction:
    """What to do with a delivery whose send number ``attempt`` (from 1) got ``outcome``."""
    if isinstance(outcome, Sent):
        return MarkSent(outcome.provider_message_id)
    if isinstance(outcome, RateLimited):
        if outcome.scope is RateScope.RECIPIENT:
            # WhatsApp 131056: only this person is rate limited; the account goes on.
            wait = max(outcome.retry_after, pair_backoff(attempt, outcome.retry_after))
            return Requeue(now + wait, "rate_limited", outcome.code, outcome.detail)
        # The account is over its rate: nothing was wrong with this message, so no attempt
        # is used up; the account pauses for what the provider said and slows down.
        return Requeue(now + outcome.retry_after, "rate_limited", outcome.code, outcome.detail,
                       slow_account_for=outcome.retry_after, counts_as_attempt=False)
    if isinstance(outcome, Deferred):
        # WhatsApp 131049: Meta caps marketing per person; trying again within a day only
        # burns quota, so the person waits, and no attempt is used up.
        return Requeue(now + outcome.retry_after, "deferred", outcome.code, outcome.detail,
                       counts_as_attempt=False)
    if isinstance(outcome, TransientFailure):
        if attempt >= policy.max_attempts:
            return MarkFailed(outcome.code,
                              f"gave up after {attempt} attempts: {outcome.detail}")
        wait = backoff(attempt, policy.base, policy.cap)
        return Requeue(now + wait, "retry", outcome.code, outcome.detail)
    if isinstance(outcome, RecipientUnreachable):
        return MarkFailed(outcome.code, outcome.detail, unreachable=outcome.why)
    if isinstance(outcome, PermanentFailure) and outcome.code in HALTING_CODES:
        return HaltCampaign(outcome.code, outcome.detail)
    if isinstance(outcome, WindowClosed | PermanentFailure):
        return MarkFailed(outcome.code, outcome.detail)
    raise TypeError(f"unknown send outcome {outcome!r}")  # pragma: no cover


__all__ = [
    "HALTING_CODES",
    "CampaignAction",
    "HaltCampaign",
    "MarkFailed",
    "MarkSent",
    "Requeue",
    "RetryPolicy",
    "action_for",
]
