"""Capacity under contention: 64 bookings at once, each on its own connection, never overbook.

Each attempt runs ``service.book`` in its own transaction on its own connection,
and a barrier releases them together. PostgreSQL serialises them on the
capacity row's lock (READ COMMITTED re-checks ``booked < capacity`` after the
wait); SQLite serialises them on ``BEGIN IMMEDIATE``. The same tests also go
through HTTP against a real server, which on PostgreSQL is the asyncpg fast path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safeslot import metrics
from safeslot.db import build_engine
from safeslot.errors import DomainError
from safeslot.privacy.crypto import KeyRing
from safeslot.scheduling import demo, service
from safeslot.scheduling.errors import InterpreterUnavailable, SlotFull
from safeslot.scheduling.models import Appointment, IdempotencyRecord, InterpreterCapacity, SlotCapacity
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW
from tests.scheduling.live import LiveServer

ATTEMPTS = 64
TZ = service.zone("America/New_York")
# A Tuesday 10:00 local, a week after NOW: inside the demo's two weeks of slots.
START = dt.datetime(2027, 3, 9, 10, 0, tzinfo=TZ)


@pytest.fixture
def db(fresh_url: str) -> Iterator[Engine]:
    engine = build_engine(fresh_url, pool_size=2)
    with Session(engine) as s, s.begin():
        demo.load(s, START.date() - dt.timedelta(days=1), weeks=1)  # the week around START is enough
    yield engine
    engine.dispose()


def _limit_slot(engine: Engine, service_slug: str, capacity: int) -> int:
    with Session(engine) as s, s.begin():
        office = service.get_office(s, "central")
        svc = service.get_service(s, office, service_slug)
        slot_id = s.scalars(
            select(SlotCapacity.id).where(
                SlotCapacity.service_id == svc.id, SlotCapacity.starts_at == START.astimezone(dt.UTC)
            )
        ).one()
        s.execute(update(SlotCapacity).where(SlotCapacity.id == slot_id).values(capacity=capacity))
        return slot_id


def _last_interpreter(engine: Engine, language: str) -> None:
    """Leave exactly one free interpreter for ``language`` at START; plenty of desks."""
    _limit_slot(engine, "apply", ATTEMPTS)
    with Session(engine) as s, s.begin():
        s.execute(
            update(InterpreterCapacity)
            .where(InterpreterCapacity.language == language)
            .values(booked=InterpreterCapacity.capacity - 1)
        )


def _body(i: int, language: str | None = None, service_slug: str = "apply") -> BookingIn:
    return BookingIn(
        office="central", service=service_slug, starts_at=START, name=f"Person {i} Example", language=language
    )


def _connect(engine: Engine) -> Connection:
    """Connect, waiting while the server is at max_connections (other suites share it)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return engine.connect()
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _race(engine: Engine, attempt: Callable[[Session, int], object]) -> list[object]:
    """Run ``attempt`` ATTEMPTS times at once, each on its own connection and transaction."""
    barrier = threading.Barrier(ATTEMPTS)
    url = engine.url.render_as_string(hide_password=False)
    results: list[object] = [None] * ATTEMPTS

    def run(i: int) -> None:
        # An engine and a connection of its own, opened before the barrier (but no BEGIN
        # yet: on SQLite, BEGIN IMMEDIATE would take the write lock while others wait).
        own = build_engine(url, pool_size=1)
        try:
            with _connect(own) as conn:
                barrier.wait(timeout=90)
                try:
                    with Session(bind=conn) as s, s.begin():
                        results[i] = attempt(s, i)
                except DomainError as exc:
                    results[i] = exc
        except Exception as exc:  # shown by the assertion on results
            results[i] = exc
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _kinds(results: list[object]) -> Counter[str]:
    return Counter("ok" if isinstance(r, Appointment) else type(r).__name__ for r in results)


def _appointments(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Appointment)) or 0)


def _consistent(engine: Engine) -> None:
    """booked never exceeds capacity, and every place taken is an appointment."""
    with Session(engine) as s:
        assert s.scalar(select(func.count()).where(SlotCapacity.booked > SlotCapacity.capacity)) == 0
        appointments = s.scalar(select(func.count()).select_from(Appointment))
        assert s.scalar(select(func.coalesce(func.sum(SlotCapacity.booked), 0))) == appointments


def test_64_bookings_for_3_places_exactly_3_succeed(db: Engine, keyring: KeyRing) -> None:
    slot_id = _limit_slot(db, "apply", 3)
    results = _race(db, lambda s, i: service.book(s, keyring, _body(i), NOW))
    assert _kinds(results) == {"ok": 3, "SlotFull": ATTEMPTS - 3}
    assert all(isinstance(r, SlotFull) and len(r.extra["nearest"]) == 3 for r in results if r is not None
               and not isinstance(r, Appointment))
    assert _appointments(db) == 3
    with Session(db) as s:
        assert s.get_one(SlotCapacity, slot_id).booked == 3
    _consistent(db)


