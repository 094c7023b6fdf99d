"""Staff working hours: nobody is offered, booked or kept outside their hours or on a day away,
on either booking path; a change of hours moves visits or lists them for the supervisor.

Demo office (America/New_York, open 09:00-16:30 on weekdays): apply is served by A, B, D, F
(preferred in that order: A, D, F, then B), card by A, B, C, E.
"""

from __future__ import annotations

import datetime as dt
import random
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
from safeslot.scheduling.duty import Duty, DutyMasks, local_visit, merge, off_duty
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
TUESDAY = 1
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


# -- the pure rule ------------------------------------------------------------------------------------
def test_a_visit_is_covered_only_when_it_lies_inside_one_window_of_its_weekday() -> None:
    d = Duty(1, True, {TUESDAY: ((dt.time(9), dt.time(12)),)}, ((dt.date(2027, 3, 9), dt.date(2027, 3, 10)),))
    at = dt.datetime(2027, 3, 2, 11, 30, tzinfo=TZ)
    assert d.on_duty(local_visit(at, at + dt.timedelta(minutes=30), TZ))  # 11:30-12:00: ends at closing
    assert not d.on_duty(local_visit(at, at + dt.timedelta(minutes=45), TZ))  # runs past 12:00
    assert not d.on_duty(local_visit(at - dt.timedelta(hours=3), at - dt.timedelta(hours=2), TZ))  # 08:30
    wednesday = at + dt.timedelta(days=1)
    assert not d.on_duty(local_visit(wednesday, wednesday + dt.timedelta(minutes=15), TZ))  # no Wednesday hours
    away = at + dt.timedelta(days=7)  # Tuesday 9 March, inside the absence
    assert not d.on_duty(local_visit(away, away + dt.timedelta(minutes=15), TZ))
    office_hours = Duty(2, False, {}, ((away.date(), away.date()),))  # works when the office is open, but away
    assert office_hours.on_duty(local_visit(at, at + dt.timedelta(minutes=15), TZ))
    assert not office_hours.on_duty(local_visit(away, away + dt.timedelta(minutes=15), TZ))
    late = dt.datetime(2027, 3, 2, 23, 45, tzinfo=TZ)  # crosses midnight: never inside one window
    assert not Duty(3, True, {TUESDAY: ((dt.time(0), dt.time(23, 59)),)}).on_duty(
        local_visit(late, late + dt.timedelta(minutes=30), TZ))


def test_touching_windows_are_joined_and_overlapping_ones_refused() -> None:
    t = dt.time
    assert merge([(1, t(12), t(15)), (1, t(9), t(12)), (0, t(9), t(10))]) == [(0, t(9), t(10)), (1, t(9), t(15))]
    with pytest.raises(ValueError, match="overlap"):
        merge([(1, t(9), t(12)), (1, t(11), t(13))])
    with pytest.raises(ValueError, match="opens"):
        merge([(1, t(12), t(9))])


def test_the_search_masks_agree_with_the_rule_one_visit_at_a_time() -> None:
    """DutyMasks (cached per weekday and day) gives the same people off duty as ``off_duty`` per visit,
    across a daylight-saving change."""
    rng = random.Random(11)
    duties = {}
    for who in range(12):
        windows: dict[int, tuple[tuple[dt.time, dt.time], ...]] = {}
        for wd in range(7):
            if rng.random() < 0.7:  # one window, or two with a gap (touching ones are joined when saved)
                q = sorted(rng.sample(range(6 * 4, 20 * 4), 4))
                pairs = [(q[0], q[1]), (q[2], q[3])] if rng.random() < 0.5 else [(q[0], q[3])]
                windows[wd] = tuple((dt.time(a // 4, a % 4 * 15), dt.time(b // 4, b % 4 * 15)) for a, b in pairs)
        first = dt.date(2027, 3, 1) + dt.timedelta(days=rng.randrange(30))
        absences = ((first, first + dt.timedelta(days=rng.randrange(3))),) if rng.random() < 0.5 else ()
        duties[who] = Duty(who, rng.random() < 0.8, windows, absences)
    bits = {who: 1 << who for who in range(12)}
    for minutes in (15, 45, 90):
        masks = DutyMasks(duties, bits, minutes, TZ)
        start = dt.datetime(2027, 3, 1, 5, 0, tzinfo=dt.UTC)  # 14 March 2027 is the spring-forward day
        while start < dt.datetime(2027, 3, 31, tzinfo=dt.UTC):
            visit = local_visit(start, start + dt.timedelta(minutes=minutes), TZ)
            expected = sum(bits[w] for w in off_duty(duties, range(12), visit))
            assert masks.mask(start) == expected, (start, minutes)
            start += dt.timedelta(minutes=15)


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
