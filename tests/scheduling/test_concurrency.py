"""People under contention: 64 bookings at once never put a person in two visits.

Each attempt runs ``service.book`` in its own transaction on its own connection,
and a barrier releases them together. PostgreSQL serialises assignment on advisory
locks (the office's staff lock shared, then one per UTC hour the visit touches:
``booking.lock_booking_hours``), SQLite on ``BEGIN IMMEDIATE``; either way the holds'
primary key (staff_id, unit) is the last word. The same races also go through
HTTP against a real server, which on PostgreSQL is the asyncpg fast path.

The demo office (scheduling/demo.py) has six staff: apply is served by A, B, D, F;
card by A, B, C, E; interview (45 min) by B, C, D, F; D and F speak Vietnamese.
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
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safeslot.db import build_engine
from safeslot.kit import metrics
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import DomainError
from safeslot.scheduling import service
from safeslot.scheduling.errors import InterpreterUnavailable, SlotFull
from safeslot.scheduling.models import Appointment, IdempotencyRecord
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, office_database
from tests.scheduling.invariants import people_violations
from tests.scheduling.live import LiveServer

pytestmark = pytest.mark.slow

ATTEMPTS = 64
STAFF = 6
TZ = service.zone("America/New_York")
# A Tuesday 10:00 local, a week after NOW: inside the demo's slots.
START = dt.datetime(2027, 3, 9, 10, 0, tzinfo=TZ)
SERVICES = ("apply", "card", "interview")


@pytest.fixture
def db(fresh_url: str) -> Iterator[Engine]:
    # the week around START is enough
    engine = office_database(fresh_url, START.date() - dt.timedelta(days=1), pool_size=2)
    yield engine
    engine.dispose()


def _body(i: int, language: str | None = None, service_slug: str = "apply",
          start: dt.datetime = START) -> BookingIn:
    return BookingIn(office="central", service=service_slug, starts_at=start, name=f"Test Person {i}",
                     language=language)


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
    # One engine with a connection per attempt: 64 engines cost 64 dialect start-ups (server version,
    # settings) for nothing the race needs.
    shared = build_engine(url, pool_size=ATTEMPTS)

    def run(i: int) -> None:
        # A connection of its own, opened before the barrier (but no BEGIN yet: on SQLite, BEGIN
        # IMMEDIATE would take the write lock while others wait).
        try:
            with _connect(shared) as conn:
                barrier.wait(timeout=90)
                try:
                    with Session(bind=conn) as s, s.begin():
                        results[i] = attempt(s, i)
                except DomainError as exc:
                    results[i] = exc
        except Exception as exc:  # shown by the assertion on results
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(ATTEMPTS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        shared.dispose()
    return results


def _kinds(results: list[object]) -> Counter[str]:
    return Counter("ok" if isinstance(r, Appointment) else type(r).__name__ for r in results)


def _appointments(engine: Engine) -> list[Appointment]:
    with Session(engine) as s:
        return list(s.scalars(select(Appointment)))


def _sound(engine: Engine) -> None:
    with Session(engine) as s:
        assert people_violations(s) == []


def _book(keyring: KeyRing, body: Callable[[int], BookingIn]) -> Callable[[Session, int], object]:
    return lambda s, i: service.book(s, keyring, body(i), NOW)


def test_64_bookings_of_one_service_get_exactly_its_staff(db: Engine, keyring: KeyRing) -> None:
    results = _race(db, _book(keyring, lambda i: _body(i)))
    assert _kinds(results) == {"ok": 4, "SlotFull": ATTEMPTS - 4}  # A, B, D, F serve apply
    assert all(len(r.extra["nearest"]) == 3 for r in results if isinstance(r, SlotFull))
    assert len({a.staff_id for a in _appointments(db)}) == 4
    _sound(db)


def test_64_bookings_of_several_services_never_exceed_the_staff(db: Engine, keyring: KeyRing) -> None:
    # Capacity counted per service would allow 4 + 4 + 4 = 12 at 10:00; there are six people.
    results = _race(db, _book(keyring, lambda i: _body(i, service_slug=SERVICES[i % 3])))
    kinds = _kinds(results)
    assert set(kinds) <= {"ok", "SlotFull"}, results
    assert 3 <= kinds["ok"] <= STAFF
    booked = _appointments(db)
    assert len({a.staff_id for a in booked}) == len(booked)
    _sound(db)


def test_overlapping_45_minute_visits_never_share_a_person(db: Engine, keyring: KeyRing) -> None:
    later = START + dt.timedelta(minutes=15)  # 10:15 overlaps 10:00-10:45
    results = _race(db, _book(keyring, lambda i: _body(i, service_slug="interview",
                                                          start=START if i % 2 else later)))
    assert _kinds(results)["ok"] == 4  # B, C, D, F serve interviews, whichever start they got
    assert len({a.staff_id for a in _appointments(db)}) == 4
    _sound(db)


def _take_one_interpreter(engine: Engine, keyring: KeyRing) -> None:
    """Desk D serves a Vietnamese apply visit at START: Desk F is the last Vietnamese speaker free."""
    with Session(engine) as s, s.begin():
        taken = service.book(s, keyring, _body(999, "vi"), NOW)
        assert taken.interpreter_id is None  # D or F speaks Vietnamese: no interpreter needed


def test_the_last_interpreter_goes_to_one_booking(db: Engine, keyring: KeyRing) -> None:
    _take_one_interpreter(db, keyring)
    # card is served by A, B, C, E, none of whom speaks Vietnamese: each visit needs an interpreter
    results = _race(db, _book(keyring, lambda i: _body(i, "vi", "card")))
    assert _kinds(results) == {"ok": 1, "InterpreterUnavailable": ATTEMPTS - 1}
    assert all(isinstance(r, (Appointment, InterpreterUnavailable)) for r in results)
    booked = _appointments(db)
    assert len(booked) == 2 and sum(a.interpreter_id is not None for a in booked) == 1
    _sound(db)


def test_concurrent_retries_with_one_idempotency_key_make_one_row(db: Engine, keyring: KeyRing) -> None:
    from safeslot.scheduling.idempotency import request_hash, run_once

    body = _body(0, service_slug="card")

    def attempt(s: Session, i: int) -> object:
        def run() -> tuple[int, dict[str, Any]]:
            a = service.book(s, keyring, body, NOW)
            return 201, {"code": a.code}

        service.lock_booking_hours(s, body)
        return run_once(s, "book", "same-key", request_hash(body.model_dump(mode="json")), NOW, run)

    results = _race(db, attempt)
    answers = {r[1]["code"] for r in results if isinstance(r, tuple)}
    assert len(answers) == 1, results
    assert sorted(r[2] for r in results if isinstance(r, tuple)) == [False] + [True] * (ATTEMPTS - 1)
    assert len(_appointments(db)) == 1
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


def _json(i: int, language: str | None = None, service_slug: str = "apply",
          start: dt.datetime = START) -> dict[str, Any]:
    return _body(i, language, service_slug, start).model_dump(mode="json", exclude_none=True)


def test_64_http_bookings_of_several_services(db: Engine, live: LiveServer) -> None:
    before = _counters()
    responses = _post_all(live.url, [_json(i, service_slug=SERVICES[i % 3]) for i in range(ATTEMPTS)],
                          [f"k{i}" for i in range(ATTEMPTS)])
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) == {201, 409} and 3 <= statuses[201] <= STAFF, statuses
    after = _counters()
    assert (after[0] - before[0], after[1] - before[1]) == (statuses[201], statuses[409])  # /metrics
    for r in responses:
        if r.status_code == 409:
            problem = r.json()
            assert r.headers["content-type"] == "application/problem+json"
            assert problem["type"] == "/problems/slot-full" and len(problem["nearest"]) == 3
            assert START.isoformat() not in problem["nearest"]
        else:
            assert r.json()["starts_at"] == START.isoformat()
    booked = _appointments(db)
    assert len(booked) == statuses[201] and len({a.staff_id for a in booked}) == len(booked)
    _sound(db)
    with Session(db) as s:  # refused bookings keep no claim on their key: a retry runs afresh
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == statuses[201]


def test_64_http_overlapping_interviews(db: Engine, live: LiveServer) -> None:
    later = START + dt.timedelta(minutes=15)
    responses = _post_all(live.url, [_json(i, service_slug="interview", start=START if i % 2 else later)
                                     for i in range(ATTEMPTS)], [None] * ATTEMPTS)
    assert Counter(r.status_code for r in responses) == {201: 4, 409: ATTEMPTS - 4}
    assert len({a.staff_id for a in _appointments(db)}) == 4
    _sound(db)


def test_64_http_bookings_for_the_last_interpreter(db: Engine, live: LiveServer, keyring: KeyRing) -> None:
    _take_one_interpreter(db, keyring)
    responses = _post_all(live.url, [_json(i, "vi", "card") for i in range(ATTEMPTS)], [None] * ATTEMPTS)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: ATTEMPTS - 1}
    assert {r.json()["type"] for r in responses if r.status_code == 409} == {"/problems/interpreter-unavailable"}
    assert len(_appointments(db)) == 2
    _sound(db)


def test_concurrent_http_retries_with_one_key_make_one_row(db: Engine, live: LiveServer) -> None:
    body = _json(1, service_slug="card")
    responses = _post_all(live.url, [body] * ATTEMPTS, ["one-key"] * ATTEMPTS)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["code"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == ATTEMPTS - 1
    assert len(_appointments(db)) == 1
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
