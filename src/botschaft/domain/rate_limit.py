"""Sending rates per sender account: a token bucket that providers' "slow down" answers bend.

Pure: every method takes ``now`` in seconds on a monotonic scale of the caller's choosing.
A provider publishes its limits (WhatsApp 80 to 1,000 messages/s per number, Telegram about
30/s per bot, Messenger 300 calls/s per page), but its answers are the real contract: a
429-like answer halves the rate and pauses the account for the time the provider names;
quiet sending then wins the rate back step by step up to the configured ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# After a slow-down the rate grows by this share of the ceiling per quiet second.
RECOVERY_PER_SECOND = 0.05
# Never slow an account below this share of its ceiling (a single 429 must not stall it).
FLOOR_SHARE = 0.05


class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``; one token is one message."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now

    def take(self, now: float, wanted: int = 1) -> int:
        """Take up to ``wanted`` whole tokens now; returns how many were taken."""
        self._refill(now)
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted

    def wait(self, now: float, wanted: int = 1) -> float:
        """Seconds until ``wanted`` tokens (at most ``burst``) will be there; 0 if they are."""
        self._refill(now)
        missing = min(wanted, self.burst) - self._tokens
        return 0.0 if missing <= 0 else missing / self.rate

    def drain(self, now: float) -> None:
        """Empty the bucket: nothing more goes before it refills."""
        self._refill(now)
        self._tokens = 0.0


@dataclass(frozen=True)
class AccountLimits:
    """What one sender account may do: messages per second, burst, concurrent requests."""

    per_second: float
    concurrency: int
    burst: float | None = None  # default: one second's worth

    @property
    def effective_burst(self) -> float:
        return max(1.0, self.burst if self.burst is not None else self.per_second)


class AccountThrottle:
    """The rate one sender account sends at now, bent by the provider's answers."""

    def __init__(self, limits: AccountLimits, now: float) -> None:
        self.limits = limits
        self.bucket = TokenBucket(limits.per_second, limits.effective_burst, now)
        self.paused_until = now
        self._quiet_since = now

    def take(self, now: float, wanted: int) -> int:
        """Messages that may start now (0 while paused); grows the rate back after a slow-down."""
        if now < self.paused_until:
            return 0
        self._recover(now)
        return self.bucket.take(now, wanted)

    def wait(self, now: float, wanted: int = 1) -> float:
        """Seconds until at least one of ``wanted`` messages may start."""
        if now < self.paused_until:
            return self.paused_until - now
        return self.bucket.wait(now, min(wanted, 1))

    def slow_down(self, now: float, retry_after: timedelta) -> None:
        """The provider said "too many": halve the rate and pause for ``retry_after``."""
        floor = self.limits.per_second * FLOOR_SHARE
        self.bucket.rate = max(floor, self.bucket.rate / 2)
        self.bucket.drain(now)
        self.paused_until = max(self.paused_until, now + retry_after.total_seconds())
        self._quiet_since = self.paused_until

    def _recover(self, now: float) -> None:
        ceiling = self.limits.per_second
        if self.bucket.rate >= ceiling or now <= self._quiet_since:
            return
        step = ceiling * RECOVERY_PER_SECOND * (now - self._quiet_since)
        self.bucket.rate = min(ceiling, self.bucket.rate + step)
        self._quiet_since = now


def backoff(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """The wait before retry number ``attempt`` (1, 2, …): ``base`` doubled each time, capped."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    return min(cap, base * (1 << (attempt - 1)))


def pair_backoff(attempt: int, first: timedelta) -> timedelta:
    """WhatsApp's pair rate limit (131056): wait 4^X times the first step, X = 0, 1, …"""
    return first * (1 << (2 * max(0, attempt - 1)))


def allowance_today(tier: int | None, reached_last_24h: int) -> int | None:
    """How many more people an account may reach in its moving 24 hours; None: no tier."""
    if tier is None:
        return None
    return max(0, tier - reached_last_24h)
