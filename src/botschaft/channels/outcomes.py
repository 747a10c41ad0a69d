"""Neutral outcomes of a send: what the dispatcher and the inbox act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


@dataclass(frozen=True)
class Sent:
    provider_message_id: str


@dataclass(frozen=True)
class WindowClosed:
    """Free-form refused outside the customer-care window: a template is needed."""

    code: str
    detail: str


class RateScope(StrEnum):
    ACCOUNT = "account"  # slow the whole sender account down
    RECIPIENT = "recipient"  # only this recipient (WhatsApp pair rate limit)


@dataclass(frozen=True)
class RateLimited:
    retry_after: timedelta
    scope: RateScope
    code: str
    detail: str


class Unreachability(StrEnum):
    BLOCKED = "blocked"  # the person blocked the bot / account
    OPTED_OUT = "opted_out"  # the person stopped marketing inside the messenger
    UNDELIVERABLE = "undeliverable"


@dataclass(frozen=True)
class RecipientUnreachable:
    why: Unreachability
    code: str
    detail: str


@dataclass(frozen=True)
class Deferred:
    """Do not send to this person before ``retry_after`` (WhatsApp's per-user marketing cap)."""

    retry_after: timedelta
    code: str
    detail: str


@dataclass(frozen=True)
class TransientFailure:
    """Worth retrying with backoff (provider hiccup, network error, 5xx)."""

    code: str
    detail: str


@dataclass(frozen=True)
class PermanentFailure:
    code: str
    detail: str


SendOutcome = (
    Sent
    | WindowClosed
    | RateLimited
    | RecipientUnreachable
    | Deferred
    | TransientFailure
    | PermanentFailure
)
