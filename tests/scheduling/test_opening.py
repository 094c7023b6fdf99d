"""Whether an office is open at a moment (scheduling/opening.py): its weekly hours, in its own time zone,
and its closures. The demo office is open 09:00-16:30 New York time on weekdays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.scheduling import service
from safeslot.scheduling.opening import is_open
from tests.conftest import ON_SQLITE

NY = service.zone("America/New_York")


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=NY)


@ON_SQLITE
def test_open_inside_the_weekly_hours_in_the_office_time_zone(office: str, session: Session) -> None:
    central = service.get_office(session, office)
    assert is_open(session, central, _at(2, 9))  # Tuesday, opening time
    assert is_open(session, central, _at(2, 16, 29))
    assert not is_open(session, central, _at(2, 16, 30))  # closing time is closed
    assert not is_open(session, central, _at(2, 8, 59))
    assert not is_open(session, central, _at(6, 11))  # Saturday
    assert is_open(session, central, _at(2, 9).astimezone(dt.UTC))  # the same moment in UTC


@ON_SQLITE
def test_early_opens_the_door_that_long_before_opening_time(office: str, session: Session) -> None:
    central = service.get_office(session, office)
    assert is_open(session, central, _at(2, 8, 45), early=dt.timedelta(minutes=15))
    assert not is_open(session, central, _at(2, 8, 44), early=dt.timedelta(minutes=15))


@ON_SQLITE
def test_a_closure_closes_the_whole_day(office: str, session: Session) -> None:
    central = service.get_office(session, office)
    service.add_closure(session, central, dt.date(2027, 3, 3), "Test closure", dt.date(2027, 3, 1))
    assert not is_open(session, central, _at(3, 11))
    assert is_open(session, central, _at(4, 11))
