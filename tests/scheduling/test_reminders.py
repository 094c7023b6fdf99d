"""What notifications may read about appointments for reminders (scheduling/reminders.py): only booked
visits whose person opted in and left a contact, within the horizon; a STOP switches them off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import booking, reminders, service
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn, Contact
from tests.conftest import NOW, ON_SQLITE

NY = service.zone("America/New_York")
TUESDAY_10 = dt.datetime(2027, 3, 2, 10, 0, tzinfo=NY)
PHONE = Contact(kind="phone", value="555-0100")


def _book(session: Session, keyring: KeyRing, start: dt.datetime, *, contact: Contact | None = PHONE,
          opt_in: bool = True) -> Appointment:
    return booking.book(session, keyring, BookingIn(office="central", service="card", starts_at=start,
                                                    name="Test Person 1", contact=contact, reminders_opt_in=opt_in,
                                                    language="es"), NOW)


@ON_SQLITE
def test_only_opted_in_booked_visits_with_a_contact_inside_the_horizon_are_targets(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    wanted = _book(session, keyring, TUESDAY_10)
    _book(session, keyring, TUESDAY_10 + dt.timedelta(minutes=15), contact=None, opt_in=False)
    stopped = _book(session, keyring, TUESDAY_10 + dt.timedelta(minutes=30))
    reminders.stop_reminders(session, stopped.id)
    cancelled = _book(session, keyring, TUESDAY_10 + dt.timedelta(minutes=45))
    booking.cancel(session, cancelled.code, NOW)
    _book(session, keyring, TUESDAY_10 + dt.timedelta(days=3))  # beyond a two-day horizon
    found = reminders.upcoming(session, NOW, dt.timedelta(days=2))
    assert [t.appointment_id for t in found] == [wanted.id]
    assert (found[0].office_timezone, found[0].language, found[0].starts_at) == ("America/New_York", "es", TUESDAY_10)
    assert keyring.open(found[0].contact_enc, "appointment.contact") == "phone:555-0100"
    assert reminders.target(session, cancelled.id) is None


@ON_SQLITE
def test_a_stop_ends_the_reminders_but_the_contact_stays_readable_for_the_reply(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    visit = _book(session, keyring, TUESDAY_10)
    reminders.stop_reminders(session, visit.id)
    assert reminders.target(session, visit.id) is None
    assert reminders.upcoming(session, NOW, dt.timedelta(days=2)) == []
    assert reminders.contact_of(session, visit.id) is not None
