"""Scheduling's queries (scheduling/repository.py) where a wrong answer double-books or strands a person:
a booked visit holds its server for every 15-minute unit it lasts and only those, cancelling frees them;
the visits still to come are found by who serves them (and those nobody serves); a closed office leaves
the public lists but keeps its records. SQLite only: the SQL is the same on both databases
(test_lock_order.py, test_search_naive.py and the races keep PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import repository, service
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

TUESDAY = dt.date(2027, 3, 2)
UNIT = dt.timedelta(minutes=15)


def _book(session: Session, keyring: KeyRing) -> Appointment:
    _, _, free = service.search_slots(session, "central", "card", TUESDAY, TUESDAY, None, NOW)
    return service.book(session, keyring, BookingIn.model_validate(
        {"office": "central", "service": "card", "starts_at": free[0].starts_at.isoformat(), "name": "Test Person M"}),
        NOW)


@ON_SQLITE
def test_a_visit_holds_its_server_for_each_unit_it_lasts_until_cancelled(
    session: Session, keyring: KeyRing, office: str
) -> None:
    visit = _book(session, keyring)
    assert visit.staff_id is not None
    units = int((visit.ends_at - visit.starts_at) / UNIT)
    held = repository.held_units(session, visit.staff_id, visit.starts_at - UNIT, visit.ends_at + UNIT)
    assert held == {visit.starts_at + i * UNIT for i in range(units)}
    assert repository.busy_staff(session, visit.office_id, visit.starts_at, visit.ends_at) == {visit.staff_id}
    assert repository.busy_staff(session, visit.office_id, visit.ends_at, visit.ends_at + UNIT) == set()
    repository.release_holds(session, visit.id)
    assert repository.held_units(session, visit.staff_id, visit.starts_at, visit.ends_at) == set()


@ON_SQLITE
def test_the_visits_to_come_are_found_by_who_serves_them(session: Session, keyring: KeyRing, office: str) -> None:
    visit = _book(session, keyring)
    assert visit.staff_id is not None
    found = repository.holding_appointments(session, visit.office_id, NOW, [visit.staff_id])
    assert [a.id for a in found] == [visit.id]
    others = [s.id for s in repository.staff(session, visit.office_id) if s.id != visit.staff_id]
    assert repository.holding_appointments(session, visit.office_id, NOW, others) == []
    assert repository.holding_appointments(session, visit.office_id, visit.ends_at, None) == []  # over by then
    visit.staff_id = None  # nobody serves it (a staff change left it): it is everyone's to find
    session.flush()
    assert [a.id for a in repository.holding_appointments(session, visit.office_id, NOW, others)] == [visit.id]
    assert repository.appointment_by_code(session, visit.code) is visit
    assert repository.appointment_by_code(session, "NOSUCHCODE") is None


@ON_SQLITE
def test_a_closed_office_leaves_the_public_lists_but_keeps_its_records(session: Session, office: str) -> None:
    north = service.add_office(session, "north", "North Office", "1 Example Road", "America/New_York")
    assert [o.slug for o in repository.offices(session, open_only=True)] == ["central", "north"]
    north.closed_at = NOW
    session.flush()
    assert [o.slug for o in repository.offices(session, open_only=True)] == ["central"]
    assert [o.slug for o in repository.offices(session)] == ["central", "north"]
    assert repository.office_by_slug(session, "north") is north
