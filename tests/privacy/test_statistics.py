"""Office reports (privacy/statistics.py): an office's visits in a month by service and status, the visits
still kept and the monthly counts retention left of the purged ones added together."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from safeslot.privacy import statistics
from safeslot.privacy.models import MonthlyCount
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

NY = scheduling.zone("America/New_York")


def test_a_month_is_its_utc_bounds_and_anything_else_is_refused() -> None:
    assert statistics.month_bounds("2027-12") == (dt.datetime(2027, 12, 1, tzinfo=dt.UTC),
                                                  dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    for bad in ("2027-13", "2027-3", "March 2027", ""):
        with pytest.raises(InvalidInput, match="YYYY-MM"):
            statistics.month_bounds(bad)


@ON_SQLITE
def test_kept_visits_and_counts_of_purged_ones_add_up_by_service_and_status(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    central = scheduling.get_office(session, office)
    card = scheduling.get_service(session, central, "card")
    for minutes in (0, 15, 30):
        scheduling.book(session, keyring, BookingIn(
            office=office, service="card", starts_at=dt.datetime(2027, 3, 2, 10, tzinfo=NY) + dt.timedelta(
                minutes=minutes), name="Test Person 1"), NOW)
    visit = scheduling.book(session, keyring, BookingIn(office=office, service="card", starts_at=dt.datetime(
        2027, 3, 3, 10, tzinfo=NY), name="Test Person 2"), NOW)
    scheduling.cancel(session, visit.code, NOW)
    session.add(MonthlyCount(month="2027-03", office_id=central.id, service_id=card.id, status="fulfilled",
                             language="", count=40))
    session.flush()
    [month] = statistics.offices_month(session, "2027-03", [central.id]).values()
    assert month.by_status() == {"booked": 3, "cancelled": 1, "fulfilled": 40} and month.total == 44
    assert statistics.offices_month(session, "2027-03")[central.id].total == 44  # the whole network
    assert statistics.offices_month(session, "2027-04", [central.id]) == {}
    assert statistics.offices_month(session, "2027-03", [central.id + 1]) == {}
