"""Messenger Send API errors as neutral send outcomes: the one table.

Graph errors arrive as ``{"error": {message, type, code, error_subcode, fbtrace_id}}``. The
table keys on ``(code, error_subcode)`` and falls back to ``(code, None)``; the HTTP status
only decides for answers that carry no Graph error at all.
Sources: developers.facebook.com/docs/messenger-platform/error-codes,
developers.facebook.com/documentation/business-messaging/messenger-platform/overview/rate-limiting
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from botschaft.channels.outcomes import (
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    SendOutcome,
    TransientFailure,
    Unreachability,
    WindowClosed,
)

__all__ = ["APP_RATE_BACKOFF", "PAGE_RATE_BACKOFF", "outcome_for_error"]

# Code 4 is the app's call budget, counted over a rolling hour: seconds of waiting rarely
# free it, minutes do.
APP_RATE_BACKOFF = timedelta(minutes=5)
# Code 613 is the Page's send rate (300 text calls/s, 10/s for audio and video): a short
# pause lets the window slide on. The dispatcher grows either pause if limits repeat.
PAGE_RATE_BACKOFF = timedelta(seconds=30)

_OutcomeFactory = Callable[[str, str], SendOutcome]


def _rate_limited(retry_after: timedelta) -> _OutcomeFactory:
    return lambda code, detail: RateLimited(retry_after, RateScope.ACCOUNT, code, detail)


def _unreachable(why: Unreachability) -> _OutcomeFactory:
    return lambda code, detail: RecipientUnreachable(why, code, detail)


_ERROR_OUTCOMES: Mapping[tuple[int, int | None], _OutcomeFactory] = {
    # More than 24 h since the person's last action: only a HUMAN_AGENT reply may still go.
    (10, 2018278): WindowClosed,
    (4, None): _rate_limited(APP_RATE_BACKOFF),
    (613, None): _rate_limited(PAGE_RATE_BACKOFF),
    # The Page is restricted from messaging: stop the account and tell an admin.
    (10, 1893063): PermanentFailure,
    # "This person isn't available right now" (uncertain which of the two Meta sends).
    (551, None): _unreachable(Unreachability.UNDELIVERABLE),
    (200, 1545041): _unreachable(Unreachability.UNDELIVERABLE),
    # "No matching user found": the id is not a person of this Page (or no longer is).
    (100, 2018001): _unreachable(Unreachability.UNDELIVERABLE),
    (190, None): PermanentFailure,  # the Page token expired or was revoked
    (100, None): PermanentFailure,  # invalid parameter
    (2, None): TransientFailure,  # service temporarily unavailable
    (1200, None): TransientFailure,  # temporary send message failure
}


def outcome_for_error(http_status: int, error: Mapping[str, Any]) -> SendOutcome:
    """The neutral outcome of one Graph ``error`` object from a Send API answer.

    Codes the table does not know fail permanently with Meta's code and message, unless
    Meta flags them ``is_transient`` or answered with a 5xx.
    """
    code = _integer(error.get("code"))
    subcode = _integer(error.get("error_subcode"))
    message = error.get("message")
    detail = message if isinstance(message, str) and message else "Messenger refused the send."
    if code is None:
        neutral_code = "unknown"
    else:
        neutral_code = f"{code}/{subcode}" if subcode is not None else str(code)
        factory = _ERROR_OUTCOMES.get((code, subcode)) or _ERROR_OUTCOMES.get((code, None))
        if factory is not None:
            return factory(neutral_code, detail)
    if error.get("is_transient") is True or http_status >= 500:
        return TransientFailure(neutral_code, detail)
    return PermanentFailure(neutral_code, detail)


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
