"""A staff member's own hours and days away (scheduling/working_hours.py), as their supervisor sets them;
the stories of visits moved by a change are in test_staff_hours.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import service, staffing, working_hours
from safeslot.scheduling.errors import HoursOverlap, OfficeItemNotFound
from tests.conftest import NOW, ON_SQLITE

T = dt.time


def _member_id(session: Session, office: str) -> int:
    return staffing.active_staff(session, service.get_office(session, office))[0].id


@ON_SQLITE
def test_own_hours_are_joined_when_touching_and_cleared_back_to_office_hours(office: str, session: Session) -> None:
    central, who = service.get_office(session, office), _member_id(session, office)
    assert not working_hours.schedule(session, central, who, NOW.date()).own
    mine, _ = working_hours.set_staff_hours(session, central, who, [(1, T(9), T(12)), (1, T(12), T(14))], NOW)
    assert (mine.own, mine.windows) == (True, ((1, T(9), T(14)),))
    none, _ = working_hours.set_staff_hours(session, central, who, [], NOW)  # takes no visits for now
    assert (none.own, none.windows) == (True, ())
    back, _ = working_hours.set_staff_hours(session, central, who, None, NOW)
    assert (back.own, back.windows) == (False, ())


@ON_SQLITE
def test_overlapping_or_backwards_windows_are_refused_and_change_nothing(office: str, session: Session) -> None:
    central, who = service.get_office(session, office), _member_id(session, office)
    with pytest.raises(HoursOverlap):
        working_hours.set_staff_hours(session, central, who, [(1, T(9), T(12)), (1, T(11), T(13))], NOW)
    with pytest.raises(InvalidInput, match="start must be before its end"):
        working_hours.set_staff_hours(session, central, who, [(1, T(12), T(9))], NOW)
    assert not working_hours.schedule(session, central, who, NOW.date()).own


@ON_SQLITE
def test_days_away_are_today_or_later_at_most_a_year_and_can_be_taken_back(office: str, session: Session) -> None:
    central, who, today = service.get_office(session, office), _member_id(session, office), NOW.date()
    away, _ = working_hours.add_absence(session, central, who, today + dt.timedelta(days=2),
                                        today + dt.timedelta(days=3), today, NOW)
    assert working_hours.schedule(session, central, who, today).absences == (away,)
    for first, last, why in ((3, 2, "before the first"), (-3, -1, "passed"), (1, 370, "a year")):
        with pytest.raises(InvalidInput, match=why):
            working_hours.add_absence(session, central, who, today + dt.timedelta(days=first),
                                      today + dt.timedelta(days=last), today, NOW)
    working_hours.remove_absence(session, central, who, away.id)
    assert working_hours.schedule(session, central, who, today).absences == ()
    with pytest.raises(OfficeItemNotFound):
        working_hours.remove_absence(session, central, who, away.id)
