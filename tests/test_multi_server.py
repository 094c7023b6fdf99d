"""Several app servers on one PostgreSQL: one log sequencer, idempotency across servers.

Two ``create_app`` instances on the same database, each with its own engine
(its own connection pool), stand for two ``safeslot serve`` processes behind a
load balancer. SQLite is one machine's database, so these run on PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo, service
from safeslot.scheduling.models import Appointment
from safeslot.transparency import merkle
from safeslot.transparency import service as log
from safeslot.transparency.models import LogCheckpoint, LogEntry, LogHead
from tests.conftest import LENIENT_LIMITS, NOW

pytestmark = pytest.mark.slow

SERVERS = 2
THREADS = 4  # per server
ROUNDS = 12  # appends per thread
TZ = service.zone("America/New_York")


@pytest.fixture
def servers(fresh_url: str, backend: str, keyring: KeyRing, tmp_path: Path) -> Iterator[list[FastAPI]]:
    if backend != "postgresql":
        pytest.skip("several app servers share one PostgreSQL; SQLite is one machine's database")
    settings = Settings(environment=Environment.test, database={"url": fresh_url},
                        crypto={"key_file": tmp_path / "keys.json"}, log={"signing_key_file": tmp_path / "log.key"},
                        rate_limits=LENIENT_LIMITS)
    engines = [build_engine(fresh_url, pool_size=THREADS) for _ in range(SERVERS)]
    with Session(engines[0]) as s, s.begin():
        demo.load(s, NOW.date(), weeks=2)
    apps = [create_app(settings, engine=e, clock=lambda: NOW, keyring=keyring) for e in engines]
    assert apps[0].state.engine is not apps[1].state.engine
    yield apps
    for e in engines:
        e.dispose()


def test_two_servers_appending_at_once_never_fork_the_log(servers: list[FastAPI]) -> None:
    start = threading.Barrier(SERVERS * THREADS)

    def appender(app: FastAPI, worker: int) -> list[int]:
        got: list[int] = []
        start.wait()
        for round_ in range(ROUNDS):
            batch = [{"event": "policy.change", "server": worker // THREADS, "n": round_, "k": k}
                     for k in range(1 + round_ % 3)]  # batches of 1 to 3 entries
            with app.state.sessionmaker() as s, s.begin():
                got.extend(log.append_raw(s, batch))
            if round_ % 4 == 3:  # and each server signs checkpoints in between, as its timer would
                with app.state.sessionmaker() as s, s.begin():
                    log.checkpoint(s, app.state.log_signer, NOW, origin=app.state.settings.log.origin)
        return got

    with ThreadPoolExecutor(SERVERS * THREADS) as pool:
        futures = [pool.submit(appender, servers[w // THREADS], w) for w in range(SERVERS * THREADS)]
        indices = [i for f in futures for i in f.result()]

    expected = SERVERS * THREADS * sum(1 + r % 3 for r in range(ROUNDS))
    assert len(indices) == expected and sorted(indices) == list(range(expected))  # no index given twice, no gap
    with Session(servers[1].state.engine) as s:
        head = s.get(LogHead, 1)
        leaves = s.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.idx)).all()
        assert head is not None and head.size == expected == len(leaves)
        # one tree: the head's root is the RFC 9162 root of every stored leaf, in order
        assert head.root == merkle.root_from_leaves(list(leaves))
        # every checkpoint either server signed is a prefix of that one tree (none from a fork)
        checkpoints = s.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size)).all()
        assert checkpoints
        for cp in checkpoints:
            assert cp.root == merkle.root_from_leaves(list(leaves[: cp.size])), cp.size


def _booking(name: str) -> dict[str, Any]:
    starts = dt.datetime(2027, 3, 3, 10, 0, tzinfo=TZ).isoformat()
    return {"office": "central", "service": "apply", "starts_at": starts, "name": name}


def test_the_same_idempotency_key_on_two_servers_books_once_with_one_answer(servers: list[FastAPI]) -> None:
    clients = [TestClient(app, raise_server_exceptions=False) for app in servers]  # no lifespan: the sync path
    body = _booking("Test Person A")
    start = threading.Barrier(SERVERS * 3)

    def send(i: int) -> tuple[int, dict[str, Any], str | None]:
        start.wait()
        r = clients[i % SERVERS].post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "multi-1"})
        return r.status_code, r.json(), r.headers.get("idempotent-replayed")

    with ThreadPoolExecutor(SERVERS * 3) as pool:
        answers = list(pool.map(send, range(SERVERS * 3)))
    assert {status for status, *_ in answers} == {201}, answers
    assert len({a["code"] for _, a, _ in answers}) == 1  # the same answer everywhere
    assert sum(replayed == "true" for *_, replayed in answers) == SERVERS * 3 - 1
    # a later retry on either server still gets the first answer; a different body under the key is refused
    again = clients[1].post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "multi-1"})
    assert again.status_code == 201 and again.json()["code"] == answers[0][1]["code"]
    other = clients[0].post("/api/v1/appointments", json=_booking("Test Person B"),
                            headers={"Idempotency-Key": "multi-1"})
    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"
    with Session(servers[0].state.engine) as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 1


def test_the_fast_paths_of_two_live_servers_book_once_per_key(
    servers: list[FastAPI], fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    """The same, through two uvicorn servers whose PostgreSQL fast path (asyncpg) answers bookings."""
    import httpx

    from tests.scheduling.live import LiveServer

    body = _booking("Test Person C")
    with LiveServer(fresh_url, keyring, tmp_path / "a", clock=lambda: NOW) as one, \
            LiveServer(fresh_url, keyring, tmp_path / "b", clock=lambda: NOW) as two:
        assert one.app.state.fast_booking.loop is not None and two.app.state.fast_booking.loop is not None
        urls = [one.url, two.url]
        start = threading.Barrier(6)

        def send(i: int) -> tuple[int, dict[str, Any]]:
            with httpx.Client(base_url=urls[i % 2], timeout=30) as client:
                start.wait()
                r = client.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "multi-fast"})
                return r.status_code, r.json()

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(send, range(6)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({a["code"] for _, a in answers}) == 1
    with Session(servers[0].state.engine) as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 1
