"""The insiders' story, over HTTP on both databases: an administrator and one privacy officer acting
together cannot release anything without a second reviewer whose role someone else approved and
whose cooling-off has passed, and the public log shows every step."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.disclosure.models import Release
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment
from safeslot.transparency.models import LogEntry
from tests.conftest import NOW
from tests.disclosure.conftest import PDF
from tests.disclosure.test_endpoints import meta, official
from tests.identity.helpers import PASSWORD, bearer, link_token, make_staff

STEPS = ["disclosure.decision", "disclosure.review", "identity.change_proposed", "identity.role_granted",
         "disclosure.review", "disclosure.release", "disclosure.accounting"]


def _attest(client: TestClient, rid: int, role: str, headers: dict[str, str]) -> None:
    """The reviewer checks the document field by field first."""
    body = client.get(f"/api/v1/disclosure-requests/{rid}", headers=headers).json()
    r = client.post(f"/api/v1/disclosure-requests/{rid}/attestations", headers=headers, json={
        "role": role, "document_sha256": body["document_sha256"],
        "fields": dict.fromkeys(body["attestation_fields"], "match")})
    assert r.status_code == 200, r.text
LATER = NOW + dt.timedelta(hours=72, minutes=5)


def test_an_admin_and_a_privacy_officer_together_cannot_release_alone(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing, book: Callable[..., Appointment],
) -> None:
    book("Test Person M", days=3)
    admin_account, _ = make_staff(session, keyring, ["admin"], username="admin-x")
    officer_account, _ = make_staff(session, keyring, ["privacy_officer"], username="po")
    admin, po = bearer(session, admin_account), bearer(session, officer_account)
    agent = official(session, keyring, po)  # an agency registered and verified long ago
    client = app_factory()

    r = client.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                    data={"metadata": meta()})
    assert r.status_code == 201 and r.json()["status"] == "in_review"
    rid = r.json()["id"]
    assert client.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=po).status_code == 200
    _attest(client, rid, "privacy_officer", po)
    assert client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "privacy_officer"},
                       headers=po).status_code == 200

    # The admin is no reviewer, cannot make itself one, and cannot approve its own proposals.
    refused = client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "counsel"}, headers=admin)
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/role-refused"
    own = client.post("/api/v1/accounts/admin-x/roles", headers=admin, json={"roles": ["admin", "counsel"]})
    assert own.status_code == 403 and own.json()["type"] == "/problems/own-proposal"
    # The privacy officer cannot be the second reviewer either.
    twice = client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "counsel"}, headers=po)
    assert twice.status_code == 403

    # Together they make a counsel account: the admin proposes, the privacy officer approves.
    proposed = client.post("/api/v1/accounts", headers=admin, json={
        "username": "helper", "display_name": "Test Person B", "email": "helper@mail.example",
        "roles": ["counsel"]})
    assert proposed.status_code == 202
    pid = proposed.json()["id"]
    assert client.post(f"/api/v1/proposals/{pid}/approval", headers=admin).json()["type"] == "/problems/own-proposal"
    assert client.post(f"/api/v1/proposals/{pid}/approval", headers=po).status_code == 200
    enrolled = client.post("/api/v1/enrolment", json={
        "token": link_token(session, keyring, "helper@mail.example", "sse_"), "password": PASSWORD})
    assert enrolled.status_code == 200
    helper = session.scalars(select(StaffAccount).where(StaffAccount.username == "helper")).one()
    _attest(client, rid, "counsel", bearer(session, helper))

    # The new counsel is public at once, but counts only after the cooling-off: nothing is released.
    early = client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "counsel"},
                        headers=bearer(session, helper))
    assert early.status_code == 403 and early.json()["type"] == "/problems/reviewer-cooling-off"
    assert session.scalars(select(Release)).first() is None
    logged = [json.loads(d) for d in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]
    granted = next(e for e in logged if e["event"] == "identity.role_granted" and e.get("proposal_id") == pid)
    assert granted["role"] == "counsel" and granted["proposer"] != granted["approver"]

    # After the cooling-off — time in which any monitor of the log saw the new reviewer — it counts.
    later = app_factory(clock=lambda: LATER)
    done = later.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "counsel"},
                      headers=bearer(session, helper, LATER))
    assert done.status_code == 200 and done.json()["status"] == "released", done.text

    # The public log shows every step, in order, with no names.
    logged = [json.loads(d) for d in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]
    steps = [e["event"] for e in logged if (e.get("proposal_id") == pid or e.get("request_id") == rid)
             and e["event"] in STEPS and e.get("action", "approve") == "approve"]
    assert steps == STEPS, steps
    assert next(e for e in logged if e["event"] == "identity.account_enrolled")
    text = json.dumps(logged)
    assert "helper" not in text and "Test Person B" not in text and "admin-x" not in text


def test_approvals_need_a_passkey_sign_in_when_required(
    app_factory: Callable[..., TestClient], settings: object, session: Session, keyring: KeyRing,
    book: Callable[..., Appointment],
) -> None:
    """Outside demo mode (or when set), password and TOTP alone do not approve a disclosure (OMB M-22-09)."""
    book("Test Person M", days=3)
    po = bearer(session, make_staff(session, keyring, ["privacy_officer"], username="po")[0])
    agent = official(session, keyring, po)
    strict = app_factory(settings=settings.model_copy(update={  # type: ignore[attr-defined]
        "identity": settings.identity.model_copy(update={"require_passkey": True})}))  # type: ignore[attr-defined]
    rid = strict.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                      data={"metadata": meta()}).json()["id"]
    assert strict.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=po).status_code == 200
    _attest(strict, rid, "privacy_officer", po)
    r = strict.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "privacy_officer"}, headers=po)
    assert r.status_code == 403 and r.json()["type"] == "/problems/passkey-required"
    from safeslot.disclosure.models import ReviewAction

    assert session.scalars(select(ReviewAction).where(ReviewAction.request_id == rid,
                                                      ReviewAction.action == "approve")).first() is None
    account = session.scalars(select(StaffAccount).where(StaffAccount.username == "po")).one()
    with_key = bearer(session, account, amr="hwk")  # as a passkey sign-in makes it
    assert strict.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "privacy_officer"},
                       headers=with_key).status_code == 200
