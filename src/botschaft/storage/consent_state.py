"""Consent states of many subjects at once, derived from the ledger in SQL.

``domain/consent.derive_state`` folds one subject's facts in order. For a whole audience the
same answer comes from one fact per subject: the last row that changes the status
(``requested``, ``confirmed``, ``granted``, ``imported``, ``withdrawn``, ``expired``), picked
with a window function over ``seq``. This holds because every row is checked with
``check_transition`` before it is appended, so no row the fold would ignore is in the ledger.
``paused`` and ``limited`` rows only qualify an active consent; the few subjects that have
them are folded exactly, in Python, by the caller.

Statuses that need the clock (a pending request expires ``expiry`` after it was made) are
settled by the caller, which knows ``now``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Subquery, func, select

from botschaft.domain.consent import ConsentEventKind
from botschaft.storage.models import ConsentEvent

STATUS_KINDS = tuple(
    k.value
    for k in (
        ConsentEventKind.REQUESTED, ConsentEventKind.CONFIRMED, ConsentEventKind.GRANTED,
        ConsentEventKind.IMPORTED, ConsentEventKind.WITHDRAWN, ConsentEventKind.EXPIRED,
    )
)
ACTIVE_KINDS = (
    ConsentEventKind.CONFIRMED.value, ConsentEventKind.GRANTED.value,
    ConsentEventKind.IMPORTED.value,
)
QUALIFYING_KINDS = (ConsentEventKind.PAUSED.value, ConsentEventKind.LIMITED.value)


def latest_status(purpose: str, channels: tuple[str, ...] = ()) -> Subquery:
    """Per (contact, channel) with a ``purpose`` row: the last status row's kind and time.

    Columns: ``contact_id``, ``channel``, ``kind``, ``occurred_at``. ``channels`` limits the
    ledger rows read; empty means every channel.
    """
    ranked = select(
        ConsentEvent.contact_id,
        ConsentEvent.channel,
        ConsentEvent.kind,
        ConsentEvent.occurred_at,
        func.row_number()
        .over(
            partition_by=(ConsentEvent.contact_id, ConsentEvent.channel),
            order_by=ConsentEvent.seq.desc(),
        )
        .label("rank"),
    ).where(ConsentEvent.purpose == purpose, ConsentEvent.kind.in_(STATUS_KINDS))
    if channels:
        ranked = ranked.where(ConsentEvent.channel.in_(channels))
    inner = ranked.subquery("ranked")
    return (
        select(inner.c.contact_id, inner.c.channel, inner.c.kind, inner.c.occurred_at)
        .where(inner.c.rank == 1)
        .subquery(f"status_{purpose}")
    )


def last_withdrawal(channel: str) -> Subquery:
    """Per contact: when they last withdrew anything on ``channel`` (the gate's stopped_at)."""
    return (
        select(
            ConsentEvent.contact_id,
            func.max(ConsentEvent.occurred_at).label("stopped_at"),
        )
        .where(
            ConsentEvent.channel == channel,
            ConsentEvent.kind == ConsentEventKind.WITHDRAWN.value,
        )
        .group_by(ConsentEvent.contact_id)
        .subquery("stopped")
    )


def qualified_subjects(channel: str, purpose: str) -> Select[Any]:
    """Contacts with ``paused`` or ``limited`` rows for (channel, purpose): fold them exactly."""
    return (
        select(ConsentEvent.contact_id)
        .where(
            ConsentEvent.channel == channel,
            ConsentEvent.purpose == purpose,
            ConsentEvent.kind.in_(QUALIFYING_KINDS),
        )
        .distinct()
    )
