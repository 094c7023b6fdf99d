"""Passkey ceremonies over HTTP with bad input (the real ceremony runs in test_browser_passkey.py):
forged, reused or garbled answers are refused with problem+json and store nothing (both databases)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.identity.models import Credential, Passkey
from safeslot.kit.crypto import KeyRing
from tests.identity.helpers import bearer, make_staff

PROBLEM = "application/problem+json"
GARBLED = {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
           "response": {"clientDataJSON": "e30", "attestationObject": "AAAA", "authenticatorData": "AAAA",
                        "signature": "AAAA"}}


def test_forged_reused_and_garbled_passkey_answers_change_nothing(
    client: TestClient, session: Session, keyring: KeyRing
) -> None:
    officer, _ = make_staff(session, keyring, ["privacy_officer"], username="po")
    headers = bearer(session, officer)
    options = client.post("/api/v1/passkeys/registration-options", headers=headers)
    assert options.status_code == 200
    body = options.json()
    assert body["publicKey"]["rp"]["id"] and body["publicKey"]["user"]["name"] == "po"
    assert body["publicKey"]["authenticatorSelection"]["userVerification"] == "required"
    bad = client.post("/api/v1/passkeys", headers=headers, json={"state": body["state"], "credential": GARBLED})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    forged = client.post("/api/v1/passkeys", headers=headers, json={"state": "ssp_" + "Y" * 43, "credential": GARBLED})
    assert forged.status_code == 404 and forged.json()["type"] == "/problems/link-invalid"
    assert session.scalar(select(func.count()).select_from(Passkey)) == 0
    assert client.post("/api/v1/passkeys", json={"state": body["state"], "credential": {}}).status_code == 401

    # signing in: options for any name (names cannot be probed); forged or garbled answers are 401
    sessions = session.scalar(select(func.count()).select_from(Credential).where(Credential.kind == "session"))
    for name in ("po", "nobody-here"):
        r = client.post("/api/v1/auth/passkey-options", json={"username": name})
        assert r.status_code == 200 and r.json()["publicKey"]["challenge"]
    state = client.post("/api/v1/auth/passkey-options", json={"username": "po"}).json()["state"]
    for attempt in ({"state": "ssp_" + "Z" * 43, "credential": GARBLED}, {"state": state, "credential": GARBLED},
                    {"state": state, "credential": GARBLED}):
        r = client.post("/api/v1/auth/passkey-session", json=attempt)
        assert r.status_code == 401 and r.json()["type"] == "/problems/sign-in-failed"
        assert "set-cookie" not in r.headers
    assert client.post("/api/v1/auth/passkey-session", json={"state": 3}).status_code == 422
    assert session.scalar(select(func.count()).select_from(Credential)
                          .where(Credential.kind == "session")) == sessions
