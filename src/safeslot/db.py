"""Database plumbing: the declarative Base, engines, and the one place that commits.

A request gets one session and one transaction (SQLAlchemy "session basics").
The session dependency commits when the endpoint returns and rolls back when it
raises; services and repositories never commit. That is what lets the
disclosure service append to the transparency log in the same transaction as
the decision (invariant "no disclosure without a record").

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` so that writers queue on the
database write lock instead of failing with "database is locked" half-way
through a transaction; a transaction that only reads (``read_transaction``, slot
search) begins deferred instead, so it reads a WAL snapshot without taking or
waiting for that lock; PostgreSQL runs at READ COMMITTED, where a conditional
``UPDATE … WHERE booked < capacity`` re-checks the row after waiting for its
lock, so capacity holds on both.

Writers in one process queue on a Python lock per SQLite file before BEGIN IMMEDIATE (``_write_lock``):
SQLite's own busy handler polls with sleeps of up to 100 ms, so 64 waiting writers spent most of their
wait asleep while the lock was free (docs/decisions.md, "SQLite writers queue in the process").
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from safeslot.dburl import normalize_url
from safeslot.kit.errors import Recorded

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: safeslot stores only aware UTC times")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def build_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine configured the same way for the app, the CLI and the tests."""
    url = normalize_url(url)
    if is_sqlite(url):
        _private_file(url)
        lock = _write_lock(url)
        engine = create_engine(
            url,
            echo=echo,
            # as many connections as asked for, never fewer than SQLAlchemy's default (5 + 10 overflow)
            pool_size=max(pool_size, 5),
            max_overflow=max(pool_size * 2, 10),
            connect_args={"check_same_thread": False, "timeout": 30, "factory": _LockingConnection},
        )
        _configure_sqlite(engine, lock)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
    )


def _private_file(url: str) -> None:
    """Create the SQLite file readable by its owner only (mode 0600) before SQLite opens it:
    SQLite gives the WAL and shared-memory files the database file's mode, so they are 0600
    too. An existing file's group and other bits are removed."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for sibling in (file, Path(f"{file}-wal"), Path(f"{file}-shm")):
        if sibling.exists() and sibling.stat().st_mode & 0o077:
            sibling.chmod(0o600)


# One lock per SQLite file, shared by every engine of this process on that file (the app, the outbox,
# a test's 64 racing engines); other processes still queue on SQLite's busy_timeout.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
WRITE_LOCK_TIMEOUT_S = 30.0  # as long as the busy_timeout below


def _write_lock(url: str) -> threading.Lock | None:
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    key = os.path.realpath(path)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


class _LockingConnection(sqlite3.Connection):
    """A SQLite connection that lets go of its process's write lock once its COMMIT or ROLLBACK has
    run (SQLAlchemy's commit and rollback events fire before them, too early)."""

    held: threading.Lock | None = None

    def _let_go(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            held.release()

    def _end_then_let_go(self, end: Callable[[], None]) -> None:
        try:
            end()
        finally:
            self._let_go()

    def commit(self) -> None:
        self._end_then_let_go(super().commit)

    def rollback(self) -> None:
        self._end_then_let_go(super().rollback)

    def close(self) -> None:
        self._end_then_let_go(super().close)


def _configure_sqlite(engine: Engine, lock: threading.Lock | None) -> None:
    # pysqlite's own transaction handling issues a deferred BEGIN lazily; take
    # it over so every transaction starts with BEGIN IMMEDIATE (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only transaction (READ_ONLY_OPTION) takes a snapshot, not the write lock: in WAL mode
        # readers never block the writer nor wait for it (SQLite "WAL mode", "Concurrency"); query_only
        # makes SQLite refuse a write inside it, as PostgreSQL's READ ONLY does.
        read_only = bool(conn.get_execution_options().get(READ_ONLY_OPTION))
        conn.exec_driver_sql(f"PRAGMA query_only = {int(read_only)}")
        if read_only:
            conn.exec_driver_sql("BEGIN")
            return
        raw = conn.connection.driver_connection
        if lock is not None and isinstance(raw, _LockingConnection) and raw.held is None:
            # let go of by whichever thread commits (a request may begin and end in different threads)
            if not lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
                raise sqlite3.OperationalError("database is locked (waited for this process's writers)")
            raw.held = lock
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if isinstance(raw, _LockingConnection):
                raw._let_go()
            raise


def build_sessionmaker(bind: Any) -> sessionmaker[Session]:
    # expire_on_commit=False: measured 2.5x cheaper per write (docs/style.md)
    if isinstance(bind, Connection):
        # Tests hand over a connection inside a transaction they roll back; our
        # "commit" then only releases a savepoint.
        return sessionmaker(
            bind=bind, expire_on_commit=False, autoflush=True, join_transaction_mode="create_savepoint"
        )
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


READ_ONLY_OPTION = "safeslot_read_only"


@contextmanager
def read_transaction(maker: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction for reads only (slot search): one snapshot for all its reads (SQLite: a deferred BEGIN;
    PostgreSQL: REPEATABLE READ), so searches neither take the database's write lock nor queue behind
    bookings for it. Both databases
    refuse a write inside it (SQLite ``query_only``, PostgreSQL ``READ ONLY``); nothing is committed.
    The slot search cache keeps only answers computed in such a transaction (scheduling/search_cache.py)."""
    with maker() as session:  # closing it rolls the snapshot back
        options: Any = {READ_ONLY_OPTION: True}
        bind = maker.kw["bind"]
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":  # (a test's connection is already in
            # its transaction) one snapshot for the whole transaction, as SQLite's; psycopg begins with
            # BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY, no extra round trip (a read-only one never
            # fails to serialize)
            options.update(postgresql_readonly=True, isolation_level="REPEATABLE READ")
        session.connection(execution_options=options)  # begins the transaction, with these options
        yield session


@contextmanager
def transaction(maker: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction, committed at the end and rolled back on an error: the request's (`deps.get_session`)
    and the CLI's. A `Recorded` refusal (kit/errors.py) commits its record (a failure count, a refusal
    entry, an alert), then is raised again to be answered; every other error rolls back."""
    kept: Exception | None = None
    with maker() as session, session.begin():
        try:
            yield session
        except Exception as exc:
            if not isinstance(exc, Recorded):
                raise
            kept = exc
    if kept is not None:
        raise kept
