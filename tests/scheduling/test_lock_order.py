"""Large and small writers of people's holds side by side (PostgreSQL): one lock order, whatever the size.

A large writer holds someone over more hours than a visit's few (``rules.MAX_HOUR_LOCKS``): it takes the
office's staff lock exclusively (``repository.take_locks``) or, when it skipped that, the staff_hold
trigger takes it for the statement, at once or not at all (migration 0520). A small writer (a booking, a
cancel) takes the office's lock shared before anything else. So neither ever waits on the other's rows
while holding what the other waits for: no deadlock, no booking failing on a hold it could not see, no
visit re-held after it was cancelled.

The two parties are interleaved in a fixed order, not by sleeping (as test_staff_change_race.py): the
first does its work and keeps its transaction open, the second starts in a thread, the test waits until
the second finished or waits for a lock (``pg_locks``), then commits the first.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import repository as repo
from safeslot.scheduling import service
from safeslot.scheduling.assignment import people_of
from safeslot.scheduling.models import Appointment, StaffHold
from safeslot.scheduling.rules import MAX_HOUR_LOCKS, lock_keys, lock_order, office_lock_key
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, office_database
from tests.scheduling.invariants import people_violations
from tests.scheduling.races import first_choice, second_party, wait_blocked_or_done

pytestmark = pytest.mark.slow

TZ = service.zone("America/New_York")
START = dt.datetime(2027, 3, 9, 10, 0, tzinfo=TZ)  # a Tuesday 10:00, a week after NOW
BULK_FROM = dt.datetime(2027, 3, 8, 0, 0, tzinfo=dt.UTC)
BULK_UNITS = 3 * 96  # three whole days: 72 UTC hours, more than MAX_HOUR_LOCKS


@pytest.fixture
def db(fresh_url: str, backend: str) -> Iterator[Engine]:
    if backend != "postgresql":
        pytest.skip("SQLite serialises every write transaction: there is no race to interleave")
    engine = office_database(fresh_url, START.date() - dt.timedelta(days=1), pool_size=4)
    yield engine
    engine.dispose()


def _book(s: Session, keyring: KeyRing, start: dt.datetime = START) -> Appointment:
    body = BookingIn(office="central", service="apply", starts_at=start, name="Test Person A")
    return service.book(s, keyring, body, NOW)


def _bulk_hold(s: Session, staff_id: int, appointment_id: int, *, lock_first: bool) -> int:
    """Hold ``staff_id`` for three whole days in one statement (a load, a clean-up, an import); returns the
    advisory locks the transaction holds after it (one office lock when it locked first, not 72 hour locks)."""
    office_id = s.scalars(select(Appointment.office_id).where(Appointment.id == appointment_id)).one()
    if lock_first:
        repo.take_locks(s, lock_keys(office_id, BULK_FROM, BULK_FROM + dt.timedelta(minutes=15 * BULK_UNITS)))
    s.execute(text("SET LOCAL lock_timeout = '20s'"))  # a test never hangs
    s.execute(text(  # one statement (an executemany would be a statement per row)
        "INSERT INTO staff_hold (staff_id, starts_at, office_id, appointment_id, role) "
        "SELECT :staff, :first + make_interval(mins => 15 * i), :office, :visit, 'serve' "
        "FROM generate_series(0, :n - 1) AS i"),
        {"staff": staff_id, "first": BULK_FROM, "office": office_id, "visit": appointment_id, "n": BULK_UNITS})
    return int(s.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                              "AND pid = pg_backend_pid()")).scalar_one())


def _anchor(db: Engine, keyring: KeyRing) -> Appointment:
    """A visit elsewhere in the week that the bulk holds are filed under (holds need an owner)."""
    with Session(db, expire_on_commit=False) as s, s.begin():
        return _book(s, keyring, START + dt.timedelta(days=3))


@pytest.mark.breaks_people_invariant("a large writer's bulk holds hang on one anchor visit")
@pytest.mark.parametrize("lock_first", [True, False], ids=["locked-first", "trigger-only"])
def test_a_booking_sent_during_a_bulk_hold_waits_and_picks_someone_else(
    db: Engine, keyring: KeyRing, lock_first: bool
) -> None:
    """The large writer first, uncommitted, holding the person a booking would pick: the booking waits for
    it (instead of picking them unseen and failing on their hold) and then gets another server."""
    anchor = _anchor(db, keyring)
    wanted = first_choice(db)
    with Session(db) as bulk:
        bulk.begin()
        locks = _bulk_hold(bulk, wanted, anchor.id, lock_first=lock_first)
        assert locks == 1  # the office's staff lock, exclusive: not 72 hour locks

        def book() -> tuple[str, int | None]:
            with Session(db) as s, s.begin():
                made = _book(s, keyring)
                return made.code, made.staff_id

        thread, out = second_party(book)
        wait_blocked_or_done(db, thread)
        assert thread.is_alive(), "the booking ran beside an uncommitted bulk statement"
        bulk.commit()
    thread.join(30)
    assert not thread.is_alive() and "error" not in out, out
    _, staff_id = out["value"]
    assert staff_id is not None and staff_id != wanted


def test_a_bulk_statement_beside_a_booking_in_flight_is_refused_at_once(db: Engine, keyring: KeyRing) -> None:
    """A booking first, uncommitted: a bulk statement that did not lock first is refused at once (it does not
    queue behind bookings that may queue behind its rows); the booking commits as if it had never come."""
    anchor = _anchor(db, keyring)
    with Session(db) as booking:
        booking.begin()
        made = _book(booking, keyring)
        code, staff_id = made.code, made.staff_id
        other = next(p.id for p in people_of(booking, made.office_id) if p.id != made.staff_id)
        with Session(db) as bulk, bulk.begin():
            before = time.monotonic()
            with pytest.raises(OperationalError) as refused:
                _bulk_hold(bulk, other, anchor.id, lock_first=False)
            assert getattr(refused.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
            assert time.monotonic() - before < 10  # refused, not left waiting for the booking
        booking.commit()
    with Session(db) as s:
        assert s.scalars(select(Appointment).where(Appointment.code == code)).one().staff_id == staff_id
        assert people_violations(s) == []


@pytest.mark.breaks_people_invariant("a large writer's bulk holds hang on one anchor visit")
def test_a_large_writer_that_locked_first_waits_for_a_booking_in_flight(db: Engine, keyring: KeyRing) -> None:
    """A booking first, uncommitted; a bulk writer that takes its locks first waits for it, then runs."""
    anchor = _anchor(db, keyring)
    with Session(db) as booking:
        booking.begin()
        made = _book(booking, keyring)
        assert made.staff_id is not None
        other = next(p.id for p in people_of(booking, made.office_id) if p.id != made.staff_id)

        def bulk() -> int:
            with Session(db) as s, s.begin():
                return _bulk_hold(s, other, anchor.id, lock_first=True)

        thread, out = second_party(bulk)
        wait_blocked_or_done(db, thread)
        assert thread.is_alive(), "the bulk writer did not wait for the booking's office lock"
        booking.commit()
    thread.join(30)
    assert not thread.is_alive() and "error" not in out, out
    with Session(db) as s:
        held = s.scalars(select(StaffHold).where(StaffHold.staff_id == other, StaffHold.appointment_id == anchor.id))
        assert len(held.all()) == BULK_UNITS


def test_a_cancel_committed_while_a_staff_change_waits_is_not_re_held(db: Engine, keyring: KeyRing) -> None:
    """A cancel first, uncommitted; the person it freed leaves meanwhile (the large writer: their visits over
    many hours go to others). The change waits for the cancel, so it never re-holds someone for the
    cancelled visit, and every other visit of theirs is moved."""
    gone = first_choice(db)
    codes = []
    with Session(db) as s, s.begin():
        for day in range(4):
            for hour in (9, 11, 13, 15):
                made = _book(s, keyring, START.replace(hour=hour) + dt.timedelta(days=day))
                if made.staff_id == gone:
                    codes.append(made.code)
    assert len(codes) >= 8
    with Session(db) as cancel:
        cancel.begin()
        service.cancel(cancel, codes[0], NOW)

        def leave() -> None:
            with Session(db) as s, s.begin():
                office = service.get_office(s, "central")
                service.update_staff(s, office, gone, active=False, now=NOW)

        thread, out = second_party(leave)
        wait_blocked_or_done(db, thread)
        cancel.commit()
    thread.join(30)
    assert not thread.is_alive() and "error" not in out, out
    with Session(db) as s:
        cancelled = s.scalars(select(Appointment).where(Appointment.code == codes[0])).one()
        assert cancelled.status == "cancelled"
        assert s.scalars(select(StaffHold).where(StaffHold.appointment_id == cancelled.id)).all() == []
        assert all(a.staff_id != gone for a in s.scalars(select(Appointment).where(Appointment.code.in_(codes[1:]))))
        assert people_violations(s) == []


def test_the_bound_is_the_triggers(db: Engine) -> None:
    """rules.MAX_HOUR_LOCKS and the trigger's bound are one number (the trigger cannot import it)."""
    with db.connect() as conn:
        source = conn.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'availability_holds_changed'"))
        assert f"touched > {MAX_HOUR_LOCKS} THEN" in source.scalar_one()


