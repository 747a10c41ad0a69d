"""Assigning a new request to a person: the agent on duty, else round-robin among those online.

Runs in the inbound lane's transaction when a person's message opens or reopens a
conversation that nobody looks after yet; a conversation with an assignee keeps them.
Agents and owners take conversations (marketers do not answer customers). The choice is
``domain.duty``'s; here it is written, with its audit row, in the same transaction.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.domain.duty import Agent, choose_assignee
from botschaft.services.context import Context
from botschaft.services.duty_rotation import ANSWERING_ROLES, load_rotation
from botschaft.services.inbox_feed import Actor, changed
from botschaft.storage.accounts import AuditEntry, User
from botschaft.storage.models import Conversation

ACTION = "conversation.auto_assigned"
BOTSCHAFT = Actor(None, "Botschaft")  # the rotation acts, no person


def assign_if_unassigned(session: Session, ctx: Context, conversation: Conversation) -> int | None:
    """Give an unassigned conversation to whoever the rotation or round-robin names.

    Returns the assignee's id, or None when the conversation had one or nobody is there.
    """
    if conversation.assignee_id is not None:
        return None
    now = ctx.clock.now()
    agents = [
        Agent(user_id, seen)
        for user_id, seen in session.execute(
            select(User.id, User.last_seen_at).where(User.role.in_(ANSWERING_ROLES),
                                                     User.disabled_at.is_(None))
        )
    ]
    if not agents:
        return None
    rotation = load_rotation(session)
    business = ctx.settings.business
    chosen = choose_assignee(
        rotation, agents, last_assigned=_last_round_robin(session), now=now,
        time_zone=ZoneInfo(business.time_zone),
        online_within=timedelta(minutes=business.agent_online_minutes),
    )
    if chosen is None:
        return None
    on_duty = rotation.on_duty(now.astimezone(ZoneInfo(business.time_zone)).date()) == chosen
    conversation.assignee_id = chosen
    # Through the inbox's change feed: the audit row, and open inboxes show the assignee live.
    changed(session, ctx, BOTSCHAFT, conversation.id, kind=ACTION,
            detail={"assignee_id": chosen, "by": "duty" if on_duty else "round_robin"})
    return chosen


def _last_round_robin(session: Session) -> int | None:
    """Whom round-robin gave the last conversation to: the next one goes to someone after."""
    rows = session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == ACTION)
        .order_by(AuditEntry.id.desc()).limit(20)
    )
    for detail in rows:
        if detail and detail.get("by") == "round_robin":
            assignee = detail.get("assignee_id")
            return int(assignee) if assignee is not None else None
    return None
