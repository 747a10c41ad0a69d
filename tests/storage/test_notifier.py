"""Wake-ups across processes: delivered after commit, never for a rolled-back transaction,
from any handle on the database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from botschaft.services.context import Context
from botschaft.storage.database import Database
from botschaft.storage.notifier import Notifier, publish_in


@pytest.fixture
def notifier(ctx: Context) -> Iterator[Notifier]:
    notifier = Notifier(ctx.db)
    yield notifier
    notifier.close()


def test_a_subscriber_hears_what_is_published_after_commit(notifier: Notifier) -> None:
    async def scenario() -> None:
        subscription = notifier.subscribe("campaign_progress")
        await asyncio.to_thread(notifier.publish, "campaign_progress", "7")
        assert await subscription.wait(5.0) == ["7"]

    asyncio.run(scenario())


def test_a_rolled_back_transaction_notifies_nobody(ctx: Context, notifier: Notifier) -> None:
    async def scenario() -> None:
        subscription = notifier.subscribe("campaign_progress")

        def publish_and_fail() -> None:
            with pytest.raises(RuntimeError), ctx.db.write() as session:
                notifier.publish_in(session, "campaign_progress", "7")
                raise RuntimeError("rolled back")

        await asyncio.to_thread(publish_and_fail)
        assert await subscription.wait(0.7) == []

    asyncio.run(scenario())


def test_other_topics_are_not_heard(notifier: Notifier) -> None:
    async def scenario() -> None:
        subscription = notifier.subscribe("campaign_progress")
        await asyncio.to_thread(notifier.publish, "inbox", "1")
        assert await subscription.wait(0.7) == []

    asyncio.run(scenario())


def test_another_process_hears_a_notification_on_postgres(ctx: Context, notifier: Notifier) -> None:
    async def scenario() -> None:
        if ctx.db.is_sqlite:
            pytest.skip("SQLite runs one dispatcher in one process; nothing to cross")
        subscription = notifier.subscribe("campaign_progress")
        other = Database(str(ctx.db.url.render_as_string(hide_password=False)))
        sender = Notifier(other)
        try:
            await asyncio.to_thread(sender.publish, "campaign_progress", "42")
            assert await subscription.wait(5.0) == ["42"]
        finally:
            sender.close()
            other.dispose()

    asyncio.run(scenario())


def test_two_schemas_of_one_postgres_database_do_not_wake_each_other(
    ctx: Context, notifier: Notifier
) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("a schema is a PostgreSQL thing")
    neighbour_url = ctx.db.url.set(query={})  # the database's default schema, not this test's
    neighbour = Database(neighbour_url.render_as_string(hide_password=False))

    async def scenario() -> tuple[list[str], list[str]]:
        subscription = notifier.subscribe("campaign_progress")
        await asyncio.to_thread(publish, neighbour, "campaign_progress", "other")
        from_neighbour = await subscription.wait(0.7)
        await asyncio.to_thread(publish, ctx.db, "campaign_progress", "ours")
        return from_neighbour, await subscription.wait(5.0)

    try:
        assert asyncio.run(scenario()) == ([], ["ours"])
    finally:
        neighbour.dispose()


def publish(db: Database, topic: str, payload: str) -> None:
    with db.write() as session:
        publish_in(db, session, topic, payload)


def test_a_topic_must_be_a_plain_name(notifier: Notifier) -> None:
    with pytest.raises(ValueError):
        notifier.publish("drop table; --")


def test_a_savepoint_released_inside_a_transaction_notifies_only_at_commit(
    ctx: Context, notifier: Notifier
) -> None:
    released, go_on = threading.Event(), threading.Event()

    def publish_in_a_savepoint() -> None:
        with ctx.db.write() as session:
            with session.begin_nested():
                notifier.publish_in(session, "notifier_test", "3")
            released.set()
            go_on.wait(10)

    async def scenario() -> tuple[list[str], list[str]]:
        subscription = notifier.subscribe("notifier_test")
        writer = asyncio.create_task(asyncio.to_thread(publish_in_a_savepoint))
        await asyncio.to_thread(released.wait, 10)
        before_commit = await subscription.wait(0.7)
        go_on.set()
        await writer
        return before_commit, await subscription.wait(5.0)

    assert asyncio.run(scenario()) == ([], ["3"])


def test_a_transaction_rolled_back_after_a_released_savepoint_notifies_nobody(
    ctx: Context, notifier: Notifier
) -> None:
    def publish_and_fail() -> None:
        with pytest.raises(RuntimeError), ctx.db.write() as session:
            with session.begin_nested():
                publish_in(ctx.db, session, "notifier_test", "3")
            raise RuntimeError("rolled back")

    async def scenario() -> list[str]:
        subscription = notifier.subscribe("notifier_test")
        await asyncio.to_thread(publish_and_fail)
        return await subscription.wait(0.7)

    assert asyncio.run(scenario()) == []


def test_a_database_handle_without_a_notifier_publishes_too(
    ctx: Context, notifier: Notifier
) -> None:
    other = Database(ctx.db.url.render_as_string(hide_password=False))

    def publish() -> None:
        with other.write() as session:
            publish_in(other, session, "notifier_test", "5")

    async def scenario() -> list[str]:
        subscription = notifier.subscribe("notifier_test")
        await asyncio.to_thread(publish)
        return await subscription.wait(5.0)

    try:
        assert asyncio.run(scenario()) == ["5"]
    finally:
        other.dispose()
