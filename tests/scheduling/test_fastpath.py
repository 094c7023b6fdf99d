"""The fast path heals: PostgreSQL connections terminated again and again during a booking load.

Only this test's own database's connections are terminated (``pg_terminate_backend`` filtered by
``datname``). Every request must end within its timeout (503 with Retry-After while the writers are
away, never a hang); within 10 s of the terminations stopping, bookings succeed again; and no
acknowledged booking is lost or doubled: a retry with the same Idempotency-Key replays it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import DomainError
from safeslot.scheduling import fastlookup, fastpath, service
from safeslot.scheduling.models import Appointment, Staff
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW
from tests.scheduling.conftest import fast_path_database
from tests.scheduling.invariants import people_violations
from tests.scheduling.live import LiveServer
from tests.scheduling.proxy import BLACKHOLE, FORWARD, REFUSE, Proxy

pytestmark = pytest.mark.slow

TZ = service.zone("America/New_York")
DAY = dt.date(2027, 3, 8)  # the Monday a week after NOW
CLIENTS = 8
# The client's: a request that takes longer has hung. The fast path bounds the whole request by REQUEST_TIMEOUT
# (its watchdog looks every WATCH_EVERY); the rest is the HTTP round trip on a busy machine.
TIMEOUT = fastpath.REQUEST_TIMEOUT + 0.5


@pytest.fixture
def db(fresh_url: str, backend: str) -> Iterator[Engine]:
    with fast_path_database(fresh_url, backend, DAY - dt.timedelta(days=1), 1) as engine:
        yield engine


def _starts() -> list[str]:
    out = []
    for d in range(5):
        day = DAY + dt.timedelta(days=d)
        for q in range(29):  # 09:00 … 16:00, every quarter hour (apply lasts 30 minutes)
            out.append(dt.datetime.combine(day, dt.time(9, 0), TZ) + dt.timedelta(minutes=15 * q))
    return [s.isoformat() for s in out]


class Killer(threading.Thread):
    """Terminates every connection to one database, every ``every`` seconds, until stopped."""

    def __init__(self, admin_url: str, database: str, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.admin_url, self.database, self.every = admin_url, database, every
        self.stop = threading.Event()
        self.killed = 0

    def run(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid()", (self.database,)).fetchall()
                self.killed += len(rows)
                self.stop.wait(self.every)


def test_terminated_connections_heal_and_lose_or_double_nothing(
    db: Engine, fresh_url: str, pg_admin_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    starts = _starts()
    rng = random.Random(11)
    answers: list[tuple[str, dict[str, Any], int, float, float, str | None]] = []  # key, body, status, t, s, code
    database = db.url.database
    assert database and database.startswith("safeslot_t_")
    admin = pg_admin_url.replace("postgresql+psycopg://", "postgresql://")
    killer = Killer(admin, database)

    stop = threading.Event()  # set once bookings have resumed after the terminations (or 10 s passed)

    async def load(base: str) -> None:
        counter = 0

        async def client(n: int) -> None:
            nonlocal counter
            async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http:
                while not stop.is_set():
                    counter += 1
                    key = f"fault-{n}-{counter}"
                    body = {"office": "central", "service": rng.choice(["card", "apply"]),
                            "starts_at": rng.choice(starts), "name": "Test Person A"}
                    sent = time.monotonic()
                    r = await http.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": key})
                    took = time.monotonic() - sent
                    if r.status_code == 503:
                        assert r.headers["retry-after"] and r.headers["content-type"] == "application/problem+json"
                    code = r.json().get("code") if r.status_code == 201 else None
                    answers.append((key, body, r.status_code, sent, took, code))
                    await asyncio.sleep(0.01)

        await asyncio.gather(*(client(n) for n in range(CLIENTS)))

    def booked_since(t: float) -> bool:
        return any(status == 201 and sent > t for _, _, status, sent, _, _ in list(answers))

    def wait_for(condition: Any, within: float) -> None:  # on the answers, not for a fixed time
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and not condition():
            time.sleep(0.05)

    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live:
        loader = threading.Thread(target=lambda: asyncio.run(load(live.url)))
        loader.start()
        wait_for(lambda: booked_since(0), 30)  # the load is under way
        killer.start()
        time.sleep(4)  # the terminations go on this long
        killer.stop.set()
        killer.join(10)
        recovered = time.monotonic()
        wait_for(lambda: booked_since(recovered), 10)
        stop.set()
        loader.join(60)
        assert killer.killed >= 10
        health = httpx.get(f"{live.url}/healthz", timeout=TIMEOUT)
        assert health.status_code == 200 and health.json()["booking_writers"]["connected"] >= 1

        statuses = Counter(status for _, _, status, *_ in answers)
        assert set(statuses) <= {201, 409, 503}, statuses
        assert statuses[503] > 0  # the terminations were felt ...
        assert max(took for *_, took, _ in answers) < TIMEOUT  # ... and no one waited past their timeout
        # within 10 s of the terminations stopping, bookings succeed
        after = [sent for _, _, status, sent, _, _ in answers if status == 201 and sent > recovered]
        assert after and min(after) - recovered < 10

        # Retrying every unanswered booking with its key: a booking that did commit is replayed, not doubled.
        final: dict[str, int] = {}
        codes: dict[str, set[str]] = {}
        with httpx.Client(base_url=live.url, timeout=TIMEOUT) as http:
            for key, body, status, _, _, code in answers:
                if code is not None:
                    codes.setdefault(key, set()).add(code)
                if status == 503:
                    r = http.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": key})
                    assert r.status_code in (201, 409), r.text
                    status = r.status_code
                    if status == 201:
                        codes.setdefault(key, set()).add(r.json()["code"])
                final[key] = status

    with Session(db) as s:
        stored = Counter(service.format_code(c) for c in s.scalars(select(Appointment.code)))
        assert all(n == 1 for n in stored.values())
        assert all(len(c) == 1 for c in codes.values())  # one code per key, however often it was sent
        acknowledged = {c for cs in codes.values() for c in cs}
        assert acknowledged == set(stored)  # nothing acknowledged is lost, nothing stored unacknowledged
        assert sum(v == 201 for v in final.values()) == len(stored)
        assert people_violations(s) == []


def test_the_fast_path_sees_staff_changes_within_seconds(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    """Its cache of the office's people refreshes every FACTS_TTL seconds: a new desk is booked then,
    and a desk that left is never booked, even before the refresh (the statement re-checks the staff table)."""
    at = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(11, 0), TZ).isoformat()

    def body(i: int) -> dict[str, Any]:
        return {"office": "central", "service": "card", "starts_at": at, "name": f"Test Person {i}"}

    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=TIMEOUT) as http:
        assert [http.post("/api/v1/appointments", json=body(i)).status_code for i in range(5)] == [201] * 4 + [409]
        with Session(db) as s, s.begin():
            central = service.get_office(s, "central")
            gone = s.scalars(select(Appointment.staff_id).order_by(Appointment.id.desc())).first()
            assert gone is not None
            service.cancel(s, s.scalars(select(Appointment.code).where(Appointment.staff_id == gone)).one(), NOW)
            service.update_staff(s, central, gone, active=False, now=NOW)  # left: not bookable at once
            service.add_staff(s, central, "Desk G", ["en"], ["card"])
        assert http.post("/api/v1/appointments", json=body(5)).status_code == 409  # the one who left is free
        time.sleep(fastlookup.FACTS_TTL + 0.5)
        made = http.post("/api/v1/appointments", json=body(6))
        assert made.status_code == 201, made.text  # Desk G, seen by the refreshed cache
        assert live.app.state.fast_booking.answered >= 7
    with Session(db) as s:
        newest = s.scalars(select(Appointment).order_by(Appointment.id.desc())).first()
        assert newest is not None and newest.staff_id not in (None, gone)
        assert people_violations(s) == []


def test_the_fast_path_sees_a_new_service_within_seconds_and_a_closed_office_at_once(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    """Office and service changes, as the staff one above: a service added to the office is bookable at once
    (the fast path does not know it yet and leaves it to the sync endpoint) and by the fast path itself once its
    facts are refreshed (FACTS_TTL); an office closed (its visits to come listed for moving) books no one from
    that moment, on the fast path, with the same answer the sync path gives: slot-full, no nearest time."""
    from safeslot.scheduling import office_changes

    def at(day: int, hour: int, minute: int = 0) -> str:
        return dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(hour, minute), TZ).isoformat()

    def body(svc: str, starts_at: str, i: int) -> dict[str, Any]:
        return {"office": "central", "service": svc, "starts_at": starts_at, "name": f"Test Person {i}"}

    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=TIMEOUT) as http:
        fast = live.app.state.fast_booking
        assert http.post("/api/v1/appointments", json=body("card", at(3, 9), 0)).status_code == 201
        assert fast.answered == 1  # the fast path's facts of the office are read
        with Session(db) as s, s.begin():
            central = service.get_office(s, "central")
            service.add_service(s, central, "renew", "Renew a benefit", "Renew what you receive.", 15)
            desk = s.scalars(select(Staff.id).where(Staff.office_id == central.id, Staff.display_name == "Desk E"))
            service.update_staff(s, central, desk.one(), services=["card", "renew"], now=NOW)
            service.reopen_slots(s, central, NOW)
        made = http.post("/api/v1/appointments", json=body("renew", at(3, 10), 1))
        assert made.status_code == 201, made.text  # by the sync endpoint while the fast path's facts are older
        time.sleep(fastlookup.FACTS_TTL + 0.5)
        answered = fast.answered
        made = http.post("/api/v1/appointments", json=body("renew", at(3, 11), 2))
        assert made.status_code == 201 and fast.answered == answered + 1, made.text  # by the fast path
        assert http.post("/api/v1/appointments", json=body("renew", at(3, 11), 3)).status_code == 409  # one desk

        with Session(db) as s, s.begin():
            central = service.get_office(s, "central")
            to_move = [b.id for b in office_changes.bookings_to_move(s, central, NOW)]
            assert len(to_move) == 3
            office_changes.close_office(s, central, to_move, NOW)
        for i, wait in enumerate((0.0, fastlookup.FACTS_TTL + 0.5)):  # at once, and after a refresh
            time.sleep(wait)
            answered = fast.answered
            refused = http.post("/api/v1/appointments", json=body("card", at(4, 10), 10 + i))
            assert refused.status_code == 409 and fast.answered == answered + 1, refused.text
            assert refused.json()["type"] == "/problems/slot-full" and refused.json()["nearest"] == []
    with Session(db) as s:
        assert s.scalar(select(func.count()).select_from(Appointment).where(Appointment.staff_id.is_not(None))) == 0
        assert people_violations(s) == []
        with pytest.raises(DomainError) as sync:  # the sync path's answer for the same request
            service.book(s, keyring, BookingIn.model_validate(body("card", at(4, 10), 12)), NOW)
        assert sync.value.slug == "slot-full" and sync.value.extra["nearest"] == []


def test_a_start_freed_just_after_it_was_found_full_is_booked(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    """A start refused as full is probed for FULL_MEMO s (refusals under its hour lock shared, booking no one);
    a place freed meanwhile is still booked at once, by the fast path, never refused while someone is free."""
    at = dt.datetime.combine(DAY + dt.timedelta(days=2), dt.time(10, 0), TZ).isoformat()

    def body(i: int) -> dict[str, Any]:
        return {"office": "central", "service": "card", "starts_at": at, "name": f"Test Person {i}"}

    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=TIMEOUT) as http:
        assert [http.post("/api/v1/appointments", json=body(i)).status_code for i in range(5)] == [201] * 4 + [409]
        fast = live.app.state.fast_booking
        answered = fast.answered
        with Session(db) as s, s.begin():
            service.cancel(s, s.scalars(select(Appointment.code).order_by(Appointment.id.desc())).first(), NOW)
        made = http.post("/api/v1/appointments", json=body(5))  # within FULL_MEMO: sent as a probe first
        assert made.status_code == 201, made.text
        assert http.post("/api/v1/appointments", json=body(6)).status_code == 409  # full again
        assert fast.answered == answered + 2
    with Session(db) as s:
        assert people_violations(s) == []


def test_refusals_of_a_full_start_are_answered_on_the_probers_connection(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a start is found full, its refusals go to the prober (a queue and a connection of their own, a
    transaction that writes nothing), not into the writers' batches: they are still 409 with the nearest free
    times, the place freed meanwhile is still booked, and nobody is booked twice."""
    # A start stays "just found full" for FULL_MEMO (1 s): long enough here that a slow moment of a busy machine
    # between two requests cannot turn a probe back into a booking attempt.
    monkeypatch.setattr(fastpath, "FULL_MEMO", 60.0)
    at = dt.datetime.combine(DAY + dt.timedelta(days=3), dt.time(11, 0), TZ).isoformat()

    def body(i: int) -> dict[str, Any]:
        return {"office": "central", "service": "card", "starts_at": at, "name": f"Test Person {i}"}

    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=TIMEOUT) as http:
        fast = live.app.state.fast_booking
        assert http.get("/healthz").json()["booking_writers"]["prober"] == 1
        filled = [http.post("/api/v1/appointments", json=body(i)).status_code for i in range(5)]
        assert filled == [201] * 4 + [409] and fast.probed == 0  # the first refusal was a booking's
        refused = [http.post("/api/v1/appointments", json=body(10 + i)) for i in range(5)]
        assert [r.status_code for r in refused] == [409] * 5 and fast.probed == 5
        assert refused[-1].json()["type"] == "/problems/slot-full" and refused[-1].json()["nearest"]
        with Session(db) as s, s.begin():
            service.cancel(s, s.scalars(select(Appointment.code).order_by(Appointment.id.desc())).first(), NOW)
        made = http.post("/api/v1/appointments", json=body(20))  # probed, found free, booked by a writer
        assert made.status_code == 201 and fast.probed == 6, made.text
    with Session(db) as s:
        assert people_violations(s) == []


