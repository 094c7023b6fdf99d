"""The organisation's console pages (console/staff/network.py), both databases, English and Spanish: an
administrator proposes an office and another approves it; closing lists visits without names; the visits
report shows the auditor every office and a supervisor only theirs, counts only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity.models import Proposal
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Office
from tests.conftest import NOW
from tests.console.conftest import TOKEN
from tests.identity.helpers import add_appointments

FORM = {"slug": "springfield-east", "name": "Springfield East Field Office", "address": "1 Example Plaza",
        "timezone": "America/Chicago", "latitude": "39.78", "longitude": "-89.65"}


def _token(client: TestClient, path: str) -> str:
    found = TOKEN.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def test_an_admin_proposes_an_office_in_the_console_and_another_approves_it(
    session: Session, staff: Callable[..., TestClient], office: str
) -> None:
    first, second = staff("admin", username="admin-a"), staff("admin", username="admin-b")
    page = first.get("/console/offices")
    assert page.status_code == 200 and "Propose a new office" in page.text and "central" in page.text
    bad = first.post("/console/offices", data={**FORM, "slug": "Not A Slug",
                                               "csrf_token": _token(first, "/console/offices")})
    assert bad.status_code == 422 and "lowercase letters, digits and inner dashes" in bad.text
    taken = first.post("/console/offices", data={**FORM, "slug": "central",
                                                 "csrf_token": _token(first, "/console/offices")})
    assert taken.status_code == 422 and "exists already" in taken.text
    done = first.post("/console/offices", data={**FORM, "csrf_token": _token(first, "/console/offices")},
                      follow_redirects=False)
    assert done.status_code == 303, done.text
    assert "Your proposal is recorded" in first.get(done.headers["location"]).text
    assert session.scalar(select(Office).where(Office.slug == "springfield-east")) is None
    proposal = session.scalars(select(Proposal).where(Proposal.kind == "open_office")).one()

    waiting = second.get("/console/privileged")
    assert "Open an office" in waiting.text and f"/console/proposals/{proposal.id}/approve" in waiting.text
    approved = second.post(f"/console/proposals/{proposal.id}/approve",
                           data={"csrf_token": _token(second, "/console/privileged")}, follow_redirects=False)
    assert approved.status_code == 303
    assert session.scalar(select(Office).where(Office.slug == "springfield-east")) is not None
    assert "Springfield East Field Office" in second.get("/console/offices").text
    spanish = second.get("/console/offices?lang=es")
    assert "Oficinas de la red" in spanish.text and "Proponer una oficina nueva" in spanish.text
    # Only the organisation's administrators have the page.
    assert staff("supervisor", username="sup-a").get("/console/offices").status_code == 403
    assert staff("auditor", username="aud-a").get("/console/offices").status_code == 403


def test_closing_in_the_console_lists_visits_to_move_without_names(
    session: Session, keyring: KeyRing, staff: Callable[..., TestClient], office: str
) -> None:
    admin = staff("admin", username="admin-a")
    add_appointments(session, keyring, 2, NOW + dt.timedelta(days=3), name="Test Person A")
    session.flush()
    page = admin.get("/console/offices/central/closing")
    assert page.status_code == 200 and "2 visits still to come" in page.text
    assert "Test Person A" not in page.text and "555-0100" not in page.text
    done = admin.post("/console/offices/central/closing", data={
        "csrf_token": _token(admin, "/console/offices/central/closing"),
        "move": re.findall(r'name="move" value="(\d+)"', page.text)},
        follow_redirects=False)
    assert done.status_code == 303, done.text
    proposal = session.scalars(select(Proposal).where(Proposal.kind == "close_office")).one()
    assert proposal.params["bookings"] == 2
    listed = admin.get("/console/offices")
    assert "Close an office" in listed.text
    spanish = admin.get("/console/offices/central/closing?lang=es")
    assert "Cerrar" in spanish.text


def test_the_visits_report_shows_the_auditor_every_office_and_a_supervisor_only_theirs(
    session: Session, keyring: KeyRing, staff: Callable[..., TestClient], office: str
) -> None:
    scheduling.add_office(session, "north", "North Office", "1 Example Road", "America/New_York")
    add_appointments(session, keyring, 3, NOW + dt.timedelta(days=1), name="Test Person A")
    session.flush()
    month = NOW.strftime("%Y-%m")
    auditor = staff("auditor", username="aud-a").get(f"/console/reports?month={month}")
    assert auditor.status_code == 200
    assert "North Office" in auditor.text and "Central" in auditor.text
    assert "Test Person A" not in auditor.text
    supervisor = staff("supervisor", username="sup-a").get(f"/console/reports?month={month}")
    assert supervisor.status_code == 200
    assert "North Office" not in supervisor.text and "Central" in supervisor.text
    assert ">3<" in supervisor.text  # the three visits of the month, as counts
    spanish = staff("supervisor", username="sup-b").get(f"/console/reports?month={month}&lang=es")
    assert "Visitas por oficina" in spanish.text
    bad = staff("auditor", username="aud-b").get("/console/reports?month=March")
    assert bad.status_code == 422 and "Enter a month like 2027-03" in bad.text
    assert staff("clerk", username="clerk-a").get("/console/reports").status_code == 403
