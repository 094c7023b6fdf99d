"""Sharing agreements renewed and reinstated, and policy changes proposed and approved,
over HTTP: privacy officers only (both databases)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.disclosure.models import PolicyChange, SharingAgreement
from safeslot.kit.crypto import KeyRing
from tests.conftest import NOW
from tests.disclosure.conftest import POLICIES
from tests.disclosure.test_endpoints import staff

TERM = {"agency": "state-benefits", "kind": "computer_matching", "reference": "CMA 2027-01",
        "purposes": ["program_integrity"], "categories": ["identity"], "starts_at": NOW.isoformat(),
        "expires_at": NOW.replace(year=NOW.year + 1).isoformat()}


def test_privacy_officers_renew_and_reinstate_agreements_and_others_are_refused(
    client: TestClient, session: Session, keyring: KeyRing,
) -> None:
    po = staff(session, keyring, "po", ["privacy_officer"])
    others = [staff(session, keyring, name, [name]) for name in ("counsel", "auditor", "admin")]
    session.flush()
    r = client.post("/api/v1/sharing-agreements", json=TERM, headers=po)
    assert r.status_code == 201
    aid = r.json()["id"]
    renewal = {"expires_at": NOW.replace(year=NOW.year + 2).isoformat()}
    for headers in (*others, {}):
        assert client.post(f"/api/v1/sharing-agreements/{aid}/renewal", json=renewal,
                           headers=headers).status_code in (401, 403)
        assert client.post(f"/api/v1/sharing-agreements/{aid}/reinstatement",
                           headers=headers).status_code in (401, 403)

    too_long = {"expires_at": NOW.replace(year=NOW.year + 3).isoformat()}
    assert client.post(f"/api/v1/sharing-agreements/{aid}/renewal", json=too_long, headers=po).status_code == 422
    r = client.post(f"/api/v1/sharing-agreements/{aid}/renewal", json=renewal, headers=po)
    assert r.status_code == 200 and r.json()["renewed"] is True
    r = client.post(f"/api/v1/sharing-agreements/{aid}/renewal", json=renewal, headers=po)
    assert r.status_code == 409 and "only once" in r.json()["detail"]

    # Suspending and reinstating are proposals: the officer alone changes nothing.
    second = staff(session, keyring, "counsel-b", ["counsel"])
    r = client.post(f"/api/v1/sharing-agreements/{aid}/suspension", json={"reason": "legal hold"}, headers=po)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    own = client.post(f"/api/v1/proposals/{r.json()['id']}/approval", headers=po)
    assert own.status_code == 403 and own.json()["type"] == "/problems/own-proposal"
    agreement = session.get(SharingAgreement, aid, populate_existing=True)
    assert agreement is not None and not agreement.suspended
    assert client.post(f"/api/v1/proposals/{r.json()['id']}/approval", headers=second).status_code == 200
    agreement = session.get(SharingAgreement, aid, populate_existing=True)
    assert agreement is not None and agreement.suspended
    r = client.post(f"/api/v1/sharing-agreements/{aid}/reinstatement", headers=po)
    assert r.status_code == 202
    assert client.post(f"/api/v1/proposals/{r.json()['id']}/approval", headers=second).status_code == 200
    agreement = session.get(SharingAgreement, aid, populate_existing=True)
    assert agreement is not None and not agreement.suspended and agreement.suspended_reason is None
    assert client.post("/api/v1/sharing-agreements/999999/reinstatement", headers=po).status_code == 404


def _files() -> dict[str, str]:
    files = {"schema.cedarschema": (POLICIES / "schema.cedarschema").read_text()}
    for path in sorted((POLICIES / "federal").glob("*.cedar")):
        files[f"federal/{path.name}"] = path.read_text()
    return files


def test_a_policy_change_over_http_needs_two_other_privacy_officers_and_is_then_written(
    app_factory: Callable[..., TestClient], settings: Settings, session: Session, keyring: KeyRing,
    tmp_path: Path, office: str,
) -> None:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    client = app_factory(settings=settings.model_copy(update={"policies_dir": target, "policy_profile": "federal"}))
    proposer, first, second = (staff(session, keyring, f"po{i}", ["privacy_officer"]) for i in range(3))
    counsel = staff(session, keyring, "counsel", ["counsel"])
    clerk = staff(session, keyring, "clerk", ["clerk"])
    session.flush()
    files = _files()
    name = next(n for n in files if n.startswith("federal/"))
    files[name] += "\n// clarified wording, proposed in a test\n"
    body = {"summary": "Clarify a comment", "profile": "federal", "files": files}

    for headers in (counsel, clerk, {}):
        assert client.post("/api/v1/policy-changes", json=body, headers=headers).status_code in (401, 403)
    broken = {**body, "files": {**files, name: "permit(principal, action, resource) when { nonsense };"}}
    r = client.post("/api/v1/policy-changes", json=broken, headers=proposer)
    assert r.status_code == 422 and "invalid" in r.json()["detail"]
    escape = {**body, "files": {**files, "../outside.cedar": "// no"}}
    assert client.post("/api/v1/policy-changes", json=escape, headers=proposer).status_code == 422
    assert session.query(PolicyChange).count() == 0

    r = client.post("/api/v1/policy-changes", json=body, headers=proposer)
    assert r.status_code == 201 and r.json()["status"] == "proposed", r.text
    cid = r.json()["id"]
    approve = f"/api/v1/policy-changes/{cid}/approvals"
    assert client.post(approve, headers=counsel).status_code == 403
    assert client.post(approve, headers=proposer).status_code == 403  # not the proposer
    r = client.post(approve, headers=first)
    assert r.status_code == 200 and (r.json()["status"], r.json()["approvals"]) == ("proposed", 1)
    assert client.post(approve, headers=first).status_code == 403  # one person approves once
    assert "clarified wording" not in (target / name).read_text()
    r = client.post(approve, headers=second)
    assert r.status_code == 200 and r.json()["status"] == "adopted"
    assert "clarified wording" in (target / name).read_text()
    assert client.post(approve, headers=second).status_code == 409
