"""The consent state machine: a state derived from ledger facts, never edited in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from botschaft.domain.consent import (
    NO_CONSENT,
    ConsentEventKind,
    ConsentFact,
    ConsentState,
    ConsentStatus,
    check_transition,
    derive_state,
)
from botschaft.domain.errors import ConsentConflict

K = ConsentEventKind
EXPIRY = timedelta(hours=48)
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def facts(*steps: tuple[ConsentEventKind, timedelta]) -> list[ConsentFact]:
    """Facts at T0 + offset, in the order given."""
    return [ConsentFact(kind, T0 + offset) for kind, offset in steps]


def state_after(*steps: tuple[ConsentEventKind, timedelta], now: timedelta) -> ConsentState:
    return derive_state(facts(*steps), T0 + now, EXPIRY)


# --- the path of a double opt-in ---------------------------------------------------------


def test_no_facts_is_no_consent():
    assert derive_state([], T0, EXPIRY) == NO_CONSENT
    assert NO_CONSENT.status is ConsentStatus.NONE


def test_request_makes_the_consent_pending_until_the_expiry():
    state = state_after((K.REQUESTED, HOUR), now=2 * HOUR)

    assert state == ConsentState(ConsentStatus.PENDING, T0 + HOUR, T0 + HOUR + EXPIRY)


def test_confirmation_within_expiry_makes_the_consent_active_from_the_confirmation():
    state = state_after((K.REQUESTED, HOUR), (K.CONFIRMED, 3 * HOUR), now=4 * HOUR)

    assert state == ConsentState(ConsentStatus.ACTIVE, T0 + 3 * HOUR)


def test_confirmation_one_minute_before_the_deadline_counts():
    state = state_after((K.REQUESTED, HOUR), (K.CONFIRMED, HOUR + EXPIRY - MINUTE), now=EXPIRY * 2)

    assert state.status is ConsentStatus.ACTIVE


def test_pending_request_past_expiry_is_expired_without_an_expired_row():
    state = state_after((K.REQUESTED, HOUR), now=HOUR + EXPIRY + MINUTE)

    assert state == ConsentState(ConsentStatus.EXPIRED, T0 + HOUR + EXPIRY)


def test_pending_request_expires_exactly_at_its_deadline():
    assert state_after((K.REQUESTED, HOUR), now=HOUR + EXPIRY).status is ConsentStatus.EXPIRED
    assert (
        state_after((K.REQUESTED, HOUR), now=HOUR + EXPIRY - MINUTE).status
        is ConsentStatus.PENDING
    )


def test_expired_row_from_the_scheduler_ends_a_pending_request():
    state = state_after((K.REQUESTED, HOUR), (K.EXPIRED, 2 * HOUR), now=3 * HOUR)

    assert state == ConsentState(ConsentStatus.EXPIRED, T0 + 2 * HOUR)


def test_confirmation_after_expiry_is_refused_by_check_transition():
    at_confirmation = state_after((K.REQUESTED, HOUR), now=HOUR + EXPIRY + MINUTE)

    with pytest.raises(ConsentConflict) as caught:
        check_transition(at_confirmation, K.CONFIRMED)

    assert "no open double opt-in request" in caught.value.message
    assert caught.value.code == "consent_conflict"


def test_confirmation_row_after_expiry_does_not_activate_the_consent():
    state = state_after(
        (K.REQUESTED, HOUR), (K.CONFIRMED, HOUR + EXPIRY + MINUTE), now=HOUR + EXPIRY + HOUR
    )

    assert state.status is ConsentStatus.EXPIRED


def test_new_request_restarts_the_expiry():
    state = state_after((K.REQUESTED, HOUR), (K.REQUESTED, 40 * HOUR), now=60 * HOUR)

    assert state == ConsentState(ConsentStatus.PENDING, T0 + 40 * HOUR, T0 + 40 * HOUR + EXPIRY)


def test_new_request_after_expiry_can_be_confirmed():
    state = state_after(
        (K.REQUESTED, HOUR), (K.REQUESTED, 100 * HOUR), (K.CONFIRMED, 101 * HOUR), now=102 * HOUR
    )

    assert state.status is ConsentStatus.ACTIVE


# --- direct opt-in, withdrawal, import ---------------------------------------------------


@pytest.mark.parametrize(
    "before",
    [
        (),
        ((K.REQUESTED, HOUR),),
        ((K.REQUESTED, -EXPIRY),),  # expired by then
        ((K.WITHDRAWN, HOUR),),
    ],
    ids=["from none", "from pending", "from expired", "from withdrawn"],
)
def test_grant_makes_the_consent_active(before):
    state = state_after(*before, (K.GRANTED, 2 * HOUR), now=3 * HOUR)

    assert state == ConsentState(ConsentStatus.ACTIVE, T0 + 2 * HOUR)


@pytest.mark.parametrize(
    "before",
    [
        (),
        ((K.REQUESTED, HOUR),),
        ((K.GRANTED, HOUR),),
        ((K.REQUESTED, HOUR), (K.CONFIRMED, 90 * MINUTE)),
        ((K.WITHDRAWN, HOUR),),
    ],
    ids=["from none", "from pending", "from granted", "from confirmed", "from withdrawn"],
)
def test_withdrawal_is_always_recorded_and_takes_effect_at_once(before):
    check_transition(state_after(*before, now=2 * HOUR), K.WITHDRAWN)

    state = state_after(*before, (K.WITHDRAWN, 2 * HOUR), now=2 * HOUR)

    assert state == ConsentState(ConsentStatus.WITHDRAWN, T0 + 2 * HOUR, objected=True)
    assert not state.allows_marketing


def test_import_activates_a_consent_nobody_withdrew():
    state = state_after((K.IMPORTED, HOUR), now=2 * HOUR)

    assert state == ConsentState(ConsentStatus.ACTIVE, T0 + HOUR)


def test_import_over_a_withdrawal_is_refused():
    withdrawn = state_after((K.GRANTED, HOUR), (K.WITHDRAWN, 2 * HOUR), now=3 * HOUR)

    with pytest.raises(ConsentConflict) as caught:
        check_transition(withdrawn, K.IMPORTED)

    assert "only their own new agreement" in caught.value.message


def test_import_row_over_a_withdrawal_does_not_resurrect_the_consent():
    state = state_after((K.WITHDRAWN, HOUR), (K.IMPORTED, 2 * HOUR), now=3 * HOUR)

    assert state == ConsentState(ConsentStatus.WITHDRAWN, T0 + HOUR, objected=True)


def test_new_request_after_a_withdrawal_is_allowed():
    withdrawn = state_after((K.WITHDRAWN, HOUR), now=2 * HOUR)
    check_transition(withdrawn, K.REQUESTED)

    state = state_after((K.WITHDRAWN, HOUR), (K.REQUESTED, 2 * HOUR), now=3 * HOUR)

    assert state.status is ConsentStatus.PENDING


def test_confirmed_request_after_a_withdrawal_activates_the_consent_again():
    state = state_after(
        (K.WITHDRAWN, HOUR), (K.REQUESTED, 2 * HOUR), (K.CONFIRMED, 3 * HOUR), now=4 * HOUR
    )

    assert state.status is ConsentStatus.ACTIVE


@pytest.mark.parametrize("expired_by", ["deadline", "expired row"])
def test_import_after_an_expired_request_that_followed_a_withdrawal_is_refused(expired_by):
    steps = [(K.WITHDRAWN, HOUR), (K.REQUESTED, 2 * HOUR)]
    if expired_by == "expired row":
        steps.append((K.EXPIRED, 3 * HOUR))
    steps.append((K.IMPORTED, 2 * HOUR + EXPIRY + HOUR))

    state = state_after(*steps, now=2 * HOUR + EXPIRY + 2 * HOUR)

    assert state.status is not ConsentStatus.ACTIVE


@pytest.mark.parametrize(
    "status", [ConsentStatus.NONE, ConsentStatus.PENDING, ConsentStatus.WITHDRAWN,
               ConsentStatus.EXPIRED],
)
def test_only_an_active_consent_allows_marketing(status):
    assert not ConsentState(status, T0).allows_marketing
    assert ConsentState(ConsentStatus.ACTIVE, T0).allows_marketing


# --- the transition table ----------------------------------------------------------------

# Facts that bring the consent into each status by T0 + 2 h.
INTO = {
    ConsentStatus.NONE: (),
    ConsentStatus.PENDING: ((K.REQUESTED, HOUR),),
    ConsentStatus.ACTIVE: ((K.GRANTED, HOUR),),
    ConsentStatus.WITHDRAWN: ((K.GRANTED, 30 * MINUTE), (K.WITHDRAWN, HOUR)),
    ConsentStatus.EXPIRED: ((K.REQUESTED, -EXPIRY),),
}

ALLOWED = {
    ConsentStatus.NONE: {K.REQUESTED, K.GRANTED, K.IMPORTED, K.WITHDRAWN},
    ConsentStatus.PENDING: {K.REQUESTED, K.CONFIRMED, K.GRANTED, K.WITHDRAWN, K.EXPIRED},
    ConsentStatus.ACTIVE: {K.WITHDRAWN, K.PAUSED, K.LIMITED},
    ConsentStatus.WITHDRAWN: {K.REQUESTED, K.GRANTED, K.WITHDRAWN},
    ConsentStatus.EXPIRED: {K.REQUESTED, K.GRANTED, K.IMPORTED, K.WITHDRAWN},
}

TRANSITIONS = [(status, kind) for status in ConsentStatus for kind in ConsentEventKind]


def _id(pair):
    return f"{pair[1].value} in {pair[0].value}"


def test_the_setup_reaches_each_status():
    for status, steps in INTO.items():
        assert state_after(*steps, now=2 * HOUR).status is status


@pytest.mark.parametrize(
    ("status", "kind"), [t for t in TRANSITIONS if t[1] in ALLOWED[t[0]]], ids=map(_id, [
        t for t in TRANSITIONS if t[1] in ALLOWED[t[0]]])
)
def test_check_transition_admits_the_allowed_fact(status, kind):
    check_transition(state_after(*INTO[status], now=2 * HOUR), kind)


REFUSED = [t for t in TRANSITIONS if t[1] not in ALLOWED[t[0]]]


@pytest.mark.parametrize(("status", "kind"), REFUSED, ids=map(_id, REFUSED))
def test_check_transition_refuses_the_fact_with_a_conflict_naming_it(status, kind):
    with pytest.raises(ConsentConflict) as caught:
        check_transition(state_after(*INTO[status], now=2 * HOUR), kind)

    assert f"'{kind.value}'" in caught.value.message
    assert f"state: {status.value}" in caught.value.message


@pytest.mark.parametrize(("status", "kind"), REFUSED, ids=map(_id, REFUSED))
def test_row_the_rules_would_refuse_changes_nothing_when_folded(status, kind):
    now = 3 * HOUR
    without = state_after(*INTO[status], now=now)

    with_row = state_after(*INTO[status], (kind, 2 * HOUR), now=now)

    assert with_row == without


# --- properties over random ledgers ------------------------------------------------------

GAPS = st.integers(min_value=1, max_value=4 * 24 * 60).map(lambda m: timedelta(minutes=m))


def ledgers(kinds):
    """Random facts with strictly increasing times, and a later ``now``."""
    return st.tuples(st.lists(st.tuples(st.sampled_from(kinds), GAPS), max_size=25), GAPS).map(
        _timeline
    )


def _timeline(drawn):
    steps, tail = drawn
    at, out = T0, []
    for kind, gap in steps:
        at += gap
        out.append(ConsentFact(kind, at))
    return out, at + tail


def may_be_active(history: list[ConsentFact], now: datetime) -> bool:
    """The oracle: may a consent be active given these facts?

    Only an agreement after the last withdrawal counts: a grant, or a confirmation that came
    within the expiry of the latest request before it (after the withdrawal, with no expired
    row in between). An import counts only where nobody ever withdrew.
    """
    withdrawals = [i for i, f in enumerate(history) if f.kind is K.WITHDRAWN]
    start = withdrawals[-1] + 1 if withdrawals else 0
    latest_request: ConsentFact | None = None
    for fact in history[start:]:
        if fact.occurred_at > now:
            break
        if fact.kind is K.GRANTED:
            return True
        if fact.kind is K.IMPORTED and not withdrawals:
            return True
        if fact.kind is K.REQUESTED:
            latest_request = fact
        elif fact.kind is K.EXPIRED:
            latest_request = None
        elif (
            fact.kind is K.CONFIRMED
            and latest_request is not None
            and fact.occurred_at < latest_request.occurred_at + EXPIRY
        ):
            return True
    return False


WITHOUT_IMPORTS = [k for k in ConsentEventKind if k is not K.IMPORTED]


@settings(max_examples=400, deadline=None)
@given(ledgers(WITHOUT_IMPORTS))
def test_consent_is_never_active_without_an_agreement_after_the_last_withdrawal(ledger):
    history, now = ledger

    state = derive_state(history, now, EXPIRY)

    if state.status is ConsentStatus.ACTIVE:
        assert may_be_active(history, now)


WITHDRAWN_REQUESTED_EXPIRED_IMPORTED = (
    [
        ConsentFact(K.WITHDRAWN, T0),
        ConsentFact(K.REQUESTED, T0 + HOUR),
        ConsentFact(K.IMPORTED, T0 + HOUR + EXPIRY + HOUR),
    ],
    T0 + HOUR + EXPIRY + 2 * HOUR,
)


@settings(max_examples=400, deadline=None)
@example(WITHDRAWN_REQUESTED_EXPIRED_IMPORTED)
@given(ledgers(list(ConsentEventKind)))
def test_consent_is_never_active_without_an_agreement_even_with_imports(ledger):
    history, now = ledger

    state = derive_state(history, now, EXPIRY)

    if state.status is ConsentStatus.ACTIVE:
        assert may_be_active(history, now)


@settings(max_examples=200, deadline=None)
@given(ledgers(list(ConsentEventKind)))
def test_a_grant_always_leaves_the_consent_active(ledger):
    history, now = ledger
    grant = ConsentFact(K.GRANTED, now)

    assert derive_state([*history, grant], now, EXPIRY).status is ConsentStatus.ACTIVE


@settings(max_examples=200, deadline=None)
@given(ledgers(list(ConsentEventKind)))
def test_a_withdrawal_always_leaves_the_consent_withdrawn(ledger):
    history, now = ledger
    withdrawal = ConsentFact(K.WITHDRAWN, now)

    state = derive_state([*history, withdrawal], now + EXPIRY * 3, EXPIRY)

    assert state == ConsentState(ConsentStatus.WITHDRAWN, now, objected=True)


def test_a_pause_keeps_the_subscription_but_marks_it_paused_until_its_end() -> None:
    facts = [
        ConsentFact(ConsentEventKind.GRANTED, T0),
        ConsentFact(ConsentEventKind.PAUSED, T0 + HOUR, until=T0 + 14 * 24 * HOUR),
    ]
    state = derive_state(facts, T0 + 2 * HOUR, EXPIRY)
    assert state.status is ConsentStatus.ACTIVE
    assert state.paused_at(T0 + 2 * HOUR)
    assert not state.paused_at(T0 + 15 * 24 * HOUR)


def test_a_limit_is_remembered_and_a_withdrawal_clears_it() -> None:
    limited = [
        ConsentFact(ConsentEventKind.GRANTED, T0),
        ConsentFact(ConsentEventKind.LIMITED, T0 + HOUR, per_period=1),
    ]
    assert derive_state(limited, T0 + 2 * HOUR, EXPIRY).max_per_period == 1
    withdrawn = [*limited, ConsentFact(ConsentEventKind.WITHDRAWN, T0 + 3 * HOUR)]
    assert derive_state(withdrawn, T0 + 4 * HOUR, EXPIRY).max_per_period is None


@pytest.mark.parametrize("kind", [ConsentEventKind.PAUSED, ConsentEventKind.LIMITED])
def test_only_an_active_subscription_can_be_paused_or_limited(kind: ConsentEventKind) -> None:
    with pytest.raises(ConsentConflict, match="only an active subscription"):
        check_transition(derive_state([], T0, EXPIRY), kind)