def test_the_lock_order_puts_offices_first_and_takes_a_busy_office_whole() -> None:
    """Offices' staff locks ascending (shared), then hour locks ascending; an office with more hours than the
    bound is one exclusive lock and none of its hours (pure: no database)."""
    day = dt.datetime(2027, 3, 9, tzinfo=dt.UTC)
    small = lock_keys(7, day + dt.timedelta(hours=14), day + dt.timedelta(hours=15, minutes=30))  # 2 hours
    large = lock_keys(3, day, day + dt.timedelta(hours=MAX_HOUR_LOCKS + 1))
    order = lock_order([*reversed(small), *large, *small])
    assert order == [(office_lock_key(3), True), (office_lock_key(7), False), *[(k, True) for k in sorted(small)]]
    assert lock_order(large[:MAX_HOUR_LOCKS]) == [(office_lock_key(3), False),
                                                   *[(k, True) for k in large[:MAX_HOUR_LOCKS]]]


def _second_office(db: Engine, first: dt.date, last: dt.date) -> None:
    """"north": three desks who interview, beside the demo office's four (who also take applications)."""
    with Session(db) as s, s.begin():
        north = service.add_office(s, "north", "North Office", "1 Example Road, Springfield", "America/New_York")
        service.add_service(s, north, "interview", "Eligibility interview", "A meeting about your case.", 45)
        for desk in ("Desk N", "Desk O", "Desk P"):
            service.add_staff(s, north, desk, ["en"], ["interview"])
        for weekday in range(5):
            service.set_hours(s, north, weekday, dt.time(9, 0), dt.time(16, 30))
        service.generate_slots(s, north, first, last)


