"""Booking, moving, cancelling and the staff's status changes (scheduling/booking.py), on the demo office:
apply (30 minutes) is served by desks A, B, D and F, 09:00-16:30 New York time on weekdays."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import booking, service
from safeslot.scheduling.errors import AppointmentNotFound, InvalidTransition
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

NY = service.zone("America/New_York")
TUESDAY_10 = dt.datetime(2027, 3, 2, 10, 0, tzinfo=NY)


def _book(session: Session, keyring: KeyRing, start: dt.datetime = TUESDAY_10) -> Appointment:
    return booking.book(session, keyring, BookingIn(office="central", service="apply", starts_at=start,
                                                    name="Test Person 1"), NOW)


def _free(session: Session, start: dt.datetime) -> int:
    _, _, found = service.search_slots(session, "central", "apply", start.date(), start.date(), None, NOW)
    return next(s.available for s in found if s.starts_at == start)


@ON_SQLITE
def test_a_booking_takes_one_person_and_a_cancel_gives_them_back(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    before = _free(session, TUESDAY_10)
    visit = _book(session, keyring)
    assert visit.status == "booked" and _free(session, TUESDAY_10) == before - 1
    assert booking.cancel(session, visit.code, NOW).status == "cancelled"
    assert _free(session, TUESDAY_10) == before
    assert booking.cancel(session, visit.code, NOW).status == "cancelled"  # a repeated cancel is a retry


@ON_SQLITE
def test_a_code_is_found_however_it_is_typed_and_an_unknown_one_is_not(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    visit = _book(session, keyring)
    typed = f"{visit.code[:5].lower()}-{visit.code[5:]}".replace("0", "o").replace("1", "l")
    assert booking.get_by_code(session, typed).id == visit.id
    with pytest.raises(AppointmentNotFound):
        booking.get_by_code(session, "ZZZZZ-ZZZZZ")


@ON_SQLITE
def test_a_moved_visit_frees_its_old_time(office: str, session: Session, keyring: KeyRing) -> None:
    visit = _book(session, keyring)
    later = TUESDAY_10 + dt.timedelta(hours=2)
    before_old, before_new = _free(session, TUESDAY_10), _free(session, later)
    moved = booking.reschedule(session, keyring, visit.code, later, NOW)
    assert moved.starts_at == later and moved.code == visit.code
    assert (_free(session, TUESDAY_10), _free(session, later)) == (before_old + 1, before_new - 1)


@ON_SQLITE
def test_staff_move_a_visit_only_along_its_path(office: str, session: Session, keyring: KeyRing) -> None:
    visit = _book(session, keyring)
    with pytest.raises(InvalidTransition, match="only on the day"):
        booking.set_status(session, visit.code, "checked-in", NOW)  # Monday, the visit is on Tuesday
    with pytest.raises(InvalidTransition, match="after the appointment's start"):
        booking.set_status(session, visit.code, "noshow", NOW)
    on_the_day = TUESDAY_10 - dt.timedelta(minutes=20)
    assert booking.set_status(session, visit.code, "checked-in", on_the_day).status == "checked-in"
    with pytest.raises(InvalidTransition, match="cannot be cancelled"):
        booking.cancel(session, visit.code, on_the_day)
    assert booking.set_status(session, visit.code, "fulfilled", TUESDAY_10).status == "fulfilled"
    with pytest.raises(InvalidTransition, match="Allowed: booked"):
        booking.set_status(session, visit.code, "booked", TUESDAY_10)
