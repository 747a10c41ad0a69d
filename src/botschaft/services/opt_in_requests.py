"""Opt-in requests waiting for the person's word in the chat: finding, counting, settling.

A request is open until the person answers it (redeemed), the double opt-in expiry passes
(expired) or they write STOP (cancelled). Expiry is decided by time when a request is read,
the way ``derive_state`` treats the ledger; the row is marked when we come across it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.signup import RequestKind, RequestState, new_code, request_open
from botschaft.services.context import Context
from botschaft.storage.models import LedgerHead
from botschaft.storage.signup import OptInRequest


def serialise_consent_writes(session: Session) -> None:
    """Queue behind every other consent write until this transaction ends.

    Checking a limit and then writing is only safe when nobody else checks in between. The
    ledger's chain head is the lock every consent write takes anyway (SQLite holds its
    writer lock from BEGIN already), so taking it first makes check-then-write atomic.
    """
    session.execute(select(LedgerHead.id).where(LedgerHead.id == 1).with_for_update())


def submissions_from(session: Session, ip: str, since: datetime) -> int:
    """How many requests (of any page) came from ``ip`` after ``since``."""
    return session.scalar(
        select(func.count(OptInRequest.id)).where(
            OptInRequest.ip == ip, OptInRequest.created_at > since
        )
    ) or 0


def add_request(
    session: Session,
    ctx: Context,
    *,
    kind: RequestKind,
    purpose: str,
    consent_text_id: int,
    language: str,
    page_id: int | None = None,
    channel: ChannelKind | None = None,
    contact_id: int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> OptInRequest:
    """Store a new open request with a fresh code."""
    row = OptInRequest(
        code=new_code(), kind=kind.value, page_id=page_id,
        channel=channel.value if channel else None, purpose=purpose,
        consent_text_id=consent_text_id, language=language, ip=ip, user_agent=user_agent,
        created_at=ctx.clock.now(), contact_id=contact_id, state=RequestState.OPEN.value,
    )
    session.add(row)
    session.flush()
    return row


def open_request_by_code(session: Session, ctx: Context, code: str) -> OptInRequest | None:
    """The open, unexpired request with ``code``; an overdue one is marked expired."""
    row = session.scalar(select(OptInRequest).where(OptInRequest.code == code))
    if row is None:
        return None
    return row if _still_open(ctx, row) else None


def open_requests_of(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind,
    kind: RequestKind | None = None,
) -> list[OptInRequest]:
    """The person's open, unexpired requests on ``channel``, oldest first."""
    query = select(OptInRequest).where(
        OptInRequest.contact_id == contact_id,
        OptInRequest.channel == channel.value,
        OptInRequest.state == RequestState.OPEN.value,
    )
    if kind is not None:
        query = query.where(OptInRequest.kind == kind.value)
    rows = session.scalars(query.order_by(OptInRequest.id)).all()
    return [row for row in rows if _still_open(ctx, row)]


def settle(
    ctx: Context, rows: Sequence[OptInRequest], state: RequestState, *,
    contact_id: int | None = None, channel: ChannelKind | None = None,
) -> None:
    """Close ``rows`` with ``state``; a redeemed request learns who answered it, and where."""
    now = ctx.clock.now()
    for row in rows:
        row.state, row.settled_at = state.value, now
        if contact_id is not None:
            row.contact_id = contact_id
        if channel is not None:
            row.channel = channel.value


def _still_open(ctx: Context, row: OptInRequest) -> bool:
    now = ctx.clock.now()
    if request_open(row.state, row.created_at, now, ctx.settings.double_opt_in_expiry):
        return True
    if row.state == RequestState.OPEN.value:
        row.state, row.settled_at = RequestState.EXPIRED.value, now
    return False


def expire_overdue_agreements(ctx: Context) -> int:
    """Mark open requests past the double opt-in expiry as expired; returns how many.

    Reading a request expires it as well; this job keeps the table truthful for requests
    nobody reads again (a QR code scanned but never used).
    """
    now = ctx.clock.now()
    with ctx.db.write() as session:
        result = session.execute(
            update(OptInRequest)
            .where(
                OptInRequest.state == RequestState.OPEN.value,
                OptInRequest.created_at <= now - ctx.settings.double_opt_in_expiry,
            )
            .values(state=RequestState.EXPIRED.value, settled_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
