"""The inbox's list (filters, keyset pages), a thread's header and its state changes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from admin_login import create_app_user
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.composer import ReplyMode
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource, ConsentStatus
from botschaft.domain.errors import NotFound
from botschaft.domain.roles import Role
from botschaft.services.agent_reply import Reply, send_reply
from botschaft.services.audit import list_audit
from botschaft.services.canned import create_label
from botschaft.services.clock import ManualClock
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.context import Context
from botschaft.services.conversations import (
    UNASSIGNED,
    InboxFilter,
    Status,
    assign,
    list_page,
    set_labels,
    set_status,
    thread,
)
from botschaft.services.inbox import latest_messages
from botschaft.services.inbox_feed import Actor, changes_since, current_mark, open_statuses
from botschaft.services.notes import add_note
from inbox_people import writes

NUMBERS = [f"+49151000000{n:02d}" for n in range(12)]


@pytest.fixture
def channels(ctx: Context) -> Channels:
    return Channels.from_settings(ctx.settings, ctx.clock)


def agent_named(ctx: Context, name: str) -> Actor:
    user = create_app_user(ctx, role=Role.AGENT, name=name,
                           email=f"{name.split(maxsplit=1)[0].lower()}@sonnenschein.example").user
    return Actor(user.id, user.display_name)


@pytest.fixture
def anna(ctx: Context) -> Actor:
    return agent_named(ctx, "Anna Schmidt")


def five_people(ctx: Context, channels: Channels, clock: ManualClock) -> list[int]:
    ids = []
    for number in NUMBERS[:5]:
        ids.append(writes(ctx, channels, number))
        clock.advance(timedelta(minutes=1))
    return ids


def test_list_shows_newest_activity_first_in_keyset_pages(ctx, channels, clock):
    ids = five_people(ctx, channels, clock)

    first = list_page(ctx, InboxFilter(limit=2))
    second = list_page(ctx, InboxFilter(limit=2, before=first.next))
    last = list_page(ctx, InboxFilter(limit=2, before=second.next))

    assert [r.id for r in first.rows + second.rows + last.rows] == ids[::-1]
    assert last.next is None
    assert first.rows[0].preview == "Hallo" and first.rows[0].waiting


def test_list_filters_by_status_assignee_and_label(ctx, channels, clock, anna):
    ids = five_people(ctx, channels, clock)
    vip = create_label(ctx, anna, "VIP", "amber")
    set_status(ctx, anna, ids[0], Status.RESOLVED)
    assign(ctx, anna, ids[1], anna.id)
    set_labels(ctx, anna, ids[2], {vip.id})

    def found(**flt):
        return {r.id for r in list_page(ctx, InboxFilter(**flt)).rows}

    assert found(status=Status.RESOLVED) == {ids[0]}
    assert found(status=Status.OPEN) == set(ids[1:])
    assert found(assignee=anna.id) == {ids[1]}
    assert found(assignee=UNASSIGNED) == set(ids) - {ids[1]}
    assert found(label=vip.id) == {ids[2]}
    assert found(channel=ChannelKind.WHATSAPP) == set()
    assert found(channel=ChannelKind.SANDBOX) == set(ids)


def test_reassigning_and_unassigning_leave_one_assignee(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBERS[0])

    ben = agent_named(ctx, "Ben Berger")
    assign(ctx, anna, conversation, anna.id)
    assign(ctx, anna, conversation, ben.id)
    assert thread(ctx, conversation, templates=True).row.assignee_id == ben.id
    assign(ctx, anna, conversation, None)
    assert thread(ctx, conversation, templates=True).row.assignee_id is None


def test_labels_are_replaced_as_a_set_and_unknown_labels_refused(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBERS[0])
    vip, lead = create_label(ctx, anna, "VIP"), create_label(ctx, anna, "Lead", "green")

    set_labels(ctx, anna, conversation, {vip.id, lead.id})
    set_labels(ctx, anna, conversation, {lead.id})

    assert [label.name for label in thread(ctx, conversation, templates=True).row.labels] == [
        "Lead"]
    with pytest.raises(NotFound):
        set_labels(ctx, anna, conversation, {999})


def test_a_resolved_conversation_opens_again_when_the_person_writes(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBERS[0])
    set_status(ctx, anna, conversation, Status.RESOLVED)

    writes(ctx, channels, NUMBERS[0], "Noch eine Frage")

    assert thread(ctx, conversation, templates=True).row.status == "open"


def test_thread_shows_the_window_and_the_consent_from_the_ledger(
    ctx, channels, clock, text_version
):
    conversation = writes(ctx, channels, NUMBERS[0])
    contact = thread(ctx, conversation, templates=True).row.contact_id
    record_consent(ctx, ConsentRecord(contact, ChannelKind.SANDBOX, MARKETING,
                                      ConsentEventKind.GRANTED, ConsentSource.KEYWORD,
                                      consent_text_id=text_version.id))
    clock.advance(timedelta(hours=20))

    head = thread(ctx, conversation, templates=True)

    assert head.reply.mode is ReplyMode.FREE_TEXT
    assert head.reply.remaining(clock.now()) == timedelta(hours=4)
    assert [(c.purpose, c.state.status) for c in head.consents] == [
        (MARKETING, ConsentStatus.ACTIVE)]
    clock.advance(timedelta(hours=5))
    assert thread(ctx, conversation, templates=True).reply.mode is ReplyMode.TEMPLATES


def test_every_change_reaches_the_change_feed(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBERS[0])
    other = writes(ctx, channels, NUMBERS[1])
    mark = current_mark(ctx)

    add_note(ctx, anna, conversation, "Ruft morgen an")
    mark, touched = changes_since(ctx, mark)
    assert touched == {conversation}
    set_status(ctx, anna, other, Status.PENDING)
    writes(ctx, channels, NUMBERS[0], "Danke")
    mark, touched = changes_since(ctx, mark)
    assert touched == {conversation, other}
    assert changes_since(ctx, mark)[1] == set()


def test_each_change_is_in_the_audit_log_with_who_did_it(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBERS[0])

    set_status(ctx, anna, conversation, Status.PENDING)
    assign(ctx, anna, conversation, anna.id)
    add_note(ctx, anna, conversation, "Rückruf")

    entries = list_audit(ctx, action_prefix="conversation.")
    assert [(e.action, e.actor_id, e.target) for e in entries] == [
        ("conversation.note_added", anna.id, f"conversation:{conversation}"),
        ("conversation.assigned", anna.id, f"conversation:{conversation}"),
        ("conversation.status", anna.id, f"conversation:{conversation}"),
    ]
    assert entries[2].detail == {"from": "open", "to": "pending"}


def test_assigning_to_nobody_who_exists_is_refused(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBERS[0])

    with pytest.raises(NotFound):
        assign(ctx, anna, conversation, 999)


def test_unknown_conversation_is_not_found(ctx, anna):
    with pytest.raises(NotFound):
        set_status(ctx, anna, 404, Status.OPEN)


def test_a_long_thread_shows_its_newest_messages_oldest_first(ctx, channels, clock):
    conversation = writes(ctx, channels, NUMBERS[0], "eins")
    for text in ("zwei", "drei"):
        clock.advance(timedelta(minutes=1))
        writes(ctx, channels, NUMBERS[0], text)

    assert [m.text for m in latest_messages(ctx, conversation, limit=2)] == ["zwei", "drei"]


def test_only_ticks_that_may_still_change_are_watched(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBERS[0])
    [reply] = asyncio.run(send_reply(ctx, channels, anna, conversation, Reply("Hallo")))

    assert open_statuses(ctx, conversation) == {reply.id: "sent"}
