"""New conversations get an assignee, and the badge measures the team's first replies;
a person writes on the sandbox phone, an agent answers through the API."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from admin_login import create_app_user
from botschaft.domain.roles import Role
from botschaft.services.audit import list_audit
from botschaft.services.duty_rotation import set_weekday
from botschaft.storage.accounts import User
from botschaft.storage.inbox import InboxEvent
from botschaft.storage.models import Conversation
from web_app import RunningApp, wait_for

MINUTE = timedelta(minutes=1)


def write(client: httpx.Client, number: str, text: str = "Hallo") -> None:
    answer = client.post("/sandbox/api/messages", json={"number": number, "text": text})
    assert answer.status_code == 202, answer.text


def conversation_of(app: RunningApp, number: str) -> dict:
    def found() -> dict | None:
        with app.client() as client:
            rows = client.get("/api/v1/conversations", params={"channel": "sandbox"}).json()
        return next((row for row in rows if row["address"] == number), None)

    return wait_for(found)  # type: ignore[no-any-return]


def assignee_of(app: RunningApp, conversation_id: int) -> int | None:
    with app.ctx.db.read() as session:
        return session.get_one(Conversation, conversation_id).assignee_id


def seen_now(app: RunningApp, user_id: int) -> None:
    with app.ctx.db.write() as session:
        session.get_one(User, user_id).last_seen_at = app.ctx.clock.now()


def test_a_new_conversation_goes_to_the_agent_on_duty(running_app: RunningApp) -> None:
    ctx = running_app.ctx
    owner = create_app_user(ctx, role=Role.OWNER)
    agent = create_app_user(ctx, role=Role.AGENT)
    set_weekday(ctx, owner.id, ctx.clock.now().weekday(), agent.id)  # the test day: Monday
    with running_app.client() as client:
        write(client, "+4915100000001")
    conversation = conversation_of(running_app, "+4915100000001")
    wait_for(lambda: assignee_of(running_app, conversation["id"]))
    assert assignee_of(running_app, conversation["id"]) == agent.id
    [entry] = list_audit(ctx, action_prefix="conversation.auto_assigned")
    assert entry.actor_id is None
    assert entry.detail == {"assignee_id": agent.id, "by": "duty"}
    with ctx.db.read() as session:  # the change feed, so open inboxes show it live
        kinds = session.scalars(select(InboxEvent.kind).where(
            InboxEvent.conversation_id == conversation["id"])).all()
    assert "conversation.auto_assigned" in kinds


def test_without_anyone_on_duty_new_conversations_go_round_robin_to_those_online(
    running_app: RunningApp,
) -> None:
    ctx = running_app.ctx
    create_app_user(ctx, role=Role.OWNER)  # not seen: offline
    anna = create_app_user(ctx, role=Role.AGENT, email="anna@example.org", name="Anna")
    ben = create_app_user(ctx, role=Role.AGENT, email="ben@example.org", name="Ben")
    create_app_user(ctx, role=Role.AGENT, email="cem@example.org", name="Cem")  # offline
    seen_now(running_app, anna.id)
    seen_now(running_app, ben.id)
    numbers = ["+4915100000011", "+4915100000012", "+4915100000013"]
    chosen = []
    with running_app.client() as client:
        for number in numbers:
            write(client, number)
            conversation = conversation_of(running_app, number)
            chosen.append(wait_for(lambda c=conversation: assignee_of(running_app, c["id"])))
    assert chosen == [anna.id, ben.id, anna.id]


def test_nobody_online_and_nobody_on_duty_leaves_the_conversation_unassigned(
    running_app: RunningApp,
) -> None:
    create_app_user(running_app.ctx, role=Role.AGENT)
    with running_app.client() as client:
        write(client, "+4915100000021")
    conversation = conversation_of(running_app, "+4915100000021")
    wait_for(lambda: _handled(running_app))
    assert assignee_of(running_app, conversation["id"]) is None
    assert list_audit(running_app.ctx, action_prefix="conversation.auto_assigned") == []


def _handled(app: RunningApp) -> bool:
    from botschaft.storage.models import InboundEvent

    with app.ctx.db.read() as session:
        return all(state == "handled" for state in session.scalars(select(InboundEvent.state)))


def answer_each(app: RunningApp, client: httpx.Client, clock, waits: list[int],  # type: ignore[no-untyped-def]
                prefix: str = "+49151000001") -> None:
    """One person per wait writes; the team answers after that many minutes."""
    for n, wait in enumerate(waits):
        number = f"{prefix}{n:02d}"
        write(client, number, "Eine Frage")
        conversation = conversation_of(app, number)
        wait_for(lambda: _handled(app))
        clock.advance(wait * MINUTE)
        reply = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                            json={"text": "Gern!"})
        assert reply.status_code == 201
        clock.advance(timedelta(hours=1))


def test_the_badge_follows_the_teams_measured_first_replies(running_app: RunningApp,
                                                            clock) -> None:  # type: ignore[no-untyped-def]
    with running_app.client() as client:
        empty = client.get("/api/v1/response-time").json()
        assert (empty["badge"], empty["samples"]) == (None, 0)
        answer_each(running_app, client, clock, [3, 3, 4, 10, 50])
        badge = client.get("/api/v1/response-time").json()
    assert badge["badge"] == "minutes"  # the 75th percentile is 10 minutes
    assert badge["p75_seconds"] == 600
    assert badge["samples"] == 5
    assert badge["labels"] == {"de": "Antwortet innerhalb von Minuten",
                               "en": "Replies within minutes"}


def test_the_website_chat_shows_the_badge_under_the_business_name(
    running_app: RunningApp, clock,  # type: ignore[no-untyped-def]
) -> None:
    with running_app.client() as client:
        before = client.get("/webchat/frame", params={"lang": "en"}).text
        answer_each(running_app, client, clock, [1, 1, 1, 1, 1])
        after = client.get("/webchat/frame", params={"lang": "de"}).text
    assert "Replies instantly" not in before and "we answer right here" in before
    assert "Antwortet sofort" in after


def test_requests_older_than_thirty_days_leave_the_badge(running_app: RunningApp,
                                                         clock) -> None:  # type: ignore[no-untyped-def]
    with running_app.client() as client:
        for n in range(5):
            number = f"+49151000002{n:02d}"
            write(client, number, "Hallo")
            conversation = conversation_of(running_app, number)
            wait_for(lambda: _handled(running_app))
            client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                        json={"text": "Hallo!"})
        assert client.get("/api/v1/response-time").json()["badge"] == "instantly"
        clock.advance(timedelta(days=31))
        later = client.get("/api/v1/response-time").json()
    assert (later["badge"], later["samples"]) == (None, 0)


def test_the_badge_needs_an_api_token(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.base_url) as client:
        assert client.get("/api/v1/response-time").status_code == 401
