"""Wake-ups across processes: PostgreSQL LISTEN/NOTIFY, or within one process on SQLite.

A notification says only "look again" (a topic and a short payload, e.g. a campaign id);
the reader then reads the database, which stays the truth. Notifications sent inside a
transaction arrive after it commits and not at all if it rolls back, on both engines, so
nobody wakes to look for rows that are not there yet. Listeners that miss a notification
(a dropped connection) still poll now and then, so a wake-up is a speed-up, never needed.

Publishing needs no ``Notifier``: ``publish_in(db, session, …)`` works in any process (a
CLI command, a worker, a test) and needs only the session it writes with. On PostgreSQL it
is a ``pg_notify`` in that transaction, heard by every process that LISTENs. On SQLite no
other process can hear it, so it goes, after commit, to the ``Notifier`` objects of this
process on the same database file, whichever ``Database`` handle wrote (the web app's, or a
command's or a test's handle on the same file). There, a savepoint rolled back inside a
committed transaction still wakes its listeners (PostgreSQL drops its notifications): a
needless look, never a missed one. Subscribing needs a ``Notifier``: one per process holds
one LISTEN connection and one thread for any number of subscriptions.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

from botschaft.storage.database import Database

log = logging.getLogger(__name__)

_Deliver = Callable[[str, str], None]
_TOPIC = re.compile(r"^[a-z_][a-z0-9_]{0,53}$")
# How long the listener thread blocks in one wait, i.e. how soon it notices ``close``.
_LISTEN_TICK_SECONDS = 0.5


# The notifiers of this process, by SQLite database: who hears a publish there.
_local_lock = threading.Lock()
_local: dict[str, list[_Deliver]] = defaultdict(list)
_PENDING = "botschaft_notifications"


def _check_topic(topic: str) -> str:
    # Topics become SQL identifiers in LISTEN, so only plain names are allowed.
    if not _TOPIC.match(topic):
        raise ValueError(f"not a notification topic: {topic!r}")
    return topic


def publish_in(db: Database, session: Session, topic: str, payload: str = "") -> None:
    """Notify ``topic`` once ``session``'s transaction commits, and not if it rolls back."""
    _check_topic(topic)
    if not db.is_sqlite:
        # Channels are per database, not per schema: the schema's mark keeps installations
        # (and test runs) that share a database out of each other's wake-ups.
        session.execute(
            text("SELECT pg_notify(:topic || '_' || left(md5(coalesce(current_schema(),"
                 " 'public')), 8), :payload)"),
            {"topic": _check_topic(topic), "payload": payload})
        return
    key = _local_key(db)
    with _local_lock:
        if not _local.get(key):
            return  # nobody in this process listens to this database
    if _PENDING not in session.info:
        _deliver_after_commit(session, key)
    # One wake-up per topic and payload and transaction is enough: each says "look again".
    session.info[_PENDING][(topic, payload)] = None


