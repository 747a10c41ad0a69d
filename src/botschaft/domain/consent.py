"""The consent state machine: the state of (contact, channel, purpose) derived from the ledger.

The ledger is append-only; a state is never stored or edited, only computed from the facts
in order. ``check_transition`` says which new fact the current state admits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from botschaft.domain.errors import ConsentConflict

SERVICE = "service"
MARKETING = "marketing"


class ConsentEventKind(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    IMPORTED = "imported"
    # The person's own choices on the preference page, while subscribed:
    PAUSED = "paused"  # no marketing until ``until`` (a pause ending now resumes at once)
    LIMITED = "limited"  # at most ``per_period`` marketing messages per cap period


class ConsentSource(StrEnum):
    WEB_FORM = "web_form"
    KEYWORD = "keyword"
    QR = "qr"
    IMPORT = "import"
    API = "api"
    AGENT = "agent"
    PROVIDER = "provider"
    SYSTEM = "system"


class ConsentStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ConsentFact:
    kind: ConsentEventKind
    occurred_at: datetime
    until: datetime | None = None  # PAUSED
    per_period: int | None = None  # LIMITED


@dataclass(frozen=True)
class ConsentState:
    status: ConsentStatus
    since: datetime | None = None
    pending_until: datetime | None = None
    # The person withdrew and has not agreed since (a request alone is no agreement): no
    # import may subscribe them, whatever became of later requests.
    objected: bool = False
    paused_until: datetime | None = None
    max_per_period: int | None = None

    def paused_at(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until

    @property
    def allows_marketing(self) -> bool:
        return self.status is ConsentStatus.ACTIVE


NO_CONSENT = ConsentState(ConsentStatus.NONE)

# Which facts each state admits. A withdrawal is always recorded, even without a consent:
# it is the person's objection, and it stops a later import from resurrecting anything.
_ADMITS: dict[ConsentStatus, frozenset[ConsentEventKind]] = {
    ConsentStatus.NONE: frozenset(
        {ConsentEventKind.REQUESTED, ConsentEventKind.GRANTED, ConsentEventKind.IMPORTED,
         ConsentEventKind.WITHDRAWN}
    ),
    ConsentStatus.PENDING: frozenset(
        {ConsentEventKind.REQUESTED, ConsentEventKind.CONFIRMED, ConsentEventKind.GRANTED,
         ConsentEventKind.WITHDRAWN, ConsentEventKind.EXPIRED}
    ),
    ConsentStatus.ACTIVE: frozenset(
        {ConsentEventKind.WITHDRAWN, ConsentEventKind.PAUSED, ConsentEventKind.LIMITED}
    ),
    # Only the person's own new agreement ends a withdrawal; an import never does.
    ConsentStatus.WITHDRAWN: frozenset(
        {ConsentEventKind.REQUESTED, ConsentEventKind.GRANTED, ConsentEventKind.WITHDRAWN}
    ),
    ConsentStatus.EXPIRED: frozenset(
        {ConsentEventKind.REQUESTED, ConsentEventKind.GRANTED, ConsentEventKind.IMPORTED,
         ConsentEventKind.WITHDRAWN}
    ),
}


def derive_state(
    facts: Iterable[ConsentFact], now: datetime, expiry: timedelta
) -> ConsentState:
    """Fold the facts (in ledger order) into the state at ``now``.

    A double opt-in that was not confirmed within ``expiry`` counts as expired from its
    deadline on, whether or not the scheduler has written its ``expired`` row yet.
    """
    state = NO_CONSENT
    for fact in facts:
        state = _settle(state, fact.occurred_at)
        state = _apply(state, fact, expiry)
    return _settle(state, now)


def check_transition(state: ConsentState, kind: ConsentEventKind) -> None:
    """Raise ``ConsentConflict`` when ``kind`` may not follow ``state``."""
    if not _admits(state, kind):
        status = ConsentStatus.WITHDRAWN if state.objected else state.status
        raise ConsentConflict(_conflict_message(status, kind))


def _admits(state: ConsentState, kind: ConsentEventKind) -> bool:
    if kind is ConsentEventKind.IMPORTED and state.objected:
        return False
    return kind in _ADMITS[state.status]


def _apply(state: ConsentState, fact: ConsentFact, expiry: timedelta) -> ConsentState:
    at = fact.occurred_at
    if not _admits(state, fact.kind):
        return state  # a row the rules would have refused changes nothing
    match fact.kind:
        case ConsentEventKind.REQUESTED:
            return ConsentState(ConsentStatus.PENDING, at, at + expiry, state.objected)
        case ConsentEventKind.CONFIRMED | ConsentEventKind.GRANTED | ConsentEventKind.IMPORTED:
            return ConsentState(ConsentStatus.ACTIVE, at)
        case ConsentEventKind.WITHDRAWN:
            return ConsentState(ConsentStatus.WITHDRAWN, at, objected=True)
        case ConsentEventKind.EXPIRED:
            return ConsentState(ConsentStatus.EXPIRED, at, objected=state.objected)
        case ConsentEventKind.PAUSED:
            return replace(state, paused_until=fact.until or at)
        case ConsentEventKind.LIMITED:
            return replace(state, max_per_period=fact.per_period)


def _settle(state: ConsentState, now: datetime) -> ConsentState:
    if (
        state.status is ConsentStatus.PENDING
        and state.pending_until is not None
        and now >= state.pending_until
    ):
        return ConsentState(ConsentStatus.EXPIRED, state.pending_until, objected=state.objected)
    return state


def _conflict_message(status: ConsentStatus, kind: ConsentEventKind) -> str:
    reasons = {
        ConsentEventKind.CONFIRMED: "there is no open double opt-in request to confirm",
        ConsentEventKind.EXPIRED: "there is no open double opt-in request to expire",
        ConsentEventKind.PAUSED: "only an active subscription can be paused",
        ConsentEventKind.LIMITED: "only an active subscription can be limited",
        ConsentEventKind.IMPORTED: (
            "the person withdrew; only their own new agreement can subscribe them again"
            if status is ConsentStatus.WITHDRAWN
            else "the consent is already active"
        ),
    }
    reason = reasons.get(kind, f"the consent is already {status.value}")
    return f"Cannot record '{kind.value}' now: {reason} (state: {status.value})."
