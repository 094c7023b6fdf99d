"""The slot search (scheduling/slots.py): free starts inside the office's hours, as many as qualified
people are free, within the search and booking windows; the nearest free starts offered instead of a full
one. Demo office: 09:00-16:30 New York time on weekdays; card (15 minutes) is served by desks A, B, C, E."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import booking, service, slots
from safeslot.scheduling.errors import TimeOutOfRange
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

NY = service.zone("America/New_York")
TUESDAY = dt.date(2027, 3, 2)


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(TUESDAY, dt.time(hour, minute), tzinfo=NY)


def _free(session: Session, slug: str = "card", language: str | None = None) -> dict[dt.datetime, int]:
    _, _, found = slots.search_slots(session, "central", slug, TUESDAY, TUESDAY, language, NOW)
    return {s.starts_at: s.available for s in found}


@ON_SQLITE
def test_a_day_offers_every_quarter_hour_that_ends_by_closing_with_its_free_people(
    office: str, session: Session,
) -> None:
    card, interview = _free(session), _free(session, "interview")
    assert min(card) == _at(9) and max(card) == _at(16, 15)  # 15 minutes: the last start ends at 16:30
    assert max(interview) == _at(15, 45)  # 45 minutes
    assert len(card) == 30 and set(card.values()) == {4}
    vietnamese = _free(session, "card", "vi")  # no card desk speaks vi: an interpreter (D or F) is needed too
    assert vietnamese and max(vietnamese.values()) < 4


@ON_SQLITE
def test_a_booking_takes_one_free_person_from_each_start_it_overlaps(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    before = _free(session)
    booking.book(session, keyring, BookingIn(office="central", service="card", starts_at=_at(10),
                                             name="Test Person 1"), NOW)
    after = _free(session)
    assert after[_at(10)] == before[_at(10)] - 1
    assert after[_at(10, 15)] == before[_at(10, 15)]


@ON_SQLITE
def test_searches_stay_inside_the_windows(office: str, session: Session) -> None:
    def search(first: dt.date, last: dt.date) -> object:
        return slots.search_slots(session, "central", "card", first, last, None, NOW)

    with pytest.raises(InvalidInput, match="before 'from'"):
        search(TUESDAY, TUESDAY - dt.timedelta(days=1))
    with pytest.raises(InvalidInput, match="at most 62 days"):
        search(TUESDAY, TUESDAY + dt.timedelta(days=63))
    with pytest.raises(TimeOutOfRange, match="120 days ahead"):
        search(TUESDAY + dt.timedelta(days=130), TUESDAY + dt.timedelta(days=131))
    with pytest.raises(TimeOutOfRange, match="passed"):
        search(TUESDAY - dt.timedelta(days=10), TUESDAY - dt.timedelta(days=9))
    _, _, today = slots.search_slots(session, "central", "card", NOW.date(), NOW.date(), None, NOW)
    assert today and all(s.starts_at > NOW for s in today)  # today: only what has not started


def test_the_nearest_free_starts_are_offered_in_time_order_in_office_time() -> None:
    free = [slots.FreeSlot(_at(h).astimezone(dt.UTC), _at(h, 15).astimezone(dt.UTC), 1) for h in (9, 10, 12, 15)]
    near = slots.pick_nearest(free, _at(11, 30).astimezone(dt.UTC), count=2)
    assert [s.starts_at for s in near] == [_at(10), _at(12)]
    assert slots.alternatives(near, "America/New_York") == ["2027-03-02T10:00:00-05:00", "2027-03-02T12:00:00-05:00"]

