"""Scheduling's side of the office reports (scheduling/statistics.py): visits starting in a period, counted
by office, service and status, never by person."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import booking, service, statistics
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, ON_SQLITE

NY = service.zone("America/New_York")
START, END = dt.datetime(2027, 3, 1, tzinfo=dt.UTC), dt.datetime(2027, 4, 1, tzinfo=dt.UTC)


@ON_SQLITE
def test_visits_in_the_period_are_counted_by_office_service_and_status(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    central = service.get_office(session, office)
    codes = [booking.book(session, keyring, BookingIn(
        office=office, service=slug, starts_at=dt.datetime(2027, 3, 2, 10, tzinfo=NY) + dt.timedelta(hours=i),
        name="Test Person 1"), NOW).code for i, slug in enumerate(("card", "card", "apply"))]
    booking.cancel(session, codes[1], NOW)
    card, apply = (service.get_service(session, central, s).id for s in ("card", "apply"))
    found = {(c.service_id, c.status): c.count for c in statistics.month_counts(session, START, END, [central.id])}
    assert found == {(card, "booked"): 1, (card, "cancelled"): 1, (apply, "booked"): 1}
    assert all(set(dataclasses.asdict(c)) == {"office_id", "service_id", "status", "count"}
               for c in statistics.month_counts(session, START, END))
    assert statistics.month_counts(session, END, END + dt.timedelta(days=30), [central.id]) == []
    assert statistics.month_counts(session, START, END, [central.id + 1]) == []
