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
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity.authz import PUBLIC, RULES
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessAlert
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, Closure, Staff, WeeklyHours
from tests.conftest import NOW
from tests.identity.helpers import add_appointments, bearer, make_staff

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
    # the parametrisation below is not empty, and covers the routes this issue is about
    assert {r for _, _, r in ROUTES} == set(OFFICE_BOUND)
    templates = {t for _, t, _ in ROUTES}
    for needed in ("/api/v1/offices/{office}/appointments", "/api/v1/offices/{office}/staff",
                   "/api/v1/appointments/{code}/status", "/api/v1/offices/{office}/queue",
                   "/console/office/{office}/staff/{staff_id}", "/console/appointments/{code}/booked"):
        assert needed in templates


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: values[m.group(1)], template)


def _body(method: str, template: str, values: dict[str, str]) -> dict[str, Any]:
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
    scheduling.add_office(session, "north", "North Office", "1 Example Road", "America/New_York")
    session.flush()
    return {"office": office, "code": scheduling.format_code(appointment.code), "staff_id": str(staff_id),
            "hours_id": str(hours_id), "closure_id": str(closure_id), "ticket_id": "1",
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
    from safeslot.identity import proposals
    from tests.identity.helpers import ctx, founders

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
