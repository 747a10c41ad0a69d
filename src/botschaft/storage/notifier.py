"""Wake-ups across processes: PostgreSQL LISTEN/NOTIFY, or within one process on SQLite.

A notification says only "look again" (a topic and a short payload, e.g. a campaign id);
the reader then reads the database, which stays the truth. Notifications sent inside a
transaction arrive after it commits and not at all if it rolls back, on both engines, so
nobody wakes to look for rows that are not there yet. Listeners that miss a notification
(a dropped connection) still poll now and then, so a wake-up is a speed-up, never needed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from botschaft.storage.database import Database

log = logging.getLogger(__name__)

_Deliver = Callable[[str, str], None]
_TOPIC = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# How long the listener thread blocks in one wait, i.e. how soon it notices ``close``.
_LISTEN_TICK_SECONDS = 0.5


def _check_topic(topic: str) -> str:
    # Topics become SQL identifiers in LISTEN, so only plain names are allowed.
    if not _TOPIC.match(topic):
        raise ValueError(f"not a notification topic: {topic!r}")
    return topic


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

    def publish_in(self, session: Session, topic: str, payload: str = "") -> None:
        """Notify ``topic`` once ``session``'s transaction commits."""
        _check_topic(topic)
        if self._db.is_sqlite:
            # No other process can hear us on SQLite (one dispatcher, embedded mode).
            event.listen(session, "after_commit",
                         lambda _session: self._deliver(topic, payload), once=True)
            return
        session.execute(text("SELECT pg_notify(:topic, :payload)"),
                        {"topic": topic, "payload": payload})

    def publish(self, topic: str, payload: str = "") -> None:
        """Notify ``topic`` now, in a transaction of its own."""
        with self._db.write() as session:
            self.publish_in(session, topic, payload)

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

    def close(self) -> None:
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
                    self._connection.execute(f'LISTEN "{topic}"')
                for note in self._connection.notifies(timeout=_LISTEN_TICK_SECONDS):
                    self._deliver(note.channel, note.payload)
            except Exception:
                # A process boundary of the thread: listeners poll anyway, so log and end.
                if not self._stopped.is_set():
                    log.exception("notification listener stopped")
                return


__all__ = ["Notifier", "Subscription"]
