"""Opening and closing an office, the checks and effects scheduling owns (scheduling/office_changes.py):
a new office is refused with what to change; closing never strands a person silently — it must list every
visit still to come, which then loses its staff and waits for the supervisor to move it, and the office
offers no time from then on. The two-person proposals around these are in tests/identity/test_proposals.py.
SQLite only: the SQL is the same on both databases (the proposals' stories keep PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import DomainError, InvalidInput
from safeslot.scheduling import office_changes, service
from safeslot.scheduling.office_changes import NewOffice
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

NORTH = NewOffice("north", "North Office", "1 Example Road", "America/New_York", 40.7, -74.0)


@ON_SQLITE
@pytest.mark.parametrize(("change", "says"), [
    ({"slug": "North Office"}, "lowercase letters"),
    ({"name": " "}, "name and street address"),
    ({"timezone": "Mars/Olympus"}, "time zone"),
    ({"latitude": None}, "both latitude and longitude"),
    ({"slug": "central"}, "exists already"),
])
def test_an_office_that_could_not_be_opened_is_refused_with_what_to_change(
    session: Session, office: str, change: dict[str, object], says: str
) -> None:
    fields = {"slug": NORTH.slug, "name": NORTH.name, "address": NORTH.address, "timezone": NORTH.timezone,
              "latitude": NORTH.latitude, "longitude": NORTH.longitude, **change}
    with pytest.raises(DomainError, match=says):
        office_changes.open_office(session, NewOffice(**fields))  # type: ignore[arg-type]


@ON_SQLITE
def test_an_opened_office_is_found_by_its_slug_and_placed_on_the_map(session: Session, office: str) -> None:
    north = office_changes.open_office(session, NORTH)
    assert office_changes.open_office_by_slug(session, "north").id == north.id
    assert (north.latitude, north.longitude) == (40.7, -74.0)  # in the finder from the start
    with pytest.raises(DomainError, match="exists already"):
        office_changes.open_office(session, NORTH)


@ON_SQLITE
def test_closing_must_list_every_visit_to_come_which_then_waits_to_be_moved(
    session: Session, keyring: KeyRing, office: str
) -> None:
    central = service.get_office(session, "central")
    _, _, free = service.search_slots(session, "central", "card", dt.date(2027, 3, 2), dt.date(2027, 3, 2), None, NOW)
    visit = service.book(session, keyring, BookingIn.model_validate(
        {"office": "central", "service": "card", "starts_at": free[0].starts_at.isoformat(), "name": "Test Person M"}),
        NOW)
    to_move = office_changes.bookings_to_move(session, central, NOW)
    assert [b.id for b in to_move] == [visit.id]
    with pytest.raises(DomainError, match="does not list"):
        office_changes.check_closable(session, central, [], NOW)
    with pytest.raises(InvalidInput, match="not visits still to come"):
        office_changes.check_closable(session, central, [visit.id, visit.id + 999], NOW)
    assert office_changes.close_office(session, central, [visit.id], NOW) == 1
    assert visit.staff_id is None and visit.status == "booked"  # kept, unassigned: the supervisor moves it
    assert [a.id for a in service.unassigned(session, central, NOW)] == [visit.id]
    _, _, after = service.search_slots(session, "central", "card", dt.date(2027, 3, 2), dt.date(2027, 3, 2), None,
                                       NOW)
    assert after == []  # no time is offered at a closed office
    with pytest.raises(DomainError, match="was closed on"):
        office_changes.open_office_by_slug(session, "central")
