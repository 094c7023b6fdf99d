"""Running an office (scheduling/administration.py): its services, staff, hours and closures, and a staff
change that keeps every visit still to come served by someone qualified, or lists it for a call."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import administration, booking, service
from safeslot.scheduling.errors import ClosureTaken, HoursOverlap
from safeslot.scheduling.models import Staff
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

NY = service.zone("America/New_York")
WEDNESDAY = dt.date(2027, 3, 3)
TUESDAY_10 = dt.datetime(2027, 3, 2, 10, 0, tzinfo=NY)


def _starts(session: Session, day: dt.date, slug: str = "card") -> list[dt.datetime]:
    _, _, found = service.search_slots(session, "central", slug, day, day, None, NOW)
    return [s.starts_at for s in found]


@ON_SQLITE
def test_a_closure_takes_the_day_out_of_search_and_its_removal_brings_it_back(office: str, session: Session) -> None:
    central = service.get_office(session, office)
    assert _starts(session, WEDNESDAY)
    closure = administration.add_closure(session, central, WEDNESDAY, "Test closure", NOW.date())
    assert _starts(session, WEDNESDAY) == []
    with pytest.raises(ClosureTaken):
        administration.add_closure(session, central, WEDNESDAY, "Test closure", NOW.date())
    with pytest.raises(InvalidInput, match="past"):
        administration.add_closure(session, central, NOW.date() - dt.timedelta(days=1), "Test", NOW.date())
    administration.remove_closure(session, central, closure.id)
    assert _starts(session, WEDNESDAY)


@ON_SQLITE
def test_opening_windows_of_one_weekday_may_not_overlap(office: str, session: Session) -> None:
    central = service.get_office(session, office)
    with pytest.raises(HoursOverlap, match="09:00-16:30"):
        administration.set_hours(session, central, 0, dt.time(16), dt.time(18))
    with pytest.raises(InvalidInput, match="before closing"):
        administration.set_hours(session, central, 5, dt.time(12), dt.time(9))
    saturday = administration.set_hours(session, central, 5, dt.time(9), dt.time(12))
    assert saturday.weekday == 5


@ON_SQLITE
def test_staff_serve_only_services_the_office_offers(office: str, session: Session) -> None:
    central = service.get_office(session, office)
    with pytest.raises(InvalidInput, match="no service passport"):
        administration.add_staff(session, central, "Test Person 1", ["en"], ["card", "passport"])
    member = administration.add_staff(session, central, "Test Person 1", ["es", "en", "es"], ["card"])
    assert (member.languages, member.services, member.active) == ("en es", "card", True)


@ON_SQLITE
def test_a_visit_whose_server_leaves_moves_to_someone_free_or_is_listed_to_call(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    central = service.get_office(session, office)
    visit = booking.book(session, keyring, BookingIn(office="central", service="apply", starts_at=TUESDAY_10,
                                                     name="Test Person 1"), NOW)
    first = visit.staff_id
    assert first is not None
    _, done = administration.update_staff_and_reassign(session, central, first, active=False, now=NOW)
    assert done.moved == [visit] and visit.staff_id not in (None, first)
    apply_staff = session.scalars(select(Staff).where(Staff.office_id == central.id, Staff.active)).all()
    for member in apply_staff:  # nobody left who serves apply
        if "apply" in member.services.split():
            _, done = administration.update_staff_and_reassign(session, central, member.id, services=["card"],
                                                               now=NOW)
    assert visit.staff_id is None
    assert administration.unassigned(session, central, NOW) == [visit]


@ON_SQLITE
def test_every_way_of_changing_a_member_moves_their_visits_to_come(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    # update_staff (the console's form) as update_staff_and_reassign (the API): both take the moment of the
    # change, so neither can leave a visit with someone who no longer serves it
    central = service.get_office(session, office)
    visit = booking.book(session, keyring, BookingIn(office="central", service="card", starts_at=TUESDAY_10,
                                                     name="Test Person 2"), NOW)
    first = visit.staff_id
    assert first is not None
    administration.update_staff(session, central, first, services=["apply"], now=NOW)
    assert visit.staff_id not in (None, first)
    with pytest.raises(TypeError):
        administration.update_staff(session, central, first, active=False)  # type: ignore[call-arg]