def test_probes_whose_connection_was_lost_are_refused_by_the_writers_not_answered_503(
    db: Engine, fresh_url: str, pg_admin_url: str, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of probes writes nothing: when the prober's connection is cut (a failover, a restart), its probes
    are sent again to the writers and answered as ever, instead of 503 after the database is back."""
    # A start stays "just found full" for FULL_MEMO (1 s): long enough here that a slow moment of a busy machine
    # between two requests cannot turn a probe back into a booking attempt.
    monkeypatch.setattr(fastpath, "FULL_MEMO", 60.0)
    at = dt.datetime.combine(DAY + dt.timedelta(days=4), dt.time(11, 0), TZ).isoformat()

    def body(i: int) -> dict[str, Any]:
        return {"office": "central", "service": "card", "starts_at": at, "name": f"Test Person {i}"}

    database = db.url.database
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=TIMEOUT) as http:
        fast = live.app.state.fast_booking
        assert [http.post("/api/v1/appointments", json=body(i)).status_code for i in range(5)] == [201] * 4 + [409]
        with psycopg.connect(pg_admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
            cut = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = %s AND application_name = %s",
                                (database, fastpath.PROBER_NAME)).fetchone()
        assert cut == (1,)
        # Either the prober took it and lost its connection (its batch goes back to the writers), or the
        # prober's listener had already marked it down and a writer took it: refused as ever, never 503.
        refused = http.post("/api/v1/appointments", json=body(10))
        assert refused.status_code == 409, refused.text
        probed = fast.probed
        assert probed in (0, 1)
        deadline = time.monotonic() + 10
        while not http.get("/healthz").json()["booking_writers"]["prober"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.post("/api/v1/appointments", json=body(11)).status_code == 409 and fast.probed == probed + 1


def through(live: LiveServer, proxy: Proxy) -> LiveServer:
    """The live server's fast path (writers, prober, look-ups) connects through the proxy; the app's own
    engine (the sync path, /healthz's database check) still reaches PostgreSQL directly."""
    fast = live.app.state.fast_booking
    fast.dsn = fast.lookups.dsn = proxy.dsn
    return live


async def at_once(base: str, bodies: list[dict[str, Any]], timeout: float = 30) -> list[tuple[httpx.Response, float]]:
    """POST every body at the same moment; each answer with the seconds it took."""
    async with httpx.AsyncClient(base_url=base, timeout=timeout,
                                 limits=httpx.Limits(max_connections=len(bodies))) as http:
        async def one(body: dict[str, Any]) -> tuple[httpx.Response, float]:
            sent = time.monotonic()
            r = await http.post("/api/v1/appointments", json=body)
            return r, time.monotonic() - sent

        return await asyncio.gather(*(one(b) for b in bodies))


def test_an_unreachable_database_answers_every_booking_503_within_the_request_timeout(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that stops answering without refusing (packets dropped): the office's facts are older than
    their TTL, so every booking needs a read that will never come back. Each request is answered 503 with
    Retry-After within REQUEST_TIMEOUT, however many arrive together: those waiting behind a read that
    failed hear it at once instead of each trying again (before, the k-th waited about 2k s); and a read
    allowed longer than the request (the second round) is cut off at the request's deadline. When the
    database answers again, bookings succeed."""
    at = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(14, 0), TZ)

    def body(i: int) -> dict[str, Any]:
        start = at + dt.timedelta(minutes=15 * (i % 8))
        return {"office": "central", "service": "card", "starts_at": start.isoformat(), "name": f"Test Person {i}"}

    with Proxy(fresh_url) as proxy, through(LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW), proxy) \
            as live, httpx.Client(base_url=live.url, timeout=30) as http:
        assert http.post("/api/v1/appointments", json=body(0)).status_code == 201  # through the proxy
        for connect_timeout, read_timeout in ((fastlookup.CONNECT_TIMEOUT, fastlookup.READ_TIMEOUT), (60.0, 60.0)):
            monkeypatch.setattr(fastlookup, "CONNECT_TIMEOUT", connect_timeout)
            monkeypatch.setattr(fastlookup, "READ_TIMEOUT", read_timeout)
            proxy.set(BLACKHOLE)
            time.sleep(fastlookup.FACTS_TTL + 0.2)  # the office's facts are stale: the next booking must read
            answers = asyncio.run(at_once(live.url, [body(i) for i in range(1, 7)]))
            took = [round(t, 2) for _, t in answers]
            for r, _ in answers:
                assert r.status_code == 503, r.text
                assert r.headers["retry-after"] and r.headers["content-type"] == "application/problem+json"
            assert max(took) < fastpath.REQUEST_TIMEOUT + 0.5, (read_timeout, took)
            proxy.set(FORWARD)
            deadline = time.monotonic() + 10
            while (made := http.post("/api/v1/appointments", json=body(9))).status_code == 503:
                assert time.monotonic() < deadline, made.text
                time.sleep(0.2)
            assert made.status_code == 201, made.text


def test_healthz_says_503_while_the_writers_have_no_connection_then_200_when_they_are_back(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    """The fast path's connections are cut and refused (the database went, for them): /healthz answers 503
    problem+json with Retry-After, `checks.writers` says so and `booking_writers.connected` is 0 — seen at once,
    while the writers are idle, not at their next batch; bookings meanwhile are 503 at once. When connections
    are accepted again, the writers reconnect by themselves and /healthz is 200."""
    at = dt.datetime.combine(DAY + dt.timedelta(days=2), dt.time(14, 0), TZ).isoformat()
    body = {"office": "central", "service": "card", "starts_at": at, "name": "Test Person M"}

    def health_when(http: httpx.Client, ok: Any) -> httpx.Response:
        deadline = time.monotonic() + 10
        while not ok(r := http.get("/healthz")):
            assert time.monotonic() < deadline, r.text
            time.sleep(0.05)
        return r

    with Proxy(fresh_url) as proxy, through(LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW), proxy) \
            as live, httpx.Client(base_url=live.url, timeout=TIMEOUT) as http:
        assert http.get("/healthz").status_code == 200
        proxy.set(REFUSE)
        down = health_when(http, lambda r: r.status_code != 200)
        assert down.status_code == 503 and down.headers["retry-after"]
        assert down.headers["content-type"] == "application/problem+json"
        assert down.json()["checks"]["writers"] == "the booking writers are reconnecting"
        assert down.json()["checks"]["database"] == "ok"  # the app's own engine still reaches it
        writers = down.json()["booking_writers"]
        assert writers["connected"] == 0 and writers["writers"] == fastpath.WRITERS and writers["prober"] == 0
        sent = time.monotonic()
        refused = http.post("/api/v1/appointments", json=body)
        assert refused.status_code == 503 and refused.headers["retry-after"] and time.monotonic() - sent < 1
        proxy.set(FORWARD)
        up = health_when(http, lambda r: r.status_code == 200)  # one writer back is enough for 200 ...
        assert up.json()["checks"]["writers"] == "ok" and up.headers.get("retry-after") is None
        health_when(http, lambda r: r.json()["booking_writers"]["connected"] == fastpath.WRITERS)  # ... all follow
        made = http.post("/api/v1/appointments", json=body)
        assert made.status_code == 201, made.text