def test_64_bookings_for_the_last_interpreter_exactly_1_succeeds(db: Engine, keyring: KeyRing) -> None:
    _last_interpreter(db, "vi")
    results = _race(db, lambda s, i: service.book(s, keyring, _body(i, "vi"), NOW))
    assert _kinds(results) == {"ok": 1, "InterpreterUnavailable": ATTEMPTS - 1}
    assert all(isinstance(r, (Appointment, InterpreterUnavailable)) for r in results)
    assert _appointments(db) == 1
    _consistent(db)  # the refused bookings gave their slot places back
    with Session(db) as s:
        assert s.scalar(
            select(func.count()).where(InterpreterCapacity.booked > InterpreterCapacity.capacity)
        ) == 0


def test_concurrent_retries_with_one_idempotency_key_make_one_row(db: Engine, keyring: KeyRing) -> None:
    from safeslot.scheduling.idempotency import request_hash, run_once

    body = _body(0, service_slug="card")

    def attempt(s: Session, i: int) -> object:
        def run() -> tuple[int, dict[str, Any]]:
            a = service.book(s, keyring, body, NOW)
            return 201, {"code": a.code}

        return run_once(s, "book", "same-key", request_hash(body.model_dump(mode="json")), NOW, run)

    results = _race(db, attempt)
    answers = {r[1]["code"] for r in results if isinstance(r, tuple)}
    assert len(answers) == 1, results
    assert sorted(r[2] for r in results if isinstance(r, tuple)) == [False] + [True] * (ATTEMPTS - 1)
    assert _appointments(db) == 1
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


# -- through HTTP, against a real server (the asyncpg fast path on PostgreSQL) --------------------
@pytest.fixture
def live(db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Any) -> Iterator[LiveServer]:
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as server:
        fast = getattr(server.app.state, "fast_booking", None)
        # PostgreSQL books through the asyncpg fast path; SQLite through the sync endpoint
        assert (fast is not None and fast.loop is not None) == fresh_url.startswith("postgresql")
        yield server


def _post_all(base: str, bodies: list[dict[str, Any]], keys: list[str | None]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=ATTEMPTS)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
            # open the connections first so the requests really arrive together
            await asyncio.gather(*(client.get("/healthz") for _ in range(ATTEMPTS)))
            return await asyncio.gather(*(
                client.post("/api/v1/appointments", json=b, headers={"Idempotency-Key": k} if k else {})
                for b, k in zip(bodies, keys, strict=True)
            ))

    return asyncio.run(go())


def _counters() -> tuple[float, float]:
    bookings = metrics.REGISTRY.get_sample_value("safeslot_bookings_total") or 0.0
    conflicts = metrics.REGISTRY.get_sample_value("safeslot_booking_conflicts_total", {"reason": "slot"}) or 0.0
    return bookings, conflicts


def _json(i: int, language: str | None = None, service_slug: str = "apply") -> dict[str, Any]:
    return _body(i, language, service_slug).model_dump(mode="json", exclude_none=True)


def test_64_http_bookings_for_3_places(db: Engine, live: LiveServer) -> None:
    _limit_slot(db, "apply", 3)
    before = _counters()
    responses = _post_all(live.url, [_json(i) for i in range(ATTEMPTS)], [f"k{i}" for i in range(ATTEMPTS)])
    assert Counter(r.status_code for r in responses) == {201: 3, 409: ATTEMPTS - 3}
    after = _counters()
    assert (after[0] - before[0], after[1] - before[1]) == (3, ATTEMPTS - 3)  # /metrics: bookings, conflicts
    for r in responses:
        if r.status_code == 409:
            problem = r.json()
            assert r.headers["content-type"] == "application/problem+json"
            assert problem["type"] == "/problems/slot-full" and len(problem["nearest"]) == 3
        else:
            assert r.json()["starts_at"] == START.isoformat()
    assert _appointments(db) == 3
    _consistent(db)
    with Session(db) as s:  # refused bookings keep no claim on their key: a retry runs afresh
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 3


@pytest.fixture
def postgresql_only(backend: str) -> None:
    """SQLite answers HTTP bookings with the sync path, which the service-level races above already cover."""
    if backend != "postgresql":
        pytest.skip("same code path as the service-level race on SQLite")


def test_64_http_bookings_for_the_last_interpreter(postgresql_only: None, db: Engine, live: LiveServer) -> None:
    _last_interpreter(db, "es")
    responses = _post_all(live.url, [_json(i, "es") for i in range(ATTEMPTS)], [None] * ATTEMPTS)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: ATTEMPTS - 1}
    assert {r.json()["type"] for r in responses if r.status_code == 409} == {"/problems/interpreter-unavailable"}
    assert _appointments(db) == 1
    _consistent(db)


def test_concurrent_http_retries_with_one_key_make_one_row(
    postgresql_only: None, db: Engine, live: LiveServer
) -> None:
    body = _json(1, service_slug="card")
    responses = _post_all(live.url, [body] * ATTEMPTS, ["one-key"] * ATTEMPTS)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["code"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == ATTEMPTS - 1
    assert _appointments(db) == 1
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
        assert s.scalar(text("SELECT 1")) == 1
