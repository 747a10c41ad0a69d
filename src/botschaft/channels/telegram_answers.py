"""Bot API answers read into one shape, and failed answers mapped to neutral outcomes.

The mapping is one table, keyed on ``error_code`` plus the start of ``description`` as
Telegram advises (core.telegram.org/bots/api#making-requests); the texts can change, so
they are matched case-insensitively on a prefix and anything unknown fails permanently
rather than being retried forever.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from botschaft.channels.json_body import json_object
from botschaft.channels.outcomes import (
    PermanentFailure,
    RateLimited,
    RateScope,
    RecipientUnreachable,
    SendOutcome,
    TransientFailure,
    Unreachability,
)


@dataclass(frozen=True)
class ApiAnswer:
    """One answer of the Bot API, successful or not."""

    ok: bool
    result: object
    error_code: int
    description: str
    retry_after: int | None = None


def read_answer(status: int, body: bytes) -> ApiAnswer:
    """Read Telegram's ``{"ok": …}`` envelope; a body that is not one (a proxy's HTML error
    page, say) becomes a failed answer carrying the HTTP status."""
    envelope = json_object(body)
    if envelope is None or not isinstance(envelope.get("ok"), bool):
        return ApiAnswer(False, None, status, f"HTTP {status} without a Bot API answer")
    if envelope["ok"]:
        return ApiAnswer(True, envelope.get("result"), 0, "")
    code = envelope.get("error_code")
    description = envelope.get("description")
    parameters = envelope.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return ApiAnswer(
        ok=False,
        result=None,
        error_code=code if isinstance(code, int) else status,
        description=description if isinstance(description, str) else f"HTTP {status}",
        retry_after=retry_after if isinstance(retry_after, int) else None,
    )


def failure_outcome(answer: ApiAnswer) -> SendOutcome:
    """The neutral outcome of a failed answer, from the first matching row of ``_RULES``."""
    description = answer.description.lower()
    for codes, prefix, outcome in _RULES:
        if answer.error_code in codes and description.startswith(prefix):
            return outcome(answer)
    return _permanent(answer)


_RETRY_AFTER_TEXT = re.compile(r"retry after (\d+)")


def _rate_limited(answer: ApiAnswer) -> SendOutcome:
    # Telegram asks for exactly this wait; waits above 1,700 s have been seen, so no cap.
    seconds = answer.retry_after
    if seconds is None and (found := _RETRY_AFTER_TEXT.search(answer.description)):
        seconds = int(found.group(1))
    if seconds is None:
        # Without a number any wait would be a guess; the dispatcher's backoff guesses better.
        return _transient(answer)
    return RateLimited(
        retry_after=timedelta(seconds=seconds),
        scope=RateScope.ACCOUNT,
        code=str(answer.error_code),
        detail=answer.description,
    )


def _unreachable(why: Unreachability) -> Callable[[ApiAnswer], SendOutcome]:
    def outcome(answer: ApiAnswer) -> SendOutcome:
        return RecipientUnreachable(why, str(answer.error_code), answer.description)

    return outcome


def _transient(answer: ApiAnswer) -> SendOutcome:
    return TransientFailure(str(answer.error_code), answer.description)


def _permanent(answer: ApiAnswer) -> SendOutcome:
    return PermanentFailure(str(answer.error_code), answer.description)


def _only(code: int) -> range:
    return range(code, code + 1)


_BLOCKED = _unreachable(Unreachability.BLOCKED)
_UNDELIVERABLE = _unreachable(Unreachability.UNDELIVERABLE)

# (error codes, lower-case description prefix, outcome); first match wins.
_RULES: tuple[tuple[range, str, Callable[[ApiAnswer], SendOutcome]], ...] = (
    (_only(429), "", _rate_limited),
    (_only(403), "forbidden: bot was blocked by the user", _BLOCKED),
    # A deleted account cannot be written to again, like a block.
    (_only(403), "forbidden: user is deactivated", _BLOCKED),
    (_only(403), "forbidden: bot was kicked", _BLOCKED),
    # The person never pressed Start: there is no chat to write into.
    (_only(403), "forbidden: bot can't initiate conversation", _UNDELIVERABLE),
    (_only(400), "bad request: chat not found", _UNDELIVERABLE),
    (range(500, 600), "", _transient),
)
