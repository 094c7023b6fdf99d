"""Agency officials: no request until a privacy officer records the out-of-band verification; keys rotate."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from tests.identity.helpers import bearer, make_staff


def test_official_is_refused_until_verified_and_keys_rotate(
    client: TestClient, session: Session, keyring: KeyRing
) -> None:
    officer, _ = make_staff(session, keyring, ["privacy_officer"])
    po = bearer(session, officer)
    agency = client.post("/api/v1/agencies", headers=po, json={"name": "Example County Office",
                                                               "address": "1 Example Way"}).json()
    official = client.post(f"/api/v1/agencies/{agency['id']}/officials", headers=po, json={
        "name": "Officer Example", "title": "Deputy", "delegation_level": "delegate"}).json()
    base = f"/api/v1/agencies/{agency['id']}/officials/{official['id']}"
    key = client.post(f"{base}/credentials", headers=po, json={}).json()
    as_official = {"Authorization": f"Bearer {key['api_key']}"}
    refused = client.get("/api/v1/auth/me", headers=as_official)
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/official-not-verified"
    # a clerk may not record a verification
    clerk, _ = make_staff(session, keyring, ["counsel"])
    note = {"method": "phone_callback", "note": "Called the agency's published main number; confirmed."}
    assert client.post(f"{base}/verification", headers=bearer(session, clerk), json=note).status_code == 403
    verified = client.post(f"{base}/verification", headers=po, json=note)
    assert verified.status_code == 200 and verified.json()["verified"] is True
    me = client.get("/api/v1/auth/me", headers=as_official)
    assert me.status_code == 200 and me.json()["kind"] == "agency"
    # rotation: the new key works, the old one no longer does
    new = client.post(f"{base}/credentials", headers=po, json={"revoke_others": True}).json()
    assert client.get("/api/v1/auth/me", headers=as_official).status_code == 401
    as_new = {"Authorization": f"Bearer {new['api_key']}"}
    assert client.get("/api/v1/auth/me", headers=as_new).status_code == 200
    assert client.post(f"{base}/credentials/{new['credential_id']}/revoke", headers=po).status_code == 204
    assert client.get("/api/v1/auth/me", headers=as_new).status_code == 401
    # an official is not staff: no staff data
    assert client.get("/api/v1/access/alerts", headers=as_new).status_code == 401
