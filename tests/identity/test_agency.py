"""Agency officials: registered, verified and given keys only by two people; keys reach the
official only through a one-time claim link to their registered address."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.identity.models import Credential, PrivilegedEvent
from safeslot.kit.crypto import KeyRing
from tests.identity.helpers import bearer, link_token, make_staff, outbox

ADDRESS = "officer.example@agency.example"
PROBLEM = "application/problem+json"


def _approve(client: TestClient, response: object, headers: dict[str, str]) -> dict[str, object]:
    proposal = response.json()  # type: ignore[attr-defined]
    assert response.status_code == 202, proposal  # type: ignore[attr-defined]
    r = client.post(f"/api/v1/proposals/{proposal['id']}/approval", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _registered(client: TestClient, session: Session, keyring: KeyRing) -> tuple[dict[str, str], dict[str, str], str]:
    po = bearer(session, make_staff(session, keyring, ["privacy_officer"])[0])
    second = bearer(session, make_staff(session, keyring, ["counsel"])[0])
    done = _approve(client, client.post("/api/v1/agencies", headers=po, json={
        "name": "Example County Office", "address": "1 Example Way"}), second)
    agency_id = done["target"]["agency_id"]  # type: ignore[index]
    official = client.post(f"/api/v1/agencies/{agency_id}/officials", headers=po, json={
        "name": "Officer Example", "title": "Deputy", "delegation_level": "delegate", "email": ADDRESS}).json()
    return po, second, f"/api/v1/agencies/{agency_id}/officials/{official['id']}"


def test_official_is_refused_until_verified_and_keys_rotate(
    client: TestClient, session: Session, keyring: KeyRing
) -> None:
    po, second, base = _registered(client, session, keyring)
    # The key proposal answers nothing secret, even once approved: the key goes to the official's address.
    proposed = client.post(f"{base}/credentials", headers=po, json={})
    assert "ssa_" not in proposed.text
    approved = client.post(f"/api/v1/proposals/{proposed.json()['id']}/approval", headers=second)
    assert approved.status_code == 200 and "ssa_" not in approved.text and "ssc_" not in approved.text
    claimed = client.post("/api/v1/agency-key-claims", json={"token": link_token(session, keyring, ADDRESS, "ssc_")})
    assert claimed.status_code == 201
    key = claimed.json()
    as_official = {"Authorization": f"Bearer {key['api_key']}"}
    refused = client.get("/api/v1/auth/me", headers=as_official)
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/official-not-verified"
    # a counsel may not propose a verification; the privacy officer proposes, counsel approves
    note = {"method": "phone_callback", "note": "Called the agency's published main number; confirmed."}
    assert client.post(f"{base}/verification", headers=second, json=note).status_code == 403
    verified = _approve(client, client.post(f"{base}/verification", headers=po, json=note), second)
    assert verified["status"] == "approved"
    me = client.get("/api/v1/auth/me", headers=as_official)
    assert me.status_code == 200 and me.json()["kind"] == "agency"
    # rotation: the new key works, the old one no longer does
    _approve(client, client.post(f"{base}/credentials", headers=po, json={"revoke_others": True}), second)
    new = client.post("/api/v1/agency-key-claims", json={"token": link_token(session, keyring, ADDRESS, "ssc_")})
    assert new.status_code == 201
    assert client.get("/api/v1/auth/me", headers=as_official).status_code == 401
    as_new = {"Authorization": f"Bearer {new.json()['api_key']}"}
    assert client.get("/api/v1/auth/me", headers=as_new).status_code == 200
    assert client.post(f"{base}/credentials/{new.json()['credential_id']}/revoke", headers=po).status_code == 204
    assert client.get("/api/v1/auth/me", headers=as_new).status_code == 401
    # an official is not staff: no staff data
    assert client.get("/api/v1/access/alerts", headers=as_new).status_code == 401


def test_path_2_a_privacy_officer_cannot_intercept_an_officials_key(
    client: TestClient, session: Session, keyring: KeyRing
) -> None:
    """An extra key for an existing official, issued quietly, used to fetch their package."""
    po, second, base = _registered(client, session, keyring)
    keys_before = session.scalar(select(func.count()).select_from(Credential).where(Credential.kind == "agency"))
    r = client.post(f"{base}/credentials", headers=po, json={"revoke_others": False})
    assert r.status_code == 202 and r.json()["status"] == "pending" and r.json()["target"]["additional_key"] is True
    assert "ssa_" not in r.text
    # the proposer cannot approve it themselves
    own = client.post(f"/api/v1/proposals/{r.json()['id']}/approval", headers=po)
    assert own.status_code == 403 and own.headers["content-type"] == PROBLEM
    assert own.json()["type"] == "/problems/own-proposal"
    assert session.scalar(select(func.count()).select_from(Credential)
                          .where(Credential.kind == "agency")) == keys_before
    # approved by a second person: still no key in any staff answer; the official is told, publicly logged
    approved = client.post(f"/api/v1/proposals/{r.json()['id']}/approval", headers=second)
    assert approved.status_code == 200 and "ssa_" not in approved.text
    mail = [m for m in outbox(session, keyring) if m[0] == ADDRESS]
    assert mail and "additional key" in mail[-1][2]
    logged = {e.event for e in session.scalars(select(PrivilegedEvent))}
    assert {"identity.change_proposed", "identity.agency_key_approved"} <= logged


def test_forged_expired_and_reused_claim_links_change_nothing(
    app_factory: object, client: TestClient, session: Session, keyring: KeyRing
) -> None:
    import datetime as dt

    from tests.conftest import NOW

    po, second, base = _registered(client, session, keyring)
    _approve(client, client.post(f"{base}/credentials", headers=po, json={}), second)
    token = link_token(session, keyring, ADDRESS, "ssc_")
    before = session.scalar(select(func.count()).select_from(Credential))
    forged = client.post("/api/v1/agency-key-claims", json={"token": "ssc_" + "A" * 43})
    assert forged.status_code == 404 and forged.json()["type"] == "/problems/link-invalid"
    late = app_factory(clock=lambda: NOW + dt.timedelta(hours=73))  # type: ignore[operator]
    expired = late.post("/api/v1/agency-key-claims", json={"token": token})
    assert expired.status_code == 404 and "expired" in expired.json()["detail"]
    assert session.scalar(select(func.count()).select_from(Credential)) == before
    assert client.post("/api/v1/agency-key-claims", json={"token": token}).status_code == 201
    reused = client.post("/api/v1/agency-key-claims", json={"token": token})
    assert reused.status_code == 404 and "used already" in reused.json()["detail"]
    assert session.scalar(select(func.count()).select_from(Credential)) == before + 1
    # a bad body is a problem too
    assert client.post("/api/v1/agency-key-claims", json={"token": 5}).status_code == 422
