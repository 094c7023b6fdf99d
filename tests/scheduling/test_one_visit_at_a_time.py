"""The database itself keeps a person in one visit at a time, on SQLite and PostgreSQL (migration 0540).

Rows are written as an insider would, in plain SQL behind the services' back (no holds, no locks
taken first): an appointment naming a person already in an overlapping visit, in either role, is
refused; so is moving or reassigning a visit onto such a person, or one person serving and
interpreting the same visit. What does not overlap, or holds no one, still goes in.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, office_database

TZ = service.zone("America/New_York")
T = dt.datetime(2027, 3, 2, 10, 0, tzinfo=TZ)  # a Tuesday, inside the demo's two weeks
MIN = dt.timedelta(minutes=1)


def _book(session: Session, keyring: KeyRing, slug: str, language: str | None = None) -> Appointment:
    return service.book(session, keyring, BookingIn(office="central", service=slug, starts_at=T,
                                                    name="Test Person A", language=language), NOW)


def _insert(session: Session, like: Appointment, code: str, **values: Any) -> None:
    """An appointment row like ``like``, in plain SQL (no ORM, no holds, no locks), with ``values`` changed."""
    row = {c.key: getattr(like, c.key) for c in Appointment.__table__.columns if c.key != "id"}
    row.update(code=code, **values)
    # the ORM's column types bind the times as each database keeps them
    session.execute(insert(Appointment).values(**row))


def _refused(session: Session, write: Any) -> str:
    nested = session.begin_nested()
    with pytest.raises(IntegrityError) as caught:
        write()
    nested.rollback()
    return str(caught.value.orig)


def test_an_appointment_on_a_person_already_in_a_visit_then_is_refused_by_the_database(
    office: str, session: Session, keyring: KeyRing
) -> None:
    served = _book(session, keyring, "interview")  # 10:00-10:45
    interpreted = _book(session, keyring, "card", language="vi")  # 10:00-10:15, an interpreter
    session.flush()
    assert interpreted.interpreter_id is not None
    start, end = served.starts_at, served.ends_at

    # the same person, the same time; a visit overlapping its end; one inside it; the server as an interpreter;
    # the interpreter as a server
    for n, values in enumerate([
        {},
        {"starts_at": end - 15 * MIN, "ends_at": end + 30 * MIN},
        {"starts_at": start + 15 * MIN, "ends_at": start + 30 * MIN},
        {"staff_id": None, "interpreter_id": served.staff_id},
        {"staff_id": interpreted.interpreter_id, "interpreter_id": None},
    ]):
        message = _refused(session, lambda values=values, n=n: _insert(
            session, served if "staff_id" not in values else interpreted, f"SNEAKY{n:04}", **values))
        assert "already in another visit at that time" in message

    # one person serving and interpreting one visit; a visit of a day or more (past the check's look-back)
    assert "cannot serve and interpret" in _refused(session, lambda: _insert(
        session, served, "SNEAKY0010", starts_at=start + 2 * 60 * MIN, ends_at=end + 2 * 60 * MIN,
        interpreter_id=served.staff_id))
    assert "less than a day" in _refused(session, lambda: _insert(
        session, served, "SNEAKY0011", starts_at=start - 24 * 60 * MIN, ends_at=end + 24 * 60 * MIN,
        staff_id=served.staff_id))

    # what does not overlap, or holds no one, still goes in: right after the visit; cancelled; unassigned
    _insert(session, served, "FINE000001", starts_at=end, ends_at=end + 45 * MIN)
    _insert(session, served, "FINE000002", status="cancelled")
    _insert(session, served, "FINE000003", staff_id=None, interpreter_id=None)
    session.flush()


def test_moving_or_reassigning_a_visit_onto_a_busy_person_is_refused_by_the_database(
    office: str, session: Session, keyring: KeyRing
) -> None:
    first = _book(session, keyring, "interview")  # 10:00-10:45
    second = _book(session, keyring, "interview")
    later = service.book(session, keyring, BookingIn(office="central", service="interview",
                                                     starts_at=T + dt.timedelta(hours=2), name="Test Person C"), NOW)
    session.flush()
    assert len({first.staff_id, second.staff_id, later.staff_id}) >= 2

    def change(appointment: Appointment, **values: Any) -> Any:
        return lambda: session.execute(update(Appointment).where(Appointment.id == appointment.id).values(**values)
                                       .execution_options(synchronize_session=False))

    assert "already in another visit" in _refused(session, change(second, staff_id=first.staff_id))
    assert "already in another visit" in _refused(session, change(second, interpreter_id=first.staff_id))
    moved = {"starts_at": first.starts_at, "ends_at": first.ends_at, "staff_id": first.staff_id}
    assert "already in another visit" in _refused(session, change(later, **moved))
    # a cancelled visit put back on the books while its person serves another visit then
    change(second, status="cancelled")()
    change(second, staff_id=first.staff_id)()  # cancelled: it holds no one
    assert "already in another visit" in _refused(session, change(second, status="booked"))
    # a status change that keeps the people and times is not checked again (check-in at the desk)
    change(first, status="checked-in")()
    session.flush()


@pytest.fixture
def committed(fresh_url: str, backend: str) -> Any:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    engine = office_database(fresh_url, T.date() - dt.timedelta(days=1), pool_size=3)
    yield engine
    engine.dispose()


@pytest.mark.breaks_people_invariant("visits written behind the services' back carry no holds")
def test_two_writers_behind_the_services_back_cannot_both_put_one_person_in_two_visits(
    committed: Engine, keyring: KeyRing
) -> None:
    """PostgreSQL: the trigger takes the visit's assignment locks before it looks, so the second of two
    concurrent writers waits for the first to commit, then sees its row and is refused."""
    with Session(committed) as s, s.begin():
        booked = _book(s, keyring, "apply")
        like = {c.key: getattr(booked, c.key) for c in Appointment.__table__.columns if c.key != "id"}
    later = {"starts_at": like["starts_at"] + dt.timedelta(hours=3), "ends_at": like["ends_at"] + dt.timedelta(hours=3)}
    outcome: dict[str, Any] = {}
    first = Session(committed)
    first.begin()
    first.execute(insert(Appointment).values(**{**like, **later, "code": "RACE000001"}))

    def second() -> None:
        with Session(committed) as s2:
            try:
                with s2.begin():
                    s2.execute(insert(Appointment).values(**{**like, **later, "code": "RACE000002"}))
                outcome["second"] = "committed"
            except IntegrityError as exc:
                outcome["second"] = str(exc.orig)

    racer = threading.Thread(target=second)
    racer.start()
    time.sleep(1.0)
    assert racer.is_alive(), outcome  # waiting on the first writer's hour lock, not deciding blind
    first.commit()
    first.close()
    racer.join(30)
    assert "already in another visit" in outcome["second"]
    with Session(committed) as s:
        codes = set(s.scalars(select(Appointment.code).where(Appointment.starts_at == later["starts_at"])))
        assert codes == {"RACE000001"}
        assert s.execute(text("SELECT 1")).scalar() == 1


def test_a_write_over_many_hours_holds_one_office_lock_not_hundreds(committed: Engine, keyring: KeyRing) -> None:
    """PostgreSQL (migration 0541): past 64 hour locks of an office in one transaction, the trigger takes the
    office's staff lock exclusively instead of more hour locks (PostgreSQL's shared lock table is finite) — at
    once or not at all: beside a booking in flight (the office lock shared) the write is refused, not queued."""
    from sqlalchemy.exc import OperationalError

    from safeslot.scheduling.rules import office_lock_key

    with Session(committed) as s, s.begin():
        booked = _book(s, keyring, "apply")
        like = {c.key: getattr(booked, c.key) for c in Appointment.__table__.columns if c.key != "id"}
        office_id = booked.office_id
    hours = [like["starts_at"] + dt.timedelta(hours=3 + h) for h in range(100)]  # one 15-minute visit an hour
    rows = [{**like, "starts_at": at, "ends_at": at + dt.timedelta(minutes=15), "code": f"BULK{n:06}"}
            for n, at in enumerate(hours)]

    with Session(committed) as s, s.begin():
        s.execute(insert(Appointment), rows)
        held = s.execute(text("SELECT mode, count(*) FROM pg_locks WHERE locktype = 'advisory' "
                              "AND pid = pg_backend_pid() GROUP BY mode")).all()
        assert sum(n for _, n in held) <= 66, held  # 64 hour locks and the office's, not 100 and more
        key = office_lock_key(office_id)
        office_modes = set(s.scalars(text(
            "SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            "AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"),
            {"hi": key >> 32, "lo": key & 0xFFFFFFFF}))
        assert "ExclusiveLock" in office_modes, office_modes
        s.rollback()

    with committed.connect() as booking, booking.begin():  # a booking in flight at the office
        booking.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": office_lock_key(office_id)})
        started = time.monotonic()
        with Session(committed) as s, pytest.raises(OperationalError) as refused, s.begin():
            s.execute(insert(Appointment), rows)
        assert time.monotonic() - started < 5 and "exclusively" in str(refused.value.orig)
