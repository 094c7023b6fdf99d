"""Offices opened and closed by two administrators (scheduling/office_proposals.py, office_changes.py).

Stories over the API as the organisation's administrators live them: one proposes, another approves, the
public log says so with slugs and ids only; nobody does it alone, a replay changes nothing, bad input is a
problem that says what to do, and closing never strands a visit that was not listed for moving.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.identity.models import PrivilegedEvent
from safeslot.kit.crypto import KeyRing
from safeslot.reports.compute import compute
from safeslot.reports.schemas import Period
from safeslot.scheduling.models import Office
from safeslot.transparency import entries as log_entries
from safeslot.transparency.models import LogEntry
from tests.conftest import NOW
from tests.identity.helpers import bearer, founders, make_staff
from tests.problem import problem


@pytest.fixture
def office_weeks() -> int:
    return 1


NEW = {"slug": "springfield-east", "name": "Springfield East Field Office", "address": "1 Example Plaza",
       "timezone": "America/Chicago", "latitude": 39.78, "longitude": -89.65}
DAY = NOW.date() + dt.timedelta(days=2)


def _admins(session: Session, keyring: KeyRing) -> tuple[dict[str, str], dict[str, str]]:
    a, b = founders(session, keyring)
    return bearer(session, a), bearer(session, b)


def _office_events(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(PrivilegedEvent).order_by(PrivilegedEvent.id)).all()
    return [json.loads(e.entry) for e in rows if "office" in json.loads(e.entry)]


def test_an_office_exists_only_once_a_second_admin_approves_and_the_log_names_only_its_slug(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    first, second = _admins(session, keyring)
    r = client.post("/api/v1/office-openings", headers=first, json=NEW)
    assert r.status_code == 202, r.text
    proposal = r.json()
    assert proposal["target"]["office"] == "springfield-east" and proposal["approver_roles"] == ["admin"]
    assert session.scalar(select(Office).where(Office.slug == "springfield-east")) is None

    own = client.post(f"/api/v1/proposals/{proposal['id']}/approval", headers=first)
    problem(own, 403, "own-proposal")
    assert client.post(f"/api/v1/proposals/{proposal['id']}/approval", headers=second).status_code == 200
    opened = session.scalars(select(Office).where(Office.slug == "springfield-east")).one()
    assert (opened.name, opened.timezone, opened.closed_at) == (NEW["name"], "America/Chicago", None)
    listed = [o["slug"] for o in client.get("/api/v1/offices").json()]
    assert "springfield-east" in listed

    # A replay of the approval changes nothing: the proposal is decided.
    again = client.post(f"/api/v1/proposals/{proposal['id']}/approval", headers=second)
    problem(again, 409, "proposal-decided")
    assert session.scalar(select(func.count()).select_from(Office).where(Office.slug == "springfield-east")) == 1

    logged = _office_events(session)
    assert [e["event"] for e in logged] == ["identity.change_proposed", "identity.office_opened"]
    assert logged[1]["office"] == "springfield-east" and logged[1]["office_id"] == opened.id
    text = json.dumps(logged)
    assert "Springfield East" not in text and "Example Plaza" not in text  # no free text in the public log
    for e in logged:
        log_entries.parse(e)  # the typed entry accepts it
    # The transparency report reads it like any privileged event.
    all_entries = [json.loads(row.data) for row in session.scalars(select(LogEntry).order_by(LogEntry.idx))]
    assert compute(all_entries, Period.parse(NOW.strftime("%Y-%m"))).standing["offices_opened"] == 1


def test_bad_input_wrong_role_and_replayed_proposals_are_refused_with_what_to_do(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    first, second = _admins(session, keyring)
    problem(client.post("/api/v1/office-openings", headers=first, json={**NEW, "slug": "Bad Slug!"}), 422,
             "invalid-input")
    problem(client.post("/api/v1/office-openings", headers=first, json={**NEW, "timezone": "Mars/Olympus"}), 422,
             "invalid-input")
    problem(client.post("/api/v1/office-openings", headers=first, json={**NEW, "slug": "central"}), 422,
             "invalid-input")
    problem(client.post("/api/v1/office-openings", headers=first, json={**NEW, "latitude": None}), 422,
             "invalid-input")
    supervisor, _ = make_staff(session, keyring, ["supervisor"], "central", username="sup-central")
    refused = client.post("/api/v1/office-openings", headers=bearer(session, supervisor), json=NEW)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    auditor, _ = make_staff(session, keyring, ["auditor"], username="auditor-a")
    assert client.post("/api/v1/office-openings", headers=bearer(session, auditor), json=NEW).status_code == 403

    assert client.post("/api/v1/office-openings", headers=first, json=NEW).status_code == 202
    replay = client.post("/api/v1/office-openings", headers=second, json=NEW)
    assert "already waiting" in problem(replay, 409, "conflict")["detail"]
    assert session.scalar(select(Office).where(Office.slug == "springfield-east")) is None


def _book(client: TestClient, service: str = "apply") -> str:
    slots = client.get("/api/v1/slots", params={"office": "central", "service": service,
                                                "from": DAY.isoformat(), "to": DAY.isoformat()}).json()
    r = client.post("/api/v1/appointments", json={"office": "central", "service": service,
                                                   "starts_at": slots[0]["starts_at"], "name": "Test Person A"})
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def test_closing_lists_every_visit_to_come_for_moving_and_then_takes_no_booking(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    first, second = _admins(session, keyring)
    _book(client)
    _book(client, "card")
    # Closing with visits to come that are not listed is refused, with where to find them.
    refused = client.post("/api/v1/offices/central/closing", headers=first, json={"move_bookings": []})
    assert "bookings-to-move" in problem(refused, 409, "office-has-bookings")["detail"]
    to_move = client.get("/api/v1/offices/central/bookings-to-move", headers=first)
    assert to_move.status_code == 200
    ids = [b["id"] for b in to_move.json()]
    assert len(ids) == 2 and set(to_move.json()[0]) == {"id", "starts_at", "service_id"}  # no name, no contact
    problem(client.post("/api/v1/offices/central/closing", headers=first, json={"move_bookings": [*ids, 999999]}),
             422, "invalid-input")

    r = client.post("/api/v1/offices/central/closing", headers=first, json={"move_bookings": ids})
    assert r.status_code == 202, r.text
    proposal = r.json()
    assert proposal["target"]["bookings"] == 2
    # A visit booked after the proposal was made: approving now would strand it, so it is refused.
    late = _book(client)
    stranded = client.post(f"/api/v1/proposals/{proposal['id']}/approval", headers=second)
    problem(stranded, 409, "office-has-bookings")
    central = session.scalars(select(Office).where(Office.slug == "central")).one()
    assert central.closed_at is None  # nothing half-done
    assert client.post(f"/api/v1/proposals/{proposal['id']}/rejection", headers=second).status_code == 200

    ids = [b["id"] for b in client.get("/api/v1/offices/central/bookings-to-move", headers=first).json()]
    assert len(ids) == 3
    proposal = client.post("/api/v1/offices/central/closing", headers=first, json={"move_bookings": ids}).json()
    assert client.post(f"/api/v1/proposals/{proposal['id']}/approval", headers=second).status_code == 200
    session.refresh(central)
    assert central.closed_at is not None

    # No new booking, out of the office list; the three people are on the supervisor's list to contact.
    slots = client.get("/api/v1/slots", params={"office": "central", "service": "apply",
                                                "from": DAY.isoformat(), "to": DAY.isoformat()})
    assert slots.status_code != 200 or slots.json() == []
    assert "central" not in [o["slug"] for o in client.get("/api/v1/offices").json()]
    supervisor, _ = make_staff(session, keyring, ["supervisor"], "central", username="sup-central")
    to_contact = client.get("/api/v1/offices/central/unassigned", headers=bearer(session, supervisor))
    assert to_contact.status_code == 200, to_contact.text
    assert late in {row["code"].replace("-", "") for row in to_contact.json()} | {
        row["code"] for row in to_contact.json()}
    assert len(to_contact.json()) == 3

    closed = [e for e in _office_events(session) if e["event"] == "identity.office_closed"]
    assert len(closed) == 1 and closed[0]["bookings"] == 3 and closed[0]["office"] == "central"
    # Closing twice: the office is closed already.
    problem(client.post("/api/v1/offices/central/closing", headers=first, json={"move_bookings": []}), 409,
             "office-shut")
