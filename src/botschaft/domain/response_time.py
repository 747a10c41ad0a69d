"""The response-time badge: how fast the business typically answers, in one honest phrase.

Measured per request: from a person's message that opened or reopened a conversation to the
first reply an agent (a person, not the bot or an auto-reply) wrote after it, over the last
``PERIOD``.

The badge is the bucket of the **75th percentile**, not the median. The badge is a promise
to the next person who writes; with the median, half of them wait longer than it says,
while the 75th percentile holds for three out of four and is still not thrown by a few
weekends. Requests left unanswered for longer than a day count as slower than a day
(leaving them out would flatter the badge exactly when service is worst); younger ones are
still running and are left out. Fewer than ``MIN_SAMPLES`` measured requests give no badge:
two quick answers say nothing. A 75th percentile beyond a day gives no badge either: there
is nothing good to promise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

PERIOD = timedelta(days=30)
MIN_SAMPLES = 5
DAY = timedelta(days=1)


class ResponseBadge(StrEnum):
    INSTANTLY = "instantly"
    MINUTES = "minutes"
    HOUR = "hour"
    FEW_HOURS = "few_hours"
    DAY = "day"


# The upper bound of each bucket, fastest first.
BUCKETS: tuple[tuple[ResponseBadge, timedelta], ...] = (
    (ResponseBadge.INSTANTLY, timedelta(minutes=2)),
    (ResponseBadge.MINUTES, timedelta(minutes=15)),
    (ResponseBadge.HOUR, timedelta(hours=1)),
    (ResponseBadge.FEW_HOURS, timedelta(hours=6)),
    (ResponseBadge.DAY, DAY),
)


@dataclass(frozen=True)
class Request:
    """One opened or reopened conversation and when an agent first answered it."""

    opened_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class Measurement:
    badge: ResponseBadge | None
    p75: timedelta | None  # None: too few samples, or slower than a day
    samples: int


def response_times(requests: Sequence[Request], now: datetime) -> list[timedelta | None]:
    """The measured times; None stands for "unanswered for more than a day"."""
    measured: list[timedelta | None] = []
    for request in requests:
        if request.answered_at is not None:
            measured.append(max(request.answered_at - request.opened_at, timedelta(0)))
        elif now - request.opened_at > DAY:
            measured.append(None)
    return measured


def measure(requests: Sequence[Request], now: datetime) -> Measurement:
    """The badge for the requests of the last ``PERIOD`` (the caller selects them)."""
    times = response_times(requests, now)
    if len(times) < MIN_SAMPLES:
        return Measurement(None, None, len(times))
    # Unanswered ones sort last: they are slower than any answer.
    ordered = sorted(times, key=lambda t: (t is None, t or timedelta(0)))
    p75 = ordered[math.ceil(0.75 * len(ordered)) - 1]  # nearest-rank percentile
    if p75 is None:
        return Measurement(None, None, len(times))
    return Measurement(badge_for(p75), p75, len(times))


def badge_for(p75: timedelta) -> ResponseBadge | None:
    return next((badge for badge, bound in BUCKETS if p75 <= bound), None)
