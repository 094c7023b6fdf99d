"""Office scopes (identity/scopes.py): a clerk or supervisor sees and acts only on their offices, and
another office's records answer exactly as records that do not exist (no existence oracle).

The route test is table-driven over the authorization table itself: every staff route that takes an
office or an appointment code, for every office-bound role it admits, is asked for a real record of
an office outside the caller's scope and for one that does not exist; the two answers must be the
same 404. A third request, by a colleague whose scope holds that office, must *not* get that 404, so
the test fails if the 404 came from anything but the scope.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import proposals
from safeslot.identity.authz import PUBLIC, RULES
from safeslot.identity.errors import DutiesSeparated, OwnProposal
from safeslot.identity.models import PrivilegedEvent, Proposal, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessAlert
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, Closure, Staff, StaffAbsence, WeeklyHours
from tests.conftest import NOW
from tests.identity.helpers import add_appointments, bearer, ctx, founders, make_staff

OFFICE_BOUND = ("clerk", "supervisor")
MISSING_OFFICE = "nowhere"
MISSING_CODE = "ZZZZZZZZZZ"
TAKES_A_RECORD = re.compile(r"\{(office|code)\}")

# Bodies that pass validation, so that only the scope can refuse (a 422 would hide a missing check).
JSON_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/api/v1/offices/{office}/location"): {"latitude": 40.0, "longitude": -75.0},
    ("POST", "/api/v1/offices/{office}/services"): {"slug": "renew", "name": "Renew", "minutes": 30},
    ("PUT", "/api/v1/offices/{office}/services/{service_slug}/translations/{language}"): {
        "name": "Solicitar", "description": "Solicitar una tarjeta"},
    ("POST", "/api/v1/offices/{office}/staff"): {"display_name": "Desk Z", "languages": ["en"],
                                                 "services": ["apply"]},
    ("PATCH", "/api/v1/offices/{office}/staff/{staff_id}"): {"languages": ["en"]},
    ("POST", "/api/v1/offices/{office}/hours"): {"weekday": 6, "opens": "09:00", "closes": "12:00"},
    ("POST", "/api/v1/offices/{office}/closures"): {"day": (NOW.date() + dt.timedelta(days=30)).isoformat(),
                                                    "reason": "Public holiday"},
    ("POST", "/api/v1/offices/{office}/queue/clerk-check-ins"): {"code": "{code}"},
    ("POST", "/api/v1/offices/{office}/queue/call-next"): {"staff_id": "{staff_id}", "desk": "1"},
    ("POST", "/api/v1/offices/{office}/queue/tickets/{ticket_id}/actions"): {"staff_id": "{staff_id}",
                                                                              "action": "done"},
    ("POST", "/api/v1/appointments/{code}/status"): {"status": "checked-in"},
    ("PUT", "/api/v1/offices/{office}/staff/{staff_id}/hours"): {"weekly": [
        {"weekday": 1, "opens": "09:00", "closes": "12:00"}]},
    ("POST", "/api/v1/offices/{office}/staff/{staff_id}/absences"): {
        "first_day": (NOW.date() + dt.timedelta(days=40)).isoformat(),
        "last_day": (NOW.date() + dt.timedelta(days=41)).isoformat()},
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/api/v1/offices/{office}/report"): {"month": NOW.strftime("%Y-%m")},
}
FORM_BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/console/appointments/{code}/status"): {"status": "checked-in"},
}


def _scoped_routes() -> list[tuple[str, str, str]]:
    rows = []
    for (method, template), allowed in sorted(RULES.items()):
        if PUBLIC in allowed or not TAKES_A_RECORD.search(template):
            continue
        rows.extend((method, template, role) for role in OFFICE_BOUND if role in allowed)
    return rows


ROUTES = _scoped_routes()


def test_the_table_has_office_routes_for_both_roles() -> None:
    # the parametrisation below is not empty, and covers every office-bound route
    assert {r for _, _, r in ROUTES} == set(OFFICE_BOUND)
    templates = {t for _, t, _ in ROUTES}
    for needed in ("/api/v1/offices/{office}/appointments", "/api/v1/offices/{office}/staff",
                   "/api/v1/appointments/{code}/status", "/api/v1/offices/{office}/queue",
                   "/console/office/{office}/staff/{staff_id}", "/console/appointments/{code}/booked"):
        assert needed in templates


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: values[m.group(1)], template)


def _body(method: str, template: str, values: dict[str, str]) -> dict[str, Any]:
    if (method, template) in QUERIES:
        return {"params": QUERIES[(method, template)]}
    if (method, template) in FORM_BODIES:
        return {"data": FORM_BODIES[(method, template)]}
    raw = JSON_BODIES.get((method, template))
    if raw is None:
        return {}
    filled = {k: (_fill(v, values) if isinstance(v, str) else v) for k, v in raw.items()}
    if "staff_id" in filled:
        filled["staff_id"] = int(filled["staff_id"])
    return {"json": filled}


def _normalised(response: Any, *secrets: str) -> tuple[int, str]:
    """Status and body with the asked-for identifiers blanked (an unknown office's detail names it)."""
    text = response.text
    for s in secrets:
        text = text.replace(s, "<id>")
    return response.status_code, text


@pytest.fixture
def central_records(session: Session, keyring: KeyRing, office: str) -> dict[str, str]:
    """Real records of the office `central`: an appointment today, a staff member, hours, a closure."""
    appointment = add_appointments(session, keyring, 1, NOW + dt.timedelta(hours=1))[0]
    central = scheduling.get_office(session, office)
    scheduling.add_closure(session, central, NOW.date() + dt.timedelta(days=20), "Public holiday", NOW.date())
    staff_id = session.scalars(select(Staff.id).where(Staff.office_id == central.id)).first()
    hours_id = session.scalars(select(WeeklyHours.id).where(WeeklyHours.office_id == central.id)).first()
    closure_id = session.scalars(select(Closure.id).where(Closure.office_id == central.id)).first()
    away = StaffAbsence(staff_id=staff_id, first_day=NOW.date() + dt.timedelta(days=50),
                        last_day=NOW.date() + dt.timedelta(days=50))
    session.add(away)
    scheduling.add_office(session, "north", "North Office", "1 Example Road", "America/New_York")
    session.flush()
    return {"office": office, "code": scheduling.format_code(appointment.code), "staff_id": str(staff_id),
            "hours_id": str(hours_id), "closure_id": str(closure_id), "ticket_id": "1",
            "absence_id": str(away.id),
            "service_slug": "apply", "language": "es"}


@pytest.mark.parametrize(("method", "template", "role"), ROUTES, ids=[f"{m} {t} {r}" for m, t, r in ROUTES])
def test_another_office_answers_as_one_that_does_not_exist(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
    method: str, template: str, role: str,
) -> None:
    outsider = bearer(session, make_staff(session, keyring, [role], "north", username=f"north-{role}")[0])
    insider = bearer(session, make_staff(session, keyring, [role], "central", username=f"central-{role}")[0])
    real = central_records
    missing = {**real, "office": MISSING_OFFICE, "code": MISSING_CODE}
    asks_code = "{code}" in template

    def ask(values: dict[str, str], headers: dict[str, str]) -> Any:
        return client.request(method, _fill(template, values), headers=headers, **_body(method, template, values),
                              follow_redirects=False)

    other = ask(real, outsider)
    nothing = ask(missing, outsider)
    hidden = real["code"] if asks_code else real["office"]
    absent = MISSING_CODE if asks_code else MISSING_OFFICE
    assert other.status_code == 404, other.text
    assert _normalised(other, hidden) == _normalised(nothing, absent)
    # the control: a colleague whose scope holds `central` is not told it does not exist
    own = ask(real, insider)
    assert _normalised(own, hidden) != _normalised(other, hidden), own.text


def test_a_clerk_scoped_to_two_offices_reads_both_and_nothing_else(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "north", username="two-offices")
    headers = bearer(session, clerk)
    assert client.get("/api/v1/offices/central/appointments", headers=headers).status_code == 404
    a, b = founders(session, keyring)
    central_id = scheduling.get_office(session, "central").id
    proposal = proposals.propose_office(session, ctx(keyring), a.id, clerk.username, central_id, NOW)
    # proposed is not granted: still nothing
    assert client.get("/api/v1/offices/central/appointments", headers=headers).status_code == 404
    proposals.approve(session, ctx(keyring), b.id, proposal.id, NOW)
    day = client.get("/api/v1/offices/central/appointments", headers=headers)
    assert day.status_code == 200 and len(day.json()) == 1
    assert client.get("/api/v1/offices/north/appointments", headers=headers).status_code == 200
    session.add(scheduling.add_office(session, "south", "South Office", "3 Example Road", "America/New_York"))
    session.flush()
    assert client.get("/api/v1/offices/south/appointments", headers=headers).status_code == 404


def test_reading_another_office_still_raises_an_alert(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "north", username="curious")
    r = client.get("/api/v1/offices/central/appointments", headers=bearer(session, clerk))
    assert r.status_code == 404 and r.json()["type"] == "/problems/office-not-found"
    alerts = session.scalars(select(AccessAlert).where(AccessAlert.staff_id == clerk.id)).all()
    assert [x.rule for x in alerts] == ["other-office-read"]
    # and the appointment stays untouched by the look
    assert session.scalars(select(Appointment)).first() is not None


# -- the insider rule: nobody widens their own scope ---------------------------------------------
def _scope_headers(session: Session, keyring: KeyRing, roles: list[str], office: str | None,
                   username: str) -> tuple[Any, dict[str, str]]:
    account, _ = make_staff(session, keyring, roles, office, username=username)
    return account, bearer(session, account)


def test_nobody_grants_themselves_an_office(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    sup, sup_h = _scope_headers(session, keyring, ["supervisor"], "north", "sup-north")
    admin, admin_h = _scope_headers(session, keyring, ["admin"], None, "admin-a")
    for who, headers in ((sup, sup_h), (admin, admin_h)):
        r = client.post(f"/api/v1/accounts/{who.username}/office-scopes", headers=headers, json={"office": "north"})
        assert r.status_code in (403, 404), r.text  # own proposal; a supervisor does not even see other offices
        r = client.post(f"/api/v1/accounts/{who.username}/office-scopes", headers=headers,
                        json={"office": "central"})
        assert r.status_code in (403, 404), r.text
    assert session.scalars(select(Proposal).where(Proposal.kind == "grant_office")).all() == []
    # nor do they give themselves an office role, which needs no second person for someone else
    r = client.post(f"/api/v1/accounts/{admin.username}/roles", headers=admin_h, json={"roles": ["admin", "clerk"]})
    assert r.status_code == 403 and r.json()["type"] == "/problems/own-proposal"


def test_an_admin_does_not_make_themselves_auditor(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    admin, headers = _scope_headers(session, keyring, ["admin"], None, "admin-a")
    r = client.post(f"/api/v1/accounts/{admin.username}/roles", headers=headers, json={"roles": ["admin", "auditor"]})
    assert r.status_code == 403 and r.json()["type"] == "/problems/own-proposal"
    with pytest.raises(OwnProposal):
        proposals.propose_role(session, ctx(keyring), admin.id, admin.username, "auditor", NOW)
    session.refresh(admin)
    assert "auditor" not in admin.roles.split()


def test_a_colleague_of_the_office_needs_a_second_person(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    sup, sup_h = _scope_headers(session, keyring, ["supervisor"], "central", "sup-central")
    sup2, sup2_h = _scope_headers(session, keyring, ["supervisor"], "central", "sup-central-2")
    _, colleague_h = _scope_headers(session, keyring, ["clerk"], "central", "clerk-central")
    _, other_sup_h = _scope_headers(session, keyring, ["supervisor"], "north", "sup-north")
    newcomer, newcomer_h = _scope_headers(session, keyring, ["clerk"], "north", "clerk-north")
    day = "/api/v1/offices/central/appointments"
    # a supervisor of another office cannot even name central
    r = client.post(f"/api/v1/accounts/{newcomer.username}/office-scopes", headers=other_sup_h,
                    json={"office": "central"})
    assert r.status_code == 404 and r.json()["type"] == "/problems/office-not-found"
    # a clerk of central may not propose at all
    r = client.post(f"/api/v1/accounts/{newcomer.username}/office-scopes", headers=colleague_h,
                    json={"office": "central"})
    assert r.status_code == 403
    proposed = client.post(f"/api/v1/accounts/{newcomer.username}/office-scopes", headers=sup_h,
                           json={"office": "central"})
    assert proposed.status_code == 202, proposed.text
    pid = proposed.json()["id"]
    assert client.get(day, headers=newcomer_h).status_code == 404  # proposed is not granted
    refusals = {"its proposer": sup_h, "the newcomer": newcomer_h, "a clerk colleague": colleague_h,
                "a supervisor of another office": other_sup_h}
    for who, headers in refusals.items():
        r = client.post(f"/api/v1/proposals/{pid}/approval", headers=headers)
        assert r.status_code == 403, (who, r.text)
        assert client.get(day, headers=newcomer_h).status_code == 404, who
    # the proposal waits for the second supervisor of central, and only for them
    assert [p["id"] for p in client.get("/api/v1/proposals", headers=sup2_h).json()] == [pid]
    assert client.get("/api/v1/proposals", headers=other_sup_h).json() == []
    ok = client.post(f"/api/v1/proposals/{pid}/approval", headers=sup2_h)
    assert ok.status_code == 200, ok.text
    assert client.get(day, headers=newcomer_h).status_code == 200
    # the public trace: role and office id, accounts as pseudonyms, nothing personal
    granted = session.scalars(select(PrivilegedEvent).where(
        PrivilegedEvent.event == "identity.office_scope_granted")).one()
    entry = json.loads(granted.entry)
    central_id = scheduling.get_office(session, "central").id
    assert entry["office_id"] == central_id and entry["role"] == "clerk"
    assert set(entry) <= {"event", "time", "account", "role", "proposer", "approver", "proposal_id", "office_id"}
    for personal in (newcomer.username, newcomer.display_name, sup.username, sup2.username, "Desk Example"):
        assert personal not in granted.entry
    assert granted.log_index is not None


def test_an_administrator_s_new_clerk_works_nowhere_until_a_second_person_approves(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    admin, headers = _scope_headers(session, keyring, ["admin"], None, "admin-a")
    r = client.post("/api/v1/accounts", headers=headers, json={
        "username": "new-clerk", "display_name": "Desk Example", "email": "new-clerk@office.example",
        "roles": ["clerk"], "office": "central"})
    assert r.status_code == 201, r.text
    assert r.json()["office_ids"] == []  # the office waits for its second person
    account = session.scalars(select(StaffAccount).where(StaffAccount.username == "new-clerk")).one()
    clerk_h = bearer(session, account)
    assert client.get("/api/v1/offices/central/appointments", headers=clerk_h).status_code in (404, 422)
    pending = session.scalars(select(Proposal).where(Proposal.kind == "grant_office")).one()
    assert pending.beneficiary_id == account.id and pending.proposed_by == admin.id
    assert client.post(f"/api/v1/proposals/{pending.id}/approval", headers=headers).status_code == 403
    _, b = founders(session, keyring)
    proposals.approve(session, ctx(keyring), b.id, pending.id, NOW)
    assert client.get("/api/v1/offices/central/appointments", headers=clerk_h).status_code == 200
    listed = {a["username"]: a["office_ids"] for a in client.get("/api/v1/accounts", headers=headers).json()}
    assert listed["new-clerk"] == [scheduling.get_office(session, "central").id]


def test_administrators_and_auditors_hold_no_office_scope(
    session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    a, _ = founders(session, keyring)
    auditor, _ = make_staff(session, keyring, ["auditor"], None, username="auditor-a")
    central = scheduling.get_office(session, "central").id
    with pytest.raises(DutiesSeparated):
        proposals.propose_office(session, ctx(keyring), a.id, auditor.username, central, NOW)


# Closing an office (two administrators, scheduling/office_proposals.py) names the office; what comes back is
# a proposal, or the visits still to come as ids, times and services with no person
# (tests/scheduling/test_office_proposals.py checks those fields).
ADMIN_OFFICE_ROUTES = frozenset({
    ("POST", "/api/v1/offices/{office}/closing"), ("GET", "/api/v1/offices/{office}/bookings-to-move"),
    ("GET", "/console/offices/{office}/closing"), ("POST", "/console/offices/{office}/closing"),
})


def test_the_org_admin_and_auditor_reach_no_office_record_of_a_person(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    """Organisation-level roles work across the network without personal data: no route that takes an
    office or an appointment admits the admin, and the auditor only the office report (counts)."""
    for (method, template), allowed in RULES.items():
        if PUBLIC in allowed or not TAKES_A_RECORD.search(template):
            continue
        assert "admin" not in allowed or (method, template) in ADMIN_OFFICE_ROUTES, (method, template)
        if "auditor" in allowed:
            assert (method, template) == ("GET", "/api/v1/offices/{office}/report")
    admin = bearer(session, make_staff(session, keyring, ["admin"], None, username="admin-a")[0])
    auditor = bearer(session, make_staff(session, keyring, ["auditor"], None, username="auditor-a")[0])
    for headers in (admin, auditor):
        r = client.get("/api/v1/offices/central/appointments", headers=headers)
        assert r.status_code == 403 and r.json()["type"] == "/problems/role-refused"
        r = client.post(f"/api/v1/appointments/{central_records['code']}/status", headers=headers,
                        json={"status": "checked-in"})
        assert r.status_code == 403


def test_a_code_in_the_body_of_another_office_answers_as_an_unknown_code(
    client: TestClient, session: Session, keyring: KeyRing, central_records: dict[str, str],
) -> None:
    """The clerk's check-in at their own office's desk takes the code in the body: a code booked at an
    office outside their scope must not answer "at another office" (that would say it exists)."""
    clerk = bearer(session, make_staff(session, keyring, ["clerk"], "north", username="north-clerk")[0])
    url = "/api/v1/offices/north/queue/clerk-check-ins"
    other = client.post(url, headers=clerk, json={"code": central_records["code"]})
    nothing = client.post(url, headers=clerk, json={"code": MISSING_CODE})
    assert other.status_code == 404, other.text
    assert _normalised(other, central_records["code"]) == _normalised(nothing, MISSING_CODE)
    # the answer a clerk of both offices gets is a different one: the scope made the difference
    both = make_staff(session, keyring, ["clerk"], "north", username="both-clerk")[0]
    central_id = scheduling.get_office(session, "central").id
    a, b = founders(session, keyring)
    proposal = proposals.propose_office(session, ctx(keyring), a.id, both.username, central_id, NOW)
    proposals.approve(session, ctx(keyring), b.id, proposal.id, NOW)
    elsewhere = client.post(url, headers=bearer(session, both), json={"code": central_records["code"]})
    assert elsewhere.status_code != 404, elsewhere.text
