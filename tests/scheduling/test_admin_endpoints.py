"""Supervisor API: only a supervisor of that office manages its services, staff, hours and closures."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service
from safeslot.scheduling.models import Closure, Service, Staff, WeeklyHours
from tests.conftest import NOW
from tests.identity.helpers import bearer, make_staff

WEDNESDAY = NOW.date() + dt.timedelta(days=2)
SATURDAY = NOW.date() + dt.timedelta(days=5)


@pytest.fixture
def north(session: Session, office: str) -> str:
    service.add_office(session, "north", "North Office", "1 Example Road", "America/New_York")
    session.flush()
    return "north"


def _headers(session: Session, keyring: KeyRing, roles: list[str], office: str | None, name: str) -> dict[str, str]:
    account, _ = make_staff(session, keyring, roles, office, username=name)
    return bearer(session, account)


def _slots(client: TestClient, service_slug: str, day: dt.date) -> list[dict[str, object]]:
    r = client.get("/api/v1/slots", params={"office": "central", "service": service_slug,
                                            "from": day.isoformat(), "to": day.isoformat()})
    assert r.status_code == 200, r.text
    return list(r.json())


def _count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_supervisor_manages_their_office_and_changes_reach_search(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    h = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    r = client.post("/api/v1/offices/central/services", headers=h,
                    json={"slug": "permit", "name": "Parking permit", "minutes": 15})
    assert r.status_code == 201, r.text
    assert _slots(client, "permit", WEDNESDAY) == []  # nobody serves it yet
    r = client.post("/api/v1/offices/central/staff", headers=h,
                    json={"display_name": "Desk G", "languages": ["en"], "services": ["permit"]})
    assert r.status_code == 201, r.text
    assert len(_slots(client, "permit", WEDNESDAY)) > 0  # reopened at once

    assert _slots(client, "card", SATURDAY) == []
    r = client.post("/api/v1/offices/central/hours", headers=h,
                    json={"weekday": 5, "opens": "09:00", "closes": "12:00"})
    assert r.status_code == 201, r.text
    saturday = _slots(client, "card", SATURDAY)
    assert saturday and str(saturday[0]["starts_at"]).startswith(f"{SATURDAY.isoformat()}T09:00")

    listed = {k: client.get(f"/api/v1/offices/central/{k}", headers=h) for k in ("services", "staff", "hours")}
    assert all(r.status_code == 200 for r in listed.values())
    assert "permit" in [s["slug"] for s in listed["services"].json()]
    assert "Desk G" in [s["display_name"] for s in listed["staff"].json()]
    assert {"weekday": 5, "opens": "09:00:00", "closes": "12:00:00"} in [
        {k: v for k, v in row.items() if k != "id"} for row in listed["hours"].json()]


def test_closure_removes_that_days_slots_from_search(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    h = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    assert _slots(client, "apply", WEDNESDAY)
    r = client.post("/api/v1/offices/central/closures", headers=h,
                    json={"day": WEDNESDAY.isoformat(), "reason": "Public holiday"})
    assert r.status_code == 201, r.text
    assert _slots(client, "apply", WEDNESDAY) == []
    assert _slots(client, "apply", WEDNESDAY + dt.timedelta(days=1))  # the next day stays open
    assert [{k: v for k, v in row.items() if k != "id"}
            for row in client.get("/api/v1/offices/central/closures", headers=h).json()] == [
        {"day": WEDNESDAY.isoformat(), "reason": "Public holiday"}
    ]
    again = client.post("/api/v1/offices/central/closures", headers=h,
                        json={"day": WEDNESDAY.isoformat(), "reason": "Twice"})
    assert again.status_code == 409 and again.json()["type"] == "/problems/closure-exists"


@pytest.mark.parametrize("kind", ["services", "staff", "hours", "closures"])
def test_other_office_supervisor_clerk_and_admin_are_refused_and_nothing_changes(
    client: TestClient, session: Session, keyring: KeyRing, north: str, kind: str
) -> None:
    bodies = {
        "services": {"slug": "permit", "name": "Parking permit", "minutes": 15},
        "staff": {"display_name": "Desk G", "languages": ["en"], "services": ["card"]},
        "hours": {"weekday": 5, "opens": "09:00", "closes": "12:00"},
        "closures": {"day": WEDNESDAY.isoformat(), "reason": "Public holiday"},
    }
    before = [_count(session, m) for m in (Service, Staff, WeeklyHours, Closure)]
    callers = {
        "supervisor of another office": (_headers(session, keyring, ["supervisor"], "north", "sup-north"),
                                         "office-not-found"),
        "clerk of this office": (_headers(session, keyring, ["clerk"], "central", "clerk-central"), "role-refused"),
        "admin": (_headers(session, keyring, ["admin"], None, "admin"), "role-refused"),
    }
    for who, (h, slug) in callers.items():
        for r in (client.post(f"/api/v1/offices/central/{kind}", headers=h, json=bodies[kind]),
                  client.get(f"/api/v1/offices/central/{kind}", headers=h)):
            # another office's records answer as an unknown office's (404, no existence oracle)
            assert r.status_code == (404 if slug == "office-not-found" else 403), (who, r.text)
            assert r.json()["type"] == f"/problems/{slug}", who
    assert client.post(f"/api/v1/offices/central/{kind}", json=bodies[kind]).status_code == 401
    assert [_count(session, m) for m in (Service, Staff, WeeklyHours, Closure)] == before
    assert _slots(client, "apply", WEDNESDAY)  # no closure slipped through


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("services", {"slug": "Bad Slug", "name": "x", "minutes": 15}),
        ("services", {"slug": "odd", "name": "Odd", "minutes": 20}),
        ("services", {"slug": "long", "name": "Long", "minutes": 255}),  # over 4 hours, as the console says
        ("services", {"slug": "card", "name": "Duplicate", "minutes": 15}),
        ("staff", {"display_name": "Desk G", "languages": ["en"], "services": ["no-such-service"]}),
        ("staff", {"display_name": "Desk G", "languages": [], "services": ["card"]}),
        ("hours", {"weekday": 7, "opens": "09:00", "closes": "12:00"}),
        ("hours", {"weekday": 5, "opens": "12:00", "closes": "09:00"}),
        ("hours", {"weekday": 0, "opens": "10:00", "closes": "11:00"}),  # overlaps Monday 09:00-16:30
        ("closures", {"day": "2027-02-30", "reason": "x"}),
        ("closures", {"day": (NOW.date() - dt.timedelta(days=1)).isoformat(), "reason": "Yesterday"}),
        ("closures", {"day": WEDNESDAY.isoformat(), "reason": ""}),
    ],
)
def test_bad_input_is_422_and_writes_nothing(
    client: TestClient, session: Session, keyring: KeyRing, office: str, kind: str, body: dict[str, object]
) -> None:
    h = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    before = [_count(session, m) for m in (Service, Staff, WeeklyHours, Closure)]
    wednesday = len(_slots(client, "apply", WEDNESDAY))
    r = client.post(f"/api/v1/offices/central/{kind}", headers=h, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [_count(session, m) for m in (Service, Staff, WeeklyHours, Closure)] == before
    assert len(_slots(client, "apply", WEDNESDAY)) == wednesday


def test_unknown_office_is_404(client: TestClient, session: Session, keyring: KeyRing, office: str) -> None:
    h = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    assert client.get("/api/v1/offices/nowhere/services", headers=h).status_code == 404


def _book(client: TestClient, service_slug: str, day: dt.date) -> str:
    start = _slots(client, service_slug, day)[0]["starts_at"]
    r = client.post("/api/v1/appointments", json={"office": "central", "service": service_slug,
                                                   "starts_at": start, "name": "Test Person M"})
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def test_supervisor_takes_hours_away_and_opens_a_closed_day_again_and_bookings_stay(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    h = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    added = client.post("/api/v1/offices/central/hours", headers=h,
                        json={"weekday": 5, "opens": "09:00", "closes": "12:00"}).json()
    code = _book(client, "card", SATURDAY)
    overlap = client.post("/api/v1/offices/central/hours", headers=h,
                          json={"weekday": 5, "opens": "11:00", "closes": "13:00"})
    assert overlap.status_code == 422 and overlap.json()["type"] == "/problems/hours-overlap"

    gone = client.delete(f"/api/v1/offices/central/hours/{added['id']}", headers=h)
    assert gone.status_code == 204
    assert _slots(client, "card", SATURDAY) == []  # no new bookings that day
    assert client.get(f"/api/v1/appointments/{code}").json()["status"] == "booked"  # the booked one stays
    again = client.delete(f"/api/v1/offices/central/hours/{added['id']}", headers=h)
    assert again.status_code == 404 and again.json()["type"] == "/problems/office-item-not-found"

    closed = client.post("/api/v1/offices/central/closures", headers=h,
                         json={"day": WEDNESDAY.isoformat(), "reason": "Training"}).json()
    assert _slots(client, "apply", WEDNESDAY) == []
    assert client.delete(f"/api/v1/offices/central/closures/{closed['id']}", headers=h).status_code == 204
    assert _slots(client, "apply", WEDNESDAY), "the day is open again"
    past = client.post("/api/v1/offices/central/closures", headers=h,
                       json={"day": (NOW.date() - dt.timedelta(days=1)).isoformat(), "reason": "Late"})
    assert past.status_code == 422


def test_staff_who_leave_take_their_capacity_but_not_the_bookings(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    h = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    members = client.get("/api/v1/offices/central/staff", headers=h).json()
    interviewers = [m for m in members if "interview" in m["services"]]
    code = _book(client, "interview", WEDNESDAY)
    first = _slots(client, "interview", WEDNESDAY)[0]["starts_at"]
    for m in interviewers:
        r = client.patch(f"/api/v1/offices/central/staff/{m['id']}", headers=h, json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
    assert _slots(client, "interview", WEDNESDAY) == []  # nobody left to serve it
    assert client.get(f"/api/v1/appointments/{code}").json()["status"] == "booked"
    listed = client.get("/api/v1/offices/central/staff", headers=h).json()
    assert {m["id"] for m in listed if not m["active"]} == {m["id"] for m in interviewers}  # still listed

    back = client.patch(f"/api/v1/offices/central/staff/{interviewers[0]['id']}", headers=h,
                        json={"active": True, "languages": ["en", "vi"]})
    assert back.status_code == 200 and back.json()["languages"] == ["en", "vi"]
    free = _slots(client, "interview", WEDNESDAY)
    assert free and all(s["available"] == 1 for s in free)  # one interviewer back: one place a time
    assert first not in [s["starts_at"] for s in free]  # ... and the booked 09:00 already fills it
    bad = client.patch(f"/api/v1/offices/central/staff/{interviewers[0]['id']}", headers=h,
                       json={"services": ["no-such-service"]})
    assert bad.status_code == 422
    assert client.patch("/api/v1/offices/central/staff/999999", headers=h, json={"active": False}).status_code == 404


def test_another_office_cannot_take_away_this_office_hours_closures_or_staff(
    client: TestClient, session: Session, keyring: KeyRing, north: str
) -> None:
    own = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    hours = client.get("/api/v1/offices/central/hours", headers=own).json()[0]
    member = client.get("/api/v1/offices/central/staff", headers=own).json()[0]
    other = _headers(session, keyring, ["supervisor"], "north", "sup-north")
    before = [_count(session, m) for m in (WeeklyHours, Closure)]
    # another office's: answered as an unknown office (no existence oracle)
    assert client.delete(f"/api/v1/offices/central/hours/{hours['id']}", headers=other).status_code == 404
    # through their own office's URL, an id of this office is not theirs either
    assert client.delete(f"/api/v1/offices/north/hours/{hours['id']}", headers=other).status_code == 404
    assert client.patch(f"/api/v1/offices/north/staff/{member['id']}", headers=other,
                        json={"active": False}).status_code == 404
    assert [_count(session, m) for m in (WeeklyHours, Closure)] == before
    assert session.get(Staff, member["id"]).active is True  # type: ignore[union-attr]


def test_supervisor_names_a_service_in_spanish_and_the_office_shows_it(
    client: TestClient, session: Session, keyring: KeyRing, north: str
) -> None:
    h = _headers(session, keyring, ["supervisor"], "central", "sup-central")
    made = client.post("/api/v1/offices/central/services", headers=h, json={
        "slug": "permit", "name": "Parking permit", "minutes": 15, "description": "A permit for the lot.",
        "translations": {"es": {"name": "Permiso de estacionamiento", "description": "Un permiso para el lote."}}})
    assert made.status_code == 201, made.text
    assert made.json()["translations"]["es"]["name"] == "Permiso de estacionamiento"
    changed = client.put("/api/v1/offices/central/services/card/translations/es", headers=h,
                         json={"name": "Tarjeta nueva", "description": "Una tarjeta nueva."})
    assert changed.status_code == 200 and changed.json()["translations"]["es"]["name"] == "Tarjeta nueva"
    public = client.get("/api/v1/offices/central").json()
    card = next(s for s in public["services"] if s["slug"] == "card")
    assert card["translations"]["es"] == {"name": "Tarjeta nueva", "description": "Una tarjeta nueva."}

    english = client.put("/api/v1/offices/central/services/card/translations/en", headers=h,
                         json={"name": "Card", "description": "x"})
    assert english.status_code == 422, "English is the service's own name"
    for bad in ({"name": "", "description": "x"}, {"name": "x"}, {"name": "x", "description": "y", "extra": 1}):
        r = client.put("/api/v1/offices/central/services/card/translations/es", headers=h, json=bad)
        assert r.status_code == 422, bad
    assert client.put("/api/v1/offices/central/services/nope/translations/es", headers=h,
                      json={"name": "x", "description": "y"}).status_code == 404
    other = _headers(session, keyring, ["supervisor"], "north", "sup-north")
    assert client.put("/api/v1/offices/central/services/card/translations/es", headers=other,
                      json={"name": "x", "description": "y"}).status_code == 404  # as an unknown office
    assert client.get("/api/v1/offices/central").json()["services"][1]["translations"]["es"]["name"] == "Tarjeta nueva"
