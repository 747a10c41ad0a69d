"""WhatsApp Cloud API error codes as neutral send outcomes: the one table, sync and async.

Meta reports the same error either in the HTTP answer to a send or later in
``statuses[].errors[]`` of a webhook (sometimes both), so both paths go through
``outcome_for_error``. The table keys on the error code, never on the HTTP status: Meta
answers most errors with 400 whatever they mean.
Source: developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from botschaft.channels.outcomes import (
    Deferred,
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    SendOutcome,
    TransientFailure,
    Unreachability,
    WindowClosed,
)

# A first backoff step; the dispatcher grows it on repeated rate limits.
ACCOUNT_BACKOFF = timedelta(seconds=1)
# Meta allows one message per 6 s to the same person (bursts borrow from later quota).
PAIR_RATE_BACKOFF = timedelta(seconds=6)
# 131049: Meta caps marketing messages per person; retrying within a day only burns quota.
MARKETING_CAP_BACKOFF = timedelta(hours=24)

_OutcomeFactory = Callable[[str, str], SendOutcome]


def _rate_limited(scope: RateScope, retry_after: timedelta) -> _OutcomeFactory:
    return lambda code, detail: RateLimited(retry_after, scope, code, detail)


def _unreachable(why: Unreachability) -> _OutcomeFactory:
    return lambda code, detail: RecipientUnreachable(why, code, detail)


def _deferred(retry_after: timedelta) -> _OutcomeFactory:
    return lambda code, detail: Deferred(retry_after, code, detail)


_ERROR_OUTCOMES: Mapping[str, _OutcomeFactory] = {
    "131047": WindowClosed,  # more than 24 h since the person last wrote
    "130429": _rate_limited(RateScope.ACCOUNT, ACCOUNT_BACKOFF),  # number's throughput
    "80007": _rate_limited(RateScope.ACCOUNT, ACCOUNT_BACKOFF),  # WABA rate limit
    "4": _rate_limited(RateScope.ACCOUNT, ACCOUNT_BACKOFF),  # app rate limit
    "131056": _rate_limited(RateScope.RECIPIENT, PAIR_RATE_BACKOFF),  # pair rate limit
    "131026": _unreachable(Unreachability.UNDELIVERABLE),
    "131050": _unreachable(Unreachability.OPTED_OUT),  # stopped marketing in the app
    "131049": _deferred(MARKETING_CAP_BACKOFF),
    "131000": TransientFailure,  # something went wrong at Meta
    "131016": TransientFailure,  # service unavailable
    "190": PermanentFailure,  # access token expired or invalid: stop the account
    "100": PermanentFailure,  # invalid parameter
    "131030": PermanentFailure,  # recipient not on the test number's allowed list
    "131031": PermanentFailure,  # business account locked
    "131048": PermanentFailure,  # spam rate limit: halt the campaign
    "368": PermanentFailure,  # temporarily blocked for policy violations
    "130472": PermanentFailure,  # the person is in Meta's marketing experiment
    "132000": PermanentFailure,  # template parameter count mismatch
    "132001": PermanentFailure,  # template missing or not approved in that language
    "132005": PermanentFailure,  # template text too long after hydration
    "132007": PermanentFailure,  # template format violates policy
    "132012": PermanentFailure,  # template parameter format mismatch
    "132015": PermanentFailure,  # template paused
    "132016": PermanentFailure,  # template disabled
}


def is_known_error(code: str) -> bool:
    """Whether ``code`` has its own entry in the table (unknown codes fail permanently)."""
    return code in _ERROR_OUTCOMES


def outcome_for_error(code: str, detail: str) -> SendOutcome:
    """The neutral outcome of a WhatsApp error code, as sent in an answer or a status.

    ``detail`` is carried into the outcome for people to read. Codes outside the table
    are permanent failures: retrying what we do not understand could repeat a send that
    Meta refused for a reason that will not go away.
    """
    factory = _ERROR_OUTCOMES.get(code, PermanentFailure)
    return factory(code, detail)


def describe_error(message: str, details: str | None) -> str:
    """One line for people: Meta's message, then the longer ``error_data.details``."""
    if details and details != message:
        return f"{message}: {details}" if message else details
    return message
