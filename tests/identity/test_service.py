"""Signing in, tokens, console sessions and CSRF, no lockout, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.config import Environment, Settings
from safeslot.identity import service
from safeslot.identity.models import Credential, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment
from safeslot.transparency.note import CosignatureSigner, Signer
from safeslot.transparency.service import write_key_file
from tests.conftest import NOW
from tests.identity.helpers import PASSWORD, add_appointments, bearer, code_at, make_staff

PROBLEM = "application/problem+json"


def _sign_in(client: TestClient, username: str, secret: str, when: dt.datetime = NOW,
             password: str = PASSWORD, path: str = "/api/v1/auth/token") -> object:
    return client.post(path, json={"username": username, "password": password, "totp": code_at(secret, when)})


def test_password_and_totp_give_a_token_that_works(client: TestClient, session: Session, keyring: KeyRing) -> None:
    account, secret = make_staff(session, keyring, ["auditor"])
    r = client.post("/api/v1/auth/token", json={"username": account.username, "password": PASSWORD,
                                                "totp": code_at(secret, NOW)})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["roles"] == ["auditor"]
    # the database holds only the token's hash and an argon2id password hash
    stored = session.scalars(select(StaffAccount).where(StaffAccount.id == account.id)).one()
    assert stored.password_hash.startswith("$argon2id$")
    hashes = session.scalars(select(Credential.secret_hash)).all()
    assert token not in hashes and service.hash_secret(token) in hashes


def test_a_totp_code_works_once(client: TestClient, session: Session, keyring: KeyRing) -> None:
    account, secret = make_staff(session, keyring, ["auditor"])
    body = {"username": account.username, "password": PASSWORD, "totp": code_at(secret, NOW)}
    assert client.post("/api/v1/auth/token", json=body).status_code == 200
    replay = client.post("/api/v1/auth/token", json=body)
    assert replay.status_code == 401 and replay.headers["content-type"] == PROBLEM


def test_repeated_failures_lock_nothing_and_are_logged_without_the_password(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    # Slowing down failures is the rate limiter's job, per address (tests/kit/test_ratelimit.py):
    # a lock on the account would let anyone lock its owner out.
    client = app_factory()
    account, secret = make_staff(session, keyring, ["auditor"])
    wrong = "wrong password Example"
    caplog.set_level(logging.WARNING, logger="safeslot.identity")
    for _ in range(12):
        r = client.post("/api/v1/auth/token", json={"username": account.username, "password": wrong,
                                                    "totp": code_at(secret, NOW)})
        assert r.status_code == 401 and r.json()["type"] == "/problems/sign-in-failed"
    assert "12 in a row" in caplog.text and wrong not in caplog.text and PASSWORD not in caplog.text
    ok = client.post("/api/v1/auth/token", json={"username": account.username, "password": PASSWORD,
                                                 "totp": code_at(secret, NOW)})
    assert ok.status_code == 200


def test_expired_and_revoked_tokens_get_401_problem(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing
) -> None:
    now = [NOW]
    client = app_factory(clock=lambda: now[0])
    account, _ = make_staff(session, keyring, ["auditor"])
    headers = bearer(session, account)
    assert client.get("/api/v1/access/alerts", headers=headers).status_code == 200
    now[0] = NOW + service.TOKEN_LIFETIME + dt.timedelta(seconds=1)
    expired = client.get("/api/v1/access/alerts", headers=headers)
    assert expired.status_code == 401 and expired.headers["content-type"] == PROBLEM
    assert "expired" in expired.json()["detail"] and expired.headers["www-authenticate"].startswith("Bearer")
    now[0] = NOW
    fresh = bearer(session, account)
    assert client.post("/api/v1/auth/logout", headers=fresh).status_code == 204
    revoked = client.get("/api/v1/access/alerts", headers=fresh)
    assert revoked.status_code == 401 and revoked.json()["type"] == "/problems/credential-invalid"
    assert client.get("/api/v1/access/alerts", headers={"Authorization": "Bearer sst_made-up"}).status_code == 401


def _console(client: TestClient, session: Session, keyring: KeyRing, roles: list[str]) -> tuple[str, str]:
    account, secret = make_staff(session, keyring, roles)
    r = client.post("/api/v1/auth/session", json={"username": account.username, "password": PASSWORD,
                                                  "totp": code_at(secret, NOW)})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    return cookie.split(";")[0], r.json()["csrf_token"]


def test_console_form_without_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    cookie, csrf = _console(client, session, keyring, ["admin"])
    body = {"username": "new-clerk", "display_name": "Desk Example", "email": "new-clerk@office.example",
            "roles": ["clerk"], "office": "central"}
    before = session.scalar(select(func.count()).select_from(StaffAccount))
    r = client.post("/api/v1/accounts", json=body, headers={"Cookie": cookie})
    assert r.status_code == 403 and r.json()["type"] == "/problems/csrf-refused"
    r = client.post("/api/v1/accounts", json=body, headers={"Cookie": cookie, "X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    assert session.scalar(select(func.count()).select_from(StaffAccount)) == before
    ok = client.post("/api/v1/accounts", json=body, headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    # reading needs no token; an HTML form may send it as a field instead of a header
    assert client.get("/api/v1/auth/me", headers={"Cookie": cookie}).json()["csrf_token"] == csrf
    out = client.post("/api/v1/auth/logout", headers={"Cookie": cookie}, data={"csrf_token": csrf})
    assert out.status_code == 204
    assert client.get("/api/v1/auth/me", headers={"Cookie": cookie}).status_code == 401


def test_wrong_role_gets_403_and_nothing_changes(client: TestClient, session: Session, keyring: KeyRing,
                                                 office: str) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    before = session.scalar(select(func.count()).select_from(StaffAccount))
    r = client.post("/api/v1/accounts", headers=bearer(session, clerk), json={
        "username": "sneaky", "display_name": "X", "email": "x@office.example", "roles": ["admin"]})
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert session.scalar(select(func.count()).select_from(StaffAccount)) == before
    # an admin has no access to personal data
    admin, _ = make_staff(session, keyring, ["admin"])
    r = client.get("/api/v1/offices/central/appointments", headers=bearer(session, admin))
    assert r.status_code == 403


def test_clerk_of_another_office_cannot_check_in(client: TestClient, session: Session, keyring: KeyRing,
                                                 office: str) -> None:
    from safeslot.scheduling import service as scheduling

    other = scheduling.add_office(session, "north", "North Office", "2 Example Road", "America/New_York")
    clerk, _ = make_staff(session, keyring, ["clerk"], "north")
    appointment = add_appointments(session, keyring, 1, NOW + dt.timedelta(hours=1))[0]
    r = client.post(f"/api/v1/appointments/{appointment.code}/status", json={"status": "checked-in"},
                    headers=bearer(session, clerk))
    assert r.status_code == 404 and r.json()["type"] == "/problems/appointment-not-found"  # as an unknown code
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "booked"  # type: ignore[union-attr]
    assert other.id != appointment.office_id


def test_demo_accounts_sign_in_only_in_demo_mode(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing, tmp_path: object
) -> None:
    _, secret = service.create_account(
        session, keyring, username="demo-auditor", display_name="Demo", password=PASSWORD, roles=["auditor"],
        office_id=None, now=NOW, demo=True,
    )
    # production refuses to start the log without a key file: give it one, as an operator would
    key_file = Path(str(tmp_path)) / "log.key"
    write_key_file(key_file, Signer.generate("test.example/log").to_skey())
    witness = CosignatureSigner.generate("witness.example").verifier().to_vkey()  # required outside demo mode
    production = Settings(
        environment=Environment.production, secret_key="p" * 40,
        log={"signing_key_file": key_file, "witnesses": [f"https://witness.example {witness}"]},
    )
    prod = app_factory(settings=production)
    r = prod.post("/api/v1/auth/token", json={"username": "demo-auditor", "password": PASSWORD,
                                              "totp": code_at(secret, NOW)})
    assert r.status_code == 401
    demo = app_factory()
    assert demo.post("/api/v1/auth/token", json={"username": "demo-auditor", "password": PASSWORD,
                                                 "totp": code_at(secret, NOW)}).status_code == 200
