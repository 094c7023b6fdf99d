"""Staff working hours: nobody is offered, booked or kept outside their hours or on a day away,
on either booking path; a change of hours moves visits or lists them for the supervisor.

Demo office (America/New_York, open 09:00-16:30 on weekdays): apply is served by A, B, D, F
(preferred in that order: A, D, F, then B), card by A, B, C, E.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import fastlookup, service
from safeslot.scheduling.errors import SlotFull
from safeslot.scheduling.models import Appointment, Office, Staff, StaffHold
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW
from tests.identity.helpers import staff_headers
from tests.scheduling.conftest import fast_path_database
from tests.scheduling.invariants import duty_violations, people_violations
from tests.scheduling.live import LiveServer

TZ = service.zone("America/New_York")
T = dt.datetime(2027, 3, 2, 10, 0, tzinfo=TZ)  # a Tuesday, inside the demo's two weeks
AFTERNOONS = [{"weekday": d, "opens": "13:00", "closes": "16:30"} for d in range(5)]


def _office(session: Session) -> Office:
    return service.get_office(session, "central")


def _staff(session: Session, name: str) -> Staff:
    return session.scalars(select(Staff).where(Staff.display_name == name)).one()


def _book(session: Session, keyring: KeyRing, slug: str = "apply", start: dt.datetime = T,
          name: str = "Test Person A") -> Appointment:
    return service.book(session, keyring, BookingIn(office="central", service=slug, starts_at=start, name=name),
                        NOW)


def _free(session: Session, slug: str = "apply", day: dt.date = T.date()) -> dict[dt.datetime, int]:
    _, _, found = service.search_slots(session, "central", slug, day, day, None, NOW)
    return {s.starts_at: s.available for s in found}


def _afternoons(session: Session, name: str) -> service.Reassignment:
    windows = [(d, dt.time(13), dt.time(16, 30)) for d in range(5)]
    return service.set_staff_hours(session, _office(session), _staff(session, name).id, windows, NOW)[1]


# -- search and the sync path --------------------------------------------------------------------------
def test_search_and_booking_keep_to_each_persons_hours(office: str, session: Session, keyring: KeyRing) -> None:
    t = T.astimezone(dt.UTC)
    assert _free(session)[t] == 4
    _afternoons(session, "Desk A")
    assert _free(session)[t] == 3  # A works afternoons only
    assert _free(session)[t + dt.timedelta(hours=4)] == 4  # 14:00: A too
    desk_a = _staff(session, "Desk A").id
    made = [_book(session, keyring, name=f"Test Person {i}") for i in range(3)]
    assert desk_a not in {a.staff_id for a in made}  # A would be first choice at any hour they work
    with pytest.raises(SlotFull):
        _book(session, keyring, name="Test Person Z")  # A is free, but not working at 10:00
    assert t not in _free(session)
    afternoon = _book(session, keyring, start=T + dt.timedelta(hours=4), name="Test Person Y")
    assert afternoon.staff_id == desk_a
    assert people_violations(session) == [] and duty_violations(session) == []


def test_a_day_away_takes_the_person_out_of_that_day_only(office: str, session: Session, keyring: KeyRing) -> None:
    t = T.astimezone(dt.UTC)
    desk_a = _staff(session, "Desk A")
    service.add_absence(session, _office(session), desk_a.id, T.date(), T.date(), NOW.date(), NOW)
    assert _free(session)[t] == 3
    assert _free(session, day=T.date() + dt.timedelta(days=1))[t + dt.timedelta(days=1)] == 4
    assert _book(session, keyring).staff_id != desk_a.id
    assert _book(session, keyring, start=T + dt.timedelta(days=1)).staff_id == desk_a.id


def test_a_plan_made_before_a_change_of_hours_is_rechecked_when_executed(
    office: str, session: Session, keyring: KeyRing
) -> None:
    """The sync path reads the hours after its locks, as BOOK_SQL does: a plan computed when A still
    worked mornings (A first in its candidates) never gives A a morning visit after the change."""
    data = BookingIn(office="central", service="apply", starts_at=T, name="Test Person A")
    plan = service.prepare(session, keyring, data, NOW)
    desk_a = _staff(session, "Desk A").id
    assert plan.candidates.servers[0] == desk_a
    _afternoons(session, "Desk A")
    made = service.execute(session, plan)
    assert made.staff_id != desk_a
    assert duty_violations(session) == []


def test_a_change_of_hours_moves_visits_or_lists_them_and_overbooks_no_one(
    office: str, session: Session, keyring: KeyRing, client: TestClient
) -> None:
    first = _book(session, keyring, name="Test Person 0")
    desk_a = _staff(session, "Desk A")
    assert first.staff_id == desk_a.id
    done = _afternoons(session, "Desk A")  # D, F and B are free at 10:00: A's visit moves
    assert [a.id for a in done.moved] == [first.id] and done.unassigned == []
    assert first.staff_id == _staff(session, "Desk D").id
    others = [_book(session, keyring, name=f"Test Person {i}") for i in (1, 2)]  # F and B
    supervisor = staff_headers(session, keyring, ["supervisor"])
    desk_f = _staff(session, "Desk F")
    r = client.put(f"/api/v1/offices/central/staff/{desk_f.id}/hours", headers=supervisor,
                   json={"weekly": AFTERNOONS})
    assert r.status_code == 200, r.text
    assert r.json()["reassigned"] == 0 and r.json()["unassigned"] == 1  # A is free but not working at 10:00
    session.expire_all()
    stranded = next(a for a in [first, *others] if a.staff_id is None)
    assert stranded.status == "booked"
    assert session.scalar(select(func.count()).where(StaffHold.appointment_id == stranded.id)) == 0
    listed = client.get("/api/v1/offices/central/unassigned", headers=supervisor).json()
    assert [row["code"] for row in listed] == [service.format_code(stranded.code)]
    # F works office hours again: the next change hands the visit back
    r = client.put(f"/api/v1/offices/central/staff/{desk_f.id}/hours", headers=supervisor, json={"weekly": None})
    assert r.json()["unassigned"] == 0 and r.json()["weekly"] is None
    session.expire_all()
    assert stranded.staff_id == desk_f.id
    assert people_violations(session) == [] and duty_violations(session) == []


def test_the_supervisor_api_for_hours_and_absences(
    office: str, session: Session, keyring: KeyRing, client: TestClient
) -> None:
    supervisor = staff_headers(session, keyring, ["supervisor"])
    desk_e = _staff(session, "Desk E")
    url = f"/api/v1/offices/central/staff/{desk_e.id}"
    assert client.get(f"{url}/hours", headers=supervisor).json() == {"staff_id": desk_e.id, "weekly": None,
                                                                     "absences": []}
    r = client.put(f"{url}/hours", headers=supervisor, json={"weekly": [
        {"weekday": 1, "opens": "09:00", "closes": "12:00"}, {"weekday": 1, "opens": "12:00", "closes": "13:00"}]})
    assert r.status_code == 200, r.text
    assert r.json()["weekly"] == [{"weekday": 1, "opens": "09:00:00", "closes": "13:00:00"}]  # joined
    for bad, kind in [([{"weekday": 1, "opens": "09:00", "closes": "12:00"},
                        {"weekday": 1, "opens": "11:00", "closes": "14:00"}], "hours-overlap"),
                      ([{"weekday": 1, "opens": "12:00", "closes": "09:00"}], "invalid-input"),
                      ([{"weekday": 7, "opens": "09:00", "closes": "12:00"}], "invalid-input")]:
        r = client.put(f"{url}/hours", headers=supervisor, json={"weekly": bad})
        assert r.status_code == 422 and r.json()["type"] == f"/problems/{kind}", r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get(f"{url}/hours", headers=supervisor).json()["weekly"] == [
        {"weekday": 1, "opens": "09:00:00", "closes": "13:00:00"}]  # refused changes left nothing behind
    r = client.post(f"{url}/absences", headers=supervisor, json={"first_day": "2027-03-04", "last_day": "2027-03-05"})
    assert r.status_code == 201, r.text
    [absence] = r.json()["absences"]
    r = client.post(f"{url}/absences", headers=supervisor, json={"first_day": "2027-03-05", "last_day": "2027-03-04"})
    assert r.status_code == 422 and "last day" in r.json()["detail"]
    clerk = staff_headers(session, keyring, ["clerk"])
    assert client.put(f"{url}/hours", headers=clerk, json={"weekly": None}).status_code == 403
    assert client.delete(f"{url}/absences/{absence['id']}", headers=clerk).status_code == 403
    assert client.delete(f"{url}/absences/{absence['id'] + 99}", headers=supervisor).status_code == 404
    assert client.delete(f"{url}/absences/{absence['id']}", headers=supervisor).status_code == 204
    assert client.get(f"{url}/hours", headers=supervisor).json()["absences"] == []
    assert client.put("/api/v1/offices/central/staff/999999/hours", headers=supervisor,
                      json={"weekly": None}).status_code == 404


def test_booking_outside_hours_over_http_is_refused(
    office: str, session: Session, keyring: KeyRing, client: TestClient
) -> None:
    """The sync endpoint (the test client's app shares the test's transaction, so the fast path is off)."""
    for name in ("Desk A", "Desk B", "Desk D", "Desk F"):
        _afternoons(session, name)
    r = client.post("/api/v1/appointments", json={"office": "central", "service": "apply",
                                                  "starts_at": T.isoformat(), "name": "Test Person A"})
    assert r.status_code == 409 and r.json()["type"] == "/problems/slot-full", r.text
    assert all(dt.datetime.fromisoformat(s).hour >= 13 for s in r.json()["nearest"])
    slots = client.get("/api/v1/slots", params={"office": "central", "service": "apply",
                                                "from": T.date().isoformat(), "to": T.date().isoformat()}).json()
    assert slots and all(dt.datetime.fromisoformat(s["starts_at"]).hour >= 13 for s in slots)


# -- the PostgreSQL fast path ---------------------------------------------------------------------------
@pytest.fixture
def live_db(fresh_url: str, backend: str) -> Iterator[Engine]:
    with fast_path_database(fresh_url, backend, NOW.date(), 2) as engine:
        yield engine


def test_the_fast_path_never_books_outside_hours_even_from_a_stale_cache(
    live_db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastlookup, "FACTS_TTL", 3600.0)  # the cache never refreshes during the test
    body = {"office": "central", "service": "apply", "starts_at": T.isoformat()}
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=30) as client:
        r = client.post("/api/v1/appointments", json={**body, "name": "Test Person 0"})
        assert r.status_code == 201, r.text  # the cache now holds the office's people
        with Session(live_db) as s, s.begin():  # every apply server but A now works afternoons only,
            for name in ("Desk B", "Desk D", "Desk F"):  # within the cache's lifetime
                _afternoons(s, name)
        answers = [client.post("/api/v1/appointments", json={**body, "name": f"Test Person {i}"})
                   for i in range(1, 4)]
        assert [a.status_code for a in answers] == [409, 409, 409], [a.text for a in answers]
        assert {a.json()["type"] for a in answers} == {"/problems/slot-full"}
        assert live.app.state.fast_booking.answered == 4  # refused by the fast path itself
    with Session(live_db) as s:
        made = s.scalars(select(Appointment).where(Appointment.status == "booked")).all()
        assert len(made) == 1
        assert people_violations(s) == [] and duty_violations(s) == []
