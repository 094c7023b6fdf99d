"""safeslot/db.py on SQLite: writers of one process queue on that file's lock, readers never do, and
the lock is let go of however a transaction ends — committed, rolled back, abandoned or refused at
BEGIN — so a later writer is never stuck behind a transaction that is gone."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from safeslot import db
from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.kit.crypto import KeyRing
from tests.conftest import NOW

PROBLEM = "application/problem+json"


@pytest.fixture
def sqlite_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    # a stuck lock shows up as an error after 1 s instead of a 30 s hang
    monkeypatch.setattr(db, "WRITE_LOCK_TIMEOUT_S", 1.0)
    engine = db.build_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield engine
    engine.dispose()


def _write(engine: Engine, n: int) -> None:
    with db.transaction(db.build_sessionmaker(engine)) as s:
        s.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})


def _write_elsewhere(engine: Engine, n: int) -> None:
    """Write on another engine of this process (another connection, the same file's lock)."""
    other = db.build_engine(engine.url.render_as_string(hide_password=False))
    try:
        _write(other, n)
    finally:
        other.dispose()


def _rows(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT n FROM t ORDER BY n"))]


def test_a_writer_after_a_failed_transaction_gets_in(sqlite_engine: Engine) -> None:
    def fail_half_way() -> None:
        with db.transaction(db.build_sessionmaker(sqlite_engine)) as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
            raise ValueError("the endpoint failed half-way")

    with pytest.raises(ValueError, match="half-way"):
        fail_half_way()
    _write_elsewhere(sqlite_engine, 2)  # raises after 1 s if the failed transaction kept the lock
    assert _rows(sqlite_engine) == [2]


def test_a_writer_after_an_abandoned_connection_gets_in(sqlite_engine: Engine) -> None:
    conn = sqlite_engine.connect()
    conn.begin()
    conn.execute(text("INSERT INTO t VALUES (1)"))
    conn.close()  # neither committed nor rolled back by the caller
    _write_elsewhere(sqlite_engine, 2)
    conn = sqlite_engine.connect()
    conn.begin()
    conn.execute(text("INSERT INTO t VALUES (3)"))
    conn.invalidate()  # the connection is thrown away mid-transaction
    _write_elsewhere(sqlite_engine, 4)
    assert _rows(sqlite_engine) == [2, 4]


def test_a_begin_refused_by_another_process_lets_go(sqlite_engine: Engine, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)  # another process's writer
    other.execute("BEGIN IMMEDIATE")
    try:
        with sqlite_engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA busy_timeout=50")  # SQLite's own wait, cut short (not in a transaction)
            with pytest.raises(OperationalError, match="locked"):
                conn.begin()
    finally:
        other.rollback()
        other.close()
    _write_elsewhere(sqlite_engine, 1)
    assert _rows(sqlite_engine) == [1]


def test_writers_in_one_process_take_turns_and_readers_never_wait(sqlite_engine: Engine) -> None:
    inside = threading.Event()
    release = threading.Event()
    done: list[float] = []

    def long_writer() -> None:
        with db.transaction(db.build_sessionmaker(sqlite_engine)) as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
            inside.set()
            release.wait(5)

    def second_writer() -> None:
        _write(sqlite_engine, 2)
        done.append(time.monotonic())

    first = threading.Thread(target=long_writer)
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=second_writer)
    second.start()
    # a read-only transaction reads its snapshot while the writer holds the lock
    with db.read_transaction(db.build_sessionmaker(sqlite_engine)) as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    time.sleep(0.2)
    assert not done, "the second writer went in while the first held the write lock"
    released_at = time.monotonic()
    release.set()
    first.join(5)
    second.join(5)
    assert done and done[0] >= released_at
    assert _rows(sqlite_engine) == [1, 2]


def test_a_writer_kept_waiting_too_long_is_answered_503(
    sqlite_engine: Engine, settings: Settings, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "WRITE_LOCK_TIMEOUT_S", 0.2)
    maker = sessionmaker(bind=sqlite_engine)
    holder = maker()
    holder.execute(text("INSERT INTO t VALUES (1)"))  # this process's write lock, held
    try:
        client = TestClient(create_app(settings, engine=sqlite_engine, keyring=keyring, clock=lambda: NOW),
                            raise_server_exceptions=True)
        r = client.post("/api/v1/appointments", headers={"Idempotency-Key": "k-1"}, json={
            "office": "central", "service": "apply", "starts_at": "2027-03-02T09:00:00-05:00", "name": "A"})
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM, r.text
        assert r.headers["retry-after"]
    finally:
        holder.rollback()
        holder.close()
    _write(sqlite_engine, 2)
    assert _rows(sqlite_engine) == [2]
