"""The scheduling façade (scheduling/service.py), called as the endpoints, the console and the other
domains call it: a booking takes a place that search then no longer offers and a cancellation gives it
back; a closed day offers nothing until it is opened again; a code is found only while it exists.

SQLite only: the SQL is the same on both databases (tests/scheduling/test_concurrency.py and the
stories keep PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import NotFound
from safeslot.scheduling import service
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

TUESDAY = dt.date(2027, 3, 2)  # the demo office is open; NOW is the Monday before


def _free(session: Session, day: dt.date = TUESDAY) -> dict[dt.datetime, int]:
    _, _, found = service.search_slots(session, "central", "card", day, day, None, NOW)
    return {s.starts_at: s.available for s in found}


def _book(session: Session, keyring: KeyRing, starts_at: dt.datetime) -> str:
    appointment = service.book(session, keyring, BookingIn.model_validate(
        {"office": "central", "service": "card", "starts_at": starts_at.isoformat(), "name": "Test Person M"}), NOW)
    return service.format_code(appointment.code)


@ON_SQLITE
def test_a_booking_takes_a_place_and_a_cancellation_gives_it_back(
    session: Session, keyring: KeyRing, office: str
) -> None:
    before = _free(session)
    start = min(before)
    code = _book(session, keyring, start)
    after = _free(session)
    assert after.get(start, 0) == before[start] - 1  # one person fewer free at that time
    assert service.get_by_code(session, code).status == "booked"
    assert service.cancel(session, code, NOW).status == "cancelled"
    assert _free(session) == before
    assert service.cancel(session, code, NOW).status == "cancelled"  # a repeated cancel is a retry, not an error


@ON_SQLITE
def test_a_closed_day_offers_no_time_until_it_is_opened_again(session: Session, office: str) -> None:
    central = service.get_office(session, "central")
    open_day = _free(session)
    assert open_day
    closure = service.add_closure(session, central, TUESDAY, "staff training", NOW.date())
    assert _free(session) == {}
    assert _free(session, TUESDAY + dt.timedelta(days=1))  # the next day is untouched
    service.remove_closure(session, central, closure.id)
    assert _free(session) == open_day


@ON_SQLITE
def test_an_unknown_code_or_office_is_not_found(session: Session, office: str) -> None:
    with pytest.raises(NotFound):
        service.get_by_code(session, "ABCDE-12345")
    with pytest.raises(NotFound):
        service.get_office(session, "nowhere")