def _deadlocks(admin_url: str, database: str) -> int:
    """pg_stat_database.deadlocks of one database, once its fast-path connections have gone (a backend's
    counts reach the statistics when it exits, at the latest)."""
    import psycopg

    from safeslot.scheduling.fastpath import PROBER_NAME, WRITER_NAME

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        deadline = time.monotonic() + 10
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name IN "
                           "(%s, %s)", (database, WRITER_NAME, PROBER_NAME)).fetchone() != (0,):
            assert time.monotonic() < deadline, "the fast path's connections did not go"
            time.sleep(0.05)
        time.sleep(0.2)
        row = conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", (database,)).fetchone()
        assert row is not None
        return int(row[0])


def test_two_servers_of_two_processes_book_overlapping_visits_across_hours_without_a_deadlock(
    db: Engine, fresh_url: str, pg_admin_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    """A server started with two worker processes, twice (four writers and two probers on one database): 45-minute
    interviews and 30-minute applications that cross hour boundaries (two hour locks each), at two offices, sent
    together so that batches hold bookings of both offices and of overlapping hours. All locks are taken in the
    one order, so PostgreSQL detects no deadlock (pg_stat_database), no batch is retried after one (the fast
    path's counter, /healthz), and nobody is in two visits at once."""
    import asyncio

    import httpx

    from tests.scheduling.live import LiveServer

    day = START.date() + dt.timedelta(days=1)  # Wednesday: no other test of this file books it
    _second_office(db, START.date() - dt.timedelta(days=1), day + dt.timedelta(days=1))
    database = db.url.database
    assert database is not None
    before = _deadlocks(pg_admin_url, database)
    starts = [dt.datetime.combine(day, dt.time(9, 0), TZ) + dt.timedelta(minutes=15 * q) for q in range(24)]
    rng = random.Random(45)
    kinds = [("central", "interview"), ("central", "apply"), ("north", "interview")]
    bodies = [{"office": office, "service": svc, "starts_at": rng.choice(starts).isoformat(),
               "name": f"Test Person {i}"} for i in range(240) for office, svc in [rng.choice(kinds)]]
    statuses: list[int] = []

    async def load(urls: list[str]) -> None:
        async def client(n: int) -> None:
            async with httpx.AsyncClient(base_url=urls[n % len(urls)], timeout=30) as http:
                for body in bodies[n::16]:
                    statuses.append((await http.post("/api/v1/appointments", json=body)).status_code)

        await asyncio.gather(*(client(n) for n in range(16)))

    servers = [LiveServer(fresh_url, keyring, tmp_path / str(i), clock=lambda: NOW, server={"workers": 2})
               for i in range(2)]
    with servers[0] as one, servers[1] as two:
        asyncio.run(load([one.url, two.url]))
        health = [httpx.get(f"{live.url}/healthz", timeout=30).json()["booking_writers"] for live in (one, two)]
        answered = [live.app.state.fast_booking.answered for live in (one, two)]
    assert Counter(statuses).keys() <= {201, 409}, Counter(statuses)
    assert [h["writers"] for h in health] == [2, 2] and all(a > 0 for a in answered)  # both fast paths booked
    assert [h["deadlock_retries"] for h in health] == [0, 0]
    assert _deadlocks(pg_admin_url, database) == before
    with Session(db) as s:
        made = s.execute(select(Appointment.office_id, Appointment.starts_at, Appointment.ends_at)).all()
        assert len({office for office, *_ in made}) == 2
        assert sum(a.hour != (b - dt.timedelta(seconds=1)).hour for _, a, b in made) >= 10  # across an hour
        assert people_violations(s) == []
