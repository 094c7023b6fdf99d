"""A staff change racing a booking (PostgreSQL): the booking ends reassigned or listed, never held by
someone who no longer serves it.

Two sessions are interleaved in a fixed order, not by sleeping: the first party does its work and
keeps its transaction open; the second starts in a thread; the test waits until the second either
finished or is waiting for a lock (``pg_locks``), then commits the first. Both orders are tried —
the booking first (the staff change must then see it and move it) and the change first (the
booking must then see the change) — for the three staff changes (leaving, skills, hours), on the
sync path and, change first, over HTTP on the fast path, whose office cache still has the old people.

SQLite needs no such test: every write transaction holds the database's one write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, office_database
from tests.scheduling.invariants import duty_violations, people_violations
from tests.scheduling.live import LiveServer
from tests.scheduling.races import first_choice, second_party, wait_blocked_or_done

pytestmark = pytest.mark.slow

TZ = service.zone("America/New_York")
START = dt.datetime(2027, 3, 9, 10, 0, tzinfo=TZ)  # a Tuesday 10:00, a week after NOW
CHANGES = ("leaves", "skills", "hours")


@pytest.fixture
def db(fresh_url: str, backend: str) -> Iterator[Engine]:
    if backend != "postgresql":
        pytest.skip("SQLite serialises every write transaction: there is no race to interleave")
    engine = office_database(fresh_url, START.date() - dt.timedelta(days=1), pool_size=4)
    yield engine
    engine.dispose()


def _change(s: Session, how: str, staff_id: int) -> None:
    """The supervisor's change, with its re-check of the visits to come (as the API and console do it)."""
    office = service.get_office(s, "central")
    if how == "leaves":
        service.update_staff(s, office, staff_id, active=False, now=NOW)
    elif how == "skills":
        service.update_staff(s, office, staff_id, services=["card"], now=NOW)  # no longer "apply"
    else:  # Tuesdays 13:00-16:00 only: not at 10:00
        service.set_staff_hours(s, office, staff_id, [(START.weekday(), dt.time(13), dt.time(16))], NOW)


def _book(s: Session, keyring: KeyRing) -> Appointment:
    body = BookingIn(office="central", service="apply", starts_at=START, name="Test Person A")
    return service.book(s, keyring, body, NOW)


def _check(db: Engine, gone: int, how: str) -> Appointment:
    """The booking is served by someone who still may, or by no one and listed for the supervisor."""
    with Session(db) as s:
        booked = s.scalars(select(Appointment).where(Appointment.starts_at == START)).all()
        assert len(booked) == 1
        made = booked[0]
        assert made.staff_id != gone, f"booked with the person the change ({how}) took away"
        if made.staff_id is None:
            office = service.get_office(s, "central")
            assert made.code in {a.code for a in service.unassigned(s, office, NOW)}
        assert people_violations(s) == []
        assert duty_violations(s) == []
        return made


@pytest.mark.parametrize("how", CHANGES)
def test_a_booking_committed_during_a_staff_change_is_moved(db: Engine, keyring: KeyRing, how: str) -> None:
    """Booking first: its person changes while it is uncommitted. The change waits for it and moves it."""
    with Session(db) as booking:
        booking.begin()
        made = _book(booking, keyring)
        gone = made.staff_id
        assert gone is not None

        def change() -> None:
            with Session(db) as s, s.begin():
                _change(s, how, gone)

        thread, out = second_party(change)
        wait_blocked_or_done(db, thread)
        booking.commit()
    thread.join(30)
    assert not thread.is_alive() and "error" not in out, out
    assert _check(db, gone, how).staff_id is not None  # five others serve "apply": someone is free


@pytest.mark.parametrize("how", CHANGES)
def test_a_booking_made_during_a_staff_change_sees_it(db: Engine, keyring: KeyRing, how: str) -> None:
    """The change first, uncommitted: a booking meanwhile never gets the person it changed."""
    gone = first_choice(db)
    with Session(db) as supervisor:
        supervisor.begin()
        _change(supervisor, how, gone)

        def book() -> str:
            with Session(db) as s, s.begin():
                return _book(s, keyring).code

        thread, out = second_party(book)
        wait_blocked_or_done(db, thread)
        supervisor.commit()
    thread.join(30)
    assert not thread.is_alive() and "error" not in out, out
    assert _check(db, gone, how).code == out["value"]


@pytest.mark.parametrize("how", CHANGES)
def test_the_fast_path_books_after_a_staff_change_as_changed(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path, how: str
) -> None:
    """Over HTTP (the asyncpg fast path, its cache of the office's people still holding the old ones):
    a booking sent while a change is uncommitted waits for it and never gets the changed person."""
    gone = first_choice(db)
    body = {"office": "central", "service": "apply", "starts_at": START.isoformat(), "name": "Test Person B"}
    warm = {**body, "service": "card", "starts_at": (START + dt.timedelta(days=1)).isoformat()}
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=15) as http:
        assert http.post("/api/v1/appointments", json=warm).status_code == 201  # the cache holds everyone
        with Session(db) as supervisor:
            supervisor.begin()
            _change(supervisor, how, gone)
            thread, out = second_party(lambda: http.post("/api/v1/appointments", json=body))
            wait_blocked_or_done(db, thread)
            supervisor.commit()
        thread.join(30)
        assert not thread.is_alive() and "error" not in out, out
        answer = out["value"]
        assert answer.status_code == 201, answer.text
        assert live.app.state.fast_booking.answered >= 2  # both answered by the fast path
    _check(db, gone, how)
