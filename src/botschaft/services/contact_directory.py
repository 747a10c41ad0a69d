"""The team's view of contacts: search (keyset-paged), and everything one contact's page shows.

Search matches names and addresses; it pages by id (newest first) with ``before_id``, never
with OFFSET, so the tenth page costs what the first does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import selectinload

from botschaft.domain.consent import MARKETING as MARKETING_PURPOSE
from botschaft.domain.consent import ConsentState, ConsentStatus, derive_state
from botschaft.services.contacts import ContactView, view_of
from botschaft.services.context import Context
from botschaft.services.evidence import Proof, consent_proof
from botschaft.storage import ledger
from botschaft.storage.accounts import User
from botschaft.storage.models import ChannelIdentity, ConsentEvent, Contact, Conversation

PAGE_SIZE = 50
# What people type into a phone number: spaces, dashes, slashes, brackets.
_PHONE_PUNCTUATION = re.compile(r"[\s\-/().]")


@dataclass(frozen=True)
class ContactRow:
    contact: ContactView
    marketing: dict[str, ConsentStatus]  # channel -> marketing consent status


@dataclass(frozen=True)
class ContactPage:
    rows: tuple[ContactRow, ...]
    next_before_id: int | None  # None: this was the last page


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    channel: str
    status: str
    last_message_at: datetime
    assignee: str | None


@dataclass(frozen=True)
class ContactDetail:
    contact: ContactView
    conversations: tuple[ConversationSummary, ...]
    proof: Proof

    def withdrawable(self) -> list[tuple[str, str, ConsentState]]:
        """(channel, purpose, state) that a recorded withdrawal would change."""
        return [
            (s.channel, s.purpose, s.state) for s in self.proof.states
            if s.state.status in (ConsentStatus.ACTIVE, ConsentStatus.PENDING)
        ]


def search_contacts(
    ctx: Context, query: str = "", *, before_id: int | None = None, limit: int = PAGE_SIZE,
) -> ContactPage:
    """Contacts whose name or an address contains ``query``, newest first."""
    statement = (
        select(Contact).where(Contact.erased_at.is_(None))
        .options(selectinload(Contact.identities))
        .order_by(Contact.id.desc()).limit(limit + 1)
    )
    text = query.strip()
    if text:
        statement = statement.where(_matches(text))
    if before_id is not None:
        statement = statement.where(Contact.id < before_id)
    with ctx.db.read() as session:
        found = list(session.scalars(statement))
        shown = found[:limit]
        events = session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id.in_([c.id for c in shown]),
                   ConsentEvent.purpose == MARKETING_PURPOSE)
            .order_by(ConsentEvent.seq)
        ).all() if shown else []
        statuses = _marketing_statuses(events, ctx)
        rows = tuple(ContactRow(view_of(c), statuses.get(c.id, {})) for c in shown)
    return ContactPage(rows, shown[-1].id if len(found) > limit else None)


def contact_detail(ctx: Context, contact_id: int) -> ContactDetail:
    """A contact with its conversations and the ledger's whole story (``NotFound`` if none)."""
    proof = consent_proof(ctx, f"#{contact_id}")
    with ctx.db.read() as session:
        rows = session.execute(
            select(Conversation, User.display_name)
            .outerjoin(User, User.id == Conversation.assignee_id)
            .where(Conversation.contact_id == contact_id)
            .order_by(Conversation.last_message_at.desc())
        ).all()
    conversations = tuple(
        ConversationSummary(c.id, c.channel, c.status, c.last_message_at, name)
        for c, name in rows
    )
    return ContactDetail(proof.contact, conversations, proof)


def _matches(text: str) -> ColumnElement[bool]:
    needle = text.lower()
    conditions = [
        func.lower(Contact.display_name).contains(needle, autoescape=True),
        exists().where(ChannelIdentity.contact_id == Contact.id,
                       func.lower(ChannelIdentity.address).contains(needle, autoescape=True)),
    ]
    digits = _PHONE_PUNCTUATION.sub("", text)
    if digits.lstrip("+").isdigit() and len(digits) >= 3:
        # "0151 234…" is stored as "+49151234…": the national zero is what differs.
        core = digits.lstrip("+").lstrip("0")
        conditions.append(exists().where(ChannelIdentity.contact_id == Contact.id,
                                         ChannelIdentity.address.contains(core)))
    return or_(*conditions)


def _marketing_statuses(
    events: Sequence[ConsentEvent], ctx: Context
) -> dict[int, dict[str, ConsentStatus]]:
    by_subject: dict[tuple[int, str], list[ConsentEvent]] = defaultdict(list)
    for event in events:
        by_subject[(event.contact_id, event.channel)].append(event)
    now = ctx.clock.now()
    statuses: dict[int, dict[str, ConsentStatus]] = defaultdict(dict)
    for (contact_id, channel), rows in by_subject.items():
        state = derive_state(ledger.facts_of(rows), now, ctx.settings.double_opt_in_expiry)
        statuses[contact_id][channel] = state.status
    return statuses
