"""Daylight-saving changes of America/New_York in 2027 (14 March and 7 November).

An office that opens at 09:00 opens at 09:00 local on both sides of each
change: the UTC instant moves by an hour, the local time and its offset in the
answer are right, and the database holds the UTC instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment

# (local day, expected answer, expected UTC instant)
CASES = [
    (dt.date(2027, 3, 12), "2027-03-12T09:00:00-05:00", dt.datetime(2027, 3, 12, 14, 0, tzinfo=dt.UTC)),  # Fri, EST
    (dt.date(2027, 3, 15), "2027-03-15T09:00:00-04:00", dt.datetime(2027, 3, 15, 13, 0, tzinfo=dt.UTC)),  # Mon, EDT
    (dt.date(2027, 11, 5), "2027-11-05T09:00:00-04:00", dt.datetime(2027, 11, 5, 13, 0, tzinfo=dt.UTC)),  # Fri, EDT
    (dt.date(2027, 11, 8), "2027-11-08T09:00:00-05:00", dt.datetime(2027, 11, 8, 14, 0, tzinfo=dt.UTC)),  # Mon, EST
]


@pytest.fixture
def office_weeks() -> int:
    return 0  # no starts from NOW: only the weeks around each clock change, below


@pytest.fixture
def office(office: str, session: Session) -> str:
    """The shared demo office (tests/conftest.py; NOW is 1 March 2027) with the weeks of both changes."""
    slug = office
    found = service.get_office(session, slug)
    for day in (dt.date(2027, 3, 10), dt.date(2027, 11, 3)):
        service.generate_slots(session, found, day, day + dt.timedelta(days=7))
    session.flush()
    return slug


def _clock_before(day: dt.date) -> Callable[[], dt.datetime]:
    return lambda: dt.datetime.combine(day - dt.timedelta(days=10), dt.time(12), tzinfo=dt.UTC)


@pytest.mark.parametrize(("day", "local", "utc"), CASES, ids=[c[0].isoformat() for c in CASES])
def test_nine_oclock_stays_nine_oclock(
    app_factory: Callable[..., TestClient], session: Session, office: str, day: dt.date, local: str,
    utc: dt.datetime,
) -> None:
    client = app_factory(clock=_clock_before(day))
    slots = client.get("/api/v1/slots", params={"office": office, "service": "card", "from": day.isoformat(),
                                                "to": day.isoformat()}).json()
    assert slots[0]["starts_at"] == local
    assert slots[0]["starts_at_utc"] == utc.isoformat().replace("+00:00", "Z")
    r = client.post("/api/v1/appointments", json={"office": office, "service": "card", "starts_at": local,
                                                  "name": "D. Example"})
    assert r.status_code == 201, r.text
    assert r.json()["starts_at"] == local
    code = r.json()["code"]
    assert client.get(f"/api/v1/appointments/{code}").json()["starts_at"] == local
    stored = session.scalars(select(Appointment.starts_at).where(Appointment.code == code.replace("-", ""))).one()
    assert stored == utc


def test_the_same_instant_written_in_utc_books_the_same_slot(
    app_factory: Callable[..., TestClient], office: str
) -> None:
    client = app_factory(clock=_clock_before(dt.date(2027, 3, 15)))
    r = client.post("/api/v1/appointments", json={"office": office, "service": "card",
                                                  "starts_at": "2027-03-15T13:00:00Z", "name": "U. Example"})
    assert r.status_code == 201, r.text
    assert r.json()["starts_at"] == "2027-03-15T09:00:00-04:00"


def test_the_skipped_hour_has_no_slots(session: Session, office: str) -> None:
    """Opening hours that span 02:00-03:00 on 14 March: those local times do not exist."""
    found = service.get_office(session, office)
    service.set_hours(session, found, 6, dt.time(1, 0), dt.time(4, 0))  # Sunday 01:00-04:00
    sunday = dt.date(2027, 3, 14)
    service.generate_slots(session, found, sunday, sunday)
    now = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
    _, _, slots = service.search_slots(session, office, "card", sunday, sunday, None, now)
    tz = service.zone("America/New_York")
    local = [s.starts_at.astimezone(tz).strftime("%H:%M%z") for s in slots]
    assert local[:4] == ["01:00-0500", "01:15-0500", "01:30-0500", "01:45-0500"]
    assert local[4] == "03:00-0400"  # 02:00-02:45 never happen
    assert not any(t.startswith("02:") for t in local)