def _deliver_after_commit(session: Session, key: str) -> None:
    session.info[_PENDING] = {}

    def committed(done: Session) -> None:
        # Releasing a savepoint counts as a commit too; only the whole transaction's counts.
        if not done.in_nested_transaction():
            _deliver_local(key, done.info.get(_PENDING, {}))

    def ended(done: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # committed and delivered, or rolled back: forget
            done.info[_PENDING] = {}

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_transaction_end", ended)


def _local_key(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def _deliver_local(key: str, pending: dict[tuple[str, str], None]) -> None:
    with _local_lock:
        listeners = list(_local.get(key, ()))
    for topic, payload in pending:
        for deliver in listeners:
            deliver(topic, payload)


@dataclass
class Subscription:
    """Payloads of one topic, as they arrive; ``wait`` blocks until one comes or time is up."""

    topic: str
    _loop: asyncio.AbstractEventLoop
    _queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def _deliver(self, payload: str) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, payload)

    async def wait(self, timeout: float) -> list[str]:
        """Every payload that arrived, waiting up to ``timeout`` seconds for the first."""
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return []
        payloads = [first]
        while not self._queue.empty():
            payloads.append(self._queue.get_nowait())
        return payloads


class Notifier:
    """Publish and subscribe to topics; one per process and database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._subscriptions: dict[str, list[Subscription]] = defaultdict(list)
        self._listener: _PostgresListener | None = None
        if db.is_sqlite:
            with _local_lock:
                _local[_local_key(db)].append(self._deliver)

    def publish_in(self, session: Session, topic: str, payload: str = "") -> None:
        """Notify ``topic`` once ``session``'s transaction commits (see ``publish_in``)."""
        publish_in(self._db, session, topic, payload)

    def publish(self, topic: str, payload: str = "") -> None:
        """Notify ``topic`` now, in a transaction of its own."""
        with self._db.write() as session:
            self.publish_in(session, topic, payload)

    def wake_here(self, topic: str, payload: str = "") -> None:
        """Wake this process's subscribers of ``topic`` on SQLite, where another process
        committed the news (on PostgreSQL that process's NOTIFY wakes everyone)."""
        if self._db.is_sqlite:
            _deliver_local(_local_key(self._db), {(_check_topic(topic), payload): None})

    def subscribe(self, topic: str) -> Subscription:
        """A subscription delivering into the running event loop."""
        subscription = Subscription(_check_topic(topic), asyncio.get_running_loop())
        with self._lock:
            self._subscriptions[topic].append(subscription)
            if not self._db.is_sqlite:
                if self._listener is None:
                    self._listener = _PostgresListener(self._db, self._deliver)
                self._listener.listen(topic)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            subscriptions = self._subscriptions.get(subscription.topic, [])
            if subscription in subscriptions:
                subscriptions.remove(subscription)

    @contextmanager
    def subscribed(self, topic: str) -> Iterator[Subscription]:
        """A subscription for the ``with`` block, unsubscribed however the block ends."""
        subscription = self.subscribe(topic)
        try:
            yield subscription
        finally:
            self.unsubscribe(subscription)

    def subscribers(self, topic: str) -> int:
        """How many subscriptions of ``topic`` are open in this process."""
        with self._lock:
            return len(self._subscriptions.get(topic, ()))

    def close(self) -> None:
        if self._db.is_sqlite:
            with _local_lock:
                listeners = _local.get(_local_key(self._db), [])
                if self._deliver in listeners:
                    listeners.remove(self._deliver)
        with self._lock:
            listener, self._listener = self._listener, None
            self._subscriptions.clear()
        if listener is not None:
            listener.stop()

    def _deliver(self, topic: str, payload: str) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions.get(topic, ()))
        for subscription in subscriptions:
            try:
                subscription._deliver(payload)
            except RuntimeError:
                # The subscriber's event loop has ended; it will not read any more.
                self.unsubscribe(subscription)


class _PostgresListener:
    """One connection in autocommit, LISTENing on every subscribed topic, in a thread."""

    def __init__(self, db: Database, deliver: _Deliver) -> None:
        import psycopg

        url = db.url.set(drivername="postgresql")
        self._connection = psycopg.connect(url.render_as_string(hide_password=False),
                                           autocommit=True)
        schema = self._connection.execute(
            "SELECT coalesce(current_schema(), 'public')").fetchone()
        self._mark = "_" + hashlib.md5(str(schema[0] if schema else "public").encode(),
                                       usedforsecurity=False).hexdigest()[:8]
        self._deliver = deliver
        self._topics: set[str] = set()
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-listener", daemon=True)
        self._thread.start()

    def listen(self, topic: str) -> None:
        with self._lock:
            if topic not in self._topics:
                self._topics.add(topic)
                self._pending.append(topic)
        # Wait for the thread to LISTEN, so a notify right after subscribe is not missed.
        for _ in range(100):
            with self._lock:
                if topic not in self._pending:
                    return
            self._stopped.wait(0.01)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._connection.close()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                with self._lock:
                    pending, self._pending = self._pending, []
                for topic in pending:
                    self._connection.execute(f'LISTEN "{topic}{self._mark}"')
                for note in self._connection.notifies(timeout=_LISTEN_TICK_SECONDS):
                    self._deliver(note.channel.removesuffix(self._mark), note.payload)
            except Exception:
                # A process boundary of the thread: listeners poll anyway, so log and end.
                if not self._stopped.is_set():
                    log.exception("notification listener stopped")
                return


__all__ = ["Notifier", "Subscription", "publish_in"]
