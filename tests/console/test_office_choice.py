"""A clerk or supervisor scoped to several offices chooses, in the console, which one to work on;
only offices of their scope are offered or accepted (identity/scopes.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import proposals
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from tests.conftest import NOW
from tests.console.conftest import SignIn
from tests.console.conftest import token as form_token
from tests.identity.helpers import add_appointments, ctx, founders


def test_a_clerk_of_two_offices_works_on_either_and_on_no_other(
    session: Session, keyring: KeyRing, staff: SignIn
) -> None:
    scheduling.add_office(session, "north", "North Office Example", "1 Example Road", "America/New_York")
    scheduling.add_office(session, "south", "South Office Example", "2 Example Road", "America/New_York")
    add_appointments(session, keyring, 1, NOW + dt.timedelta(hours=1), name="Test Person N")
    clerk = staff("clerk", username="two-offices", office_slug="north")
    page = clerk.get("/console/appointments")
    assert page.status_code == 200 and "Test Person N" not in page.text
    assert 'action="/console/office-choice"' not in page.text  # one office: nothing to choose
    # a second office, by two people
    a, b = founders(session, keyring)
    account = session.scalars(select(StaffAccount).where(StaffAccount.username == "two-offices")).one()
    central = scheduling.get_office(session, "central").id
    proposal = proposals.propose_office(session, ctx(keyring), a.id, account.username, central, NOW)
    proposals.approve(session, ctx(keyring), b.id, proposal.id, NOW)
    session.flush()
    page = clerk.get("/console/appointments")
    assert 'action="/console/office-choice"' in page.text
    assert "Central" in page.text or "central" in page.text
    assert "South Office Example" not in page.text  # only the offices of the scope are offered
    token = form_token(clerk, "/console/appointments")
    chosen = clerk.post("/console/office-choice", data={"office": "central", "csrf_token": token},
                        follow_redirects=False)
    assert chosen.status_code == 303
    assert "Test Person N" in clerk.get("/console/appointments").text
    # an office outside the scope answers as an unknown one and changes nothing
    refused = clerk.post("/console/office-choice", data={"office": "south", "csrf_token": token},
                         follow_redirects=False)
    unknown = clerk.post("/console/office-choice", data={"office": "nowhere", "csrf_token": token},
                         follow_redirects=False)
    assert refused.status_code == unknown.status_code == 404
    assert "Test Person N" in clerk.get("/console/appointments").text
    # back to north
    clerk.post("/console/office-choice", data={"office": "north", "csrf_token": token})
    assert "Test Person N" not in clerk.get("/console/appointments").text
