"""The figures on the app's home page: what waits, for whom, and how the lists grow."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from botschaft.services.context import Context
from botschaft.storage.models import Contact, Conversation
from botschaft.storage.signup import SignupPage


@dataclass(frozen=True)
class HomeFigures:
    open_conversations: int
    assigned_to_me: int
    unassigned: int
    contacts: int
    active_signup_pages: int


def home_figures(ctx: Context, user_id: int) -> HomeFigures:
    """Counts for the home page; each is one indexed query."""
    open_only = Conversation.status == "open"
    conversations = select(func.count()).select_from(Conversation).where(open_only)
    with ctx.db.read() as session:
        def count(query: Select[int]) -> int:
            return session.scalar(query) or 0

        return HomeFigures(
            open_conversations=count(conversations),
            assigned_to_me=count(conversations.where(Conversation.assignee_id == user_id)),
            unassigned=count(conversations.where(Conversation.assignee_id.is_(None))),
            contacts=count(select(func.count()).select_from(Contact)
                           .where(Contact.erased_at.is_(None))),
            active_signup_pages=count(select(func.count()).select_from(SignupPage)
                                      .where(SignupPage.active.is_(True))),
        )
