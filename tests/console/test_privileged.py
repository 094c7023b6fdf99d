"""The console's pages for two-person privileged changes, English and Spanish, both databases:
a proposal waits on the privileged-changes page; only an authorised second person sees the buttons
and approves it; the proposer cannot; the public events are listed with pseudonyms only."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import proposals
from safeslot.identity.models import Proposal, StaffAccount
from safeslot.kit.crypto import KeyRing
from tests.conftest import NOW
from tests.console.conftest import TOKEN
from tests.identity.helpers import ctx


def test_a_proposal_is_approved_in_the_console_by_a_second_person_only(
    session: Session, keyring: KeyRing, staff: Callable[..., object],
) -> None:
    admin = staff("admin")
    officer = staff("privacy_officer", username="po")
    plain = session.scalars(select(StaffAccount).where(StaffAccount.username == "admin")).one()
    proposal = proposals.propose_account(session, ctx(keyring), plain.id, username="new-counsel",
                                         display_name="Test Person A", email="new-counsel@office.example",
                                         role="counsel", other_roles=[], office_id=None, now=NOW)
    session.flush()
    # the proposer sees it, without buttons
    page = admin.get("/console/privileged")  # type: ignore[attr-defined]
    assert page.status_code == 200 and f'id="proposal-{proposal.id}"' in page.text
    assert "Not yours to approve" in page.text and f"/console/proposals/{proposal.id}/approve" not in page.text
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    refused = admin.post(f"/console/proposals/{proposal.id}/approve", data={"csrf_token": token})  # type: ignore[attr-defined]
    assert refused.status_code == 403 and "A second person must approve this" in refused.text
    assert session.get(Proposal, proposal.id, populate_existing=True).status == "pending"  # type: ignore[union-attr]
    # the privacy officer approves it from the page
    page = officer.get("/console/privileged")  # type: ignore[attr-defined]
    assert f"/console/proposals/{proposal.id}/approve" in page.text
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    done = officer.post(f"/console/proposals/{proposal.id}/approve", data={"csrf_token": token},  # type: ignore[attr-defined]
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/privileged?decided=approved"
    page = officer.get(done.headers["location"])  # type: ignore[attr-defined]
    assert "the change took effect" in page.text and "identity.role_granted" in page.text
    assert "new-counsel@office.example" not in page.text
    assert session.get(Proposal, proposal.id, populate_existing=True).status == "approved"  # type: ignore[union-attr]
    # in Spanish, and the registry and history pages answer for the roles that have them
    spanish = officer.get("/console/privileged?lang=es")  # type: ignore[attr-defined]
    assert "Cambios privilegiados" in spanish.text and "Dar un rol" in spanish.text
    assert officer.get("/console/registry").status_code == 200  # type: ignore[attr-defined]
    assert officer.get("/console/decided").status_code == 200  # type: ignore[attr-defined]
    assert admin.get("/console/decided").status_code == 403  # type: ignore[attr-defined]
    clerk = staff("clerk")
    assert clerk.get("/console/privileged").status_code == 403  # type: ignore[attr-defined]
    assert clerk.get("/console/passkeys").status_code == 200  # type: ignore[attr-defined]
