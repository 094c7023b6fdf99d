"""Access transparency for the person (privacy/person.py): with their code and name, a person sees when
staff looked at their appointment, on which day, in which role and from which office, but not the reads
that were the visit itself, and nothing without the right name."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.privacy import person
from safeslot.privacy.models import AccessRecord
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import make_staff

NY = scheduling.zone("America/New_York")
VISIT = dt.datetime(2027, 3, 4, 10, tzinfo=NY)


def _visit(session: Session, keyring: KeyRing, office: str) -> Appointment:
    return scheduling.book(session, keyring, BookingIn(office=office, service="card", starts_at=VISIT,
                                                       name="Test Person 1"), NOW)


def _read(session: Session, staff_id: int, visit: Appointment, purpose: str, at: dt.datetime,
          reason: str | None = None) -> None:
    session.add(AccessRecord(staff_id=staff_id, record_type="appointment", record_id=str(visit.id), purpose=purpose,
                             at=at, role="clerk", office_id=visit.office_id, reason=reason))
    session.flush()


@ON_SQLITE
def test_a_person_sees_staff_looks_before_the_visit_grouped_by_day(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    visit = _visit(session, keyring, office)
    clerk, _ = make_staff(session, keyring, ["clerk"], office)
    day_before = VISIT - dt.timedelta(days=1)
    _read(session, clerk.id, visit, "name_lookup", day_before, reason="phone_call")
    _read(session, clerk.id, visit, "name_lookup", day_before + dt.timedelta(minutes=5), reason="phone_call")
    _read(session, clerk.id, visit, "front_desk", day_before)  # the next day's list, read the day before
    _read(session, clerk.id, visit, "front_desk", VISIT)  # the day's list on the day: the visit itself
    _read(session, clerk.id, visit, "name_lookup", VISIT, reason="check_in")  # finding them at check-in
    looks = person.looks_at(session, keyring, scheduling.format_code(visit.code), "Test Person 1")
    office_name = scheduling.get_office(session, office).name
    assert [(x.day, x.role, x.office, x.how, x.reason, x.times) for x in looks] == [
        (day_before.date(), "clerk", office_name, "name_lookup", "phone_call", 2),
        (day_before.date(), "clerk", office_name, "upcoming_list", None, 1),
    ]


@ON_SQLITE
def test_nothing_is_shown_without_the_right_code_and_name(office: str, session: Session, keyring: KeyRing) -> None:
    visit = _visit(session, keyring, office)
    clerk, _ = make_staff(session, keyring, ["clerk"], office)
    _read(session, clerk.id, visit, "name_lookup", VISIT - dt.timedelta(days=1), reason="phone_call")
    assert person.looks_at(session, keyring, visit.code, "Test Person 2") == []
    assert person.looks_at(session, keyring, visit.code, " ") == []
    assert person.looks_at(session, keyring, "ZZZZZ-ZZZZZ", "Test Person 1") == []
