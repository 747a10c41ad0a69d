"""The database handle: engine, sessions for reading and for writing, SQLite tuning."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "botschaft_write"


class Database:
    """Owns the engine. ``write()`` sessions take SQLite's write lock at BEGIN.

    SQLite in WAL mode lets one writer and many readers work at once; a transaction that
    reads first and writes later can fail with SQLITE_BUSY when another writer got in
    between, so writing transactions start with ``BEGIN IMMEDIATE`` and wait their turn.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            _ensure_parent_dir(self.url.database)
            self.engine = create_engine(
                self.url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
            )
            _tune_sqlite(self.engine)
        else:
            self.engine = create_engine(
                self.url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
        # SQLite lets one writer in at a time and makes the others poll with growing sleeps
        # (up to 100 ms each). Within one process, writers queue on a lock instead, which
        # hands the turn over at once; other processes still meet SQLite's busy timeout.
        self._write_turn: AbstractContextManager[object] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @property
    def in_memory(self) -> bool:
        """SQLite in memory: no other process (and no other connection) sees it."""
        return self.is_sqlite and self.url.database in (None, "", ":memory:")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._write_turn, self._writer() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _ensure_parent_dir(database: str | None) -> None:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
