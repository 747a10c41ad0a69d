"""The audit log: who did what. Every state change a person makes writes one row, in the
same transaction as the change, so the log never claims what did not happen nor misses
what did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.services.context import Context
from botschaft.storage.accounts import AuditEntry, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None  # None: the system did it
    action: str
    target: str | None
    detail: Mapping[str, Any]


def record_audit(
    session: Session,
    actor_id: int | None,
    action: str,
    target: str | None,
    detail: Mapping[str, Any] | None = None,
    *,
    at: datetime,
) -> None:
    """Add the audit row to ``session``'s transaction (the caller's change commits with it).

    ``action`` is a dotted name (``user.created``, ``consent.withdrawn``, ``token.revoked``),
    ``target`` names the object (``user:3``, ``contact:17``); ``detail`` holds what a reader
    needs later, never a password or a token.
    """
    session.add(AuditEntry(at=at, actor_id=actor_id, action=action, target=target,
                           detail=dict(detail) if detail else None))


def list_audit(
    ctx: Context, *, before_id: int | None = None, action_prefix: str | None = None,
    limit: int = PAGE_SIZE,
) -> list[AuditView]:
    """The newest entries first; ``before_id`` continues after the last one shown."""
    query = (
        select(AuditEntry, User.display_name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    with ctx.db.read() as session:
        return [
            AuditView(row.id, row.at, row.actor_id, name, row.action, row.target,
                      row.detail or {})
            for row, name in session.execute(query)
        ]
