"""Enrolment by invitation, and offboarding, on both databases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.identity.models import Credential, PrivilegedEvent, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.transparency.models import LogEntry
from tests.conftest import NOW
from tests.identity.helpers import PASSWORD, bearer, code_at, link_token, make_staff

PROBLEM = "application/problem+json"
ADDRESS = "desk-new@office.example"


def _invite(client: TestClient, session: Session, keyring: KeyRing) -> str:
    admin, _ = make_staff(session, keyring, ["admin"])
    r = client.post("/api/v1/accounts", headers=bearer(session, admin), json={
        "username": "desk-new", "display_name": "Test Person A", "email": ADDRESS, "roles": ["clerk"],
        "office": "central"})
    assert r.status_code == 201 and r.json()["enrolled"] is False, r.text
    assert "totp" not in r.text and "sse_" not in r.text
    return link_token(session, keyring, ADDRESS, "sse_")


def test_the_holder_enrols_their_own_factors_through_a_one_time_link(
    app_factory: Callable[..., TestClient], client: TestClient, session: Session, keyring: KeyRing, office: str,
) -> None:
    token = _invite(client, session, keyring)
    # before enrolment the account cannot sign in at all
    assert client.post("/api/v1/auth/token", json={"username": "desk-new", "password": PASSWORD,
                                                   "totp": "000000"}).status_code == 401
    # a weak password is refused without using up the link
    weak = client.post("/api/v1/enrolment", json={"token": token, "password": "short"})
    assert weak.status_code == 422 and weak.headers["content-type"] == PROBLEM
    r = client.post("/api/v1/enrolment", json={"token": token, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["username"] == "desk-new"
    secret = r.json()["totp_secret"]
    ok = client.post("/api/v1/auth/token", json={"username": "desk-new", "password": PASSWORD,
                                                 "totp": pyotp.TOTP(secret).at(NOW)})
    assert ok.status_code == 200
    # the link works once
    reused = client.post("/api/v1/enrolment", json={"token": token, "password": PASSWORD + " again"})
    assert reused.status_code == 404 and reused.json()["type"] == "/problems/link-invalid"


def test_forged_and_expired_invitations_change_nothing(
    app_factory: Callable[..., TestClient], client: TestClient, session: Session, keyring: KeyRing, office: str,
) -> None:
    token = _invite(client, session, keyring)
    account = session.scalars(select(StaffAccount).where(StaffAccount.username == "desk-new")).one()
    before = account.password_hash
    forged = client.post("/api/v1/enrolment", json={"token": "sse_" + "B" * 43, "password": PASSWORD})
    assert forged.status_code == 404 and forged.json()["type"] == "/problems/link-invalid"
    late = app_factory(clock=lambda: NOW + dt.timedelta(hours=73))
    expired = late.post("/api/v1/enrolment", json={"token": token, "password": PASSWORD})
    assert expired.status_code == 404 and "expired" in expired.json()["detail"]
    for bad in ({"token": token}, {"token": 7, "password": PASSWORD}, {"token": "x" * 5000, "password": PASSWORD}):
        assert client.post("/api/v1/enrolment", json=bad).status_code in (413, 422)
    session.refresh(account)
    assert account.password_hash == before and account.enrolled_at is None


def test_path_6_deactivation_ends_every_session_and_token_at_once(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    admin, _ = make_staff(session, keyring, ["admin"])
    leaver, secret = make_staff(session, keyring, ["clerk"], "central", username="leaver")
    token = bearer(session, leaver)
    console = client.post("/api/v1/auth/session", json={"username": "leaver", "password": PASSWORD,
                                                         "totp": code_at(secret, NOW)})
    cookie = {"Cookie": console.headers["set-cookie"].split(";")[0]}
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    # a clerk cannot deactivate anyone
    assert client.post("/api/v1/accounts/leaver/deactivation", headers=token).status_code == 403
    r = client.post("/api/v1/accounts/leaver/deactivation", headers=bearer(session, admin))
    assert r.status_code == 200 and r.json() == {"username": "leaver", "active": False, "credentials_revoked": 2}
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    assert client.get("/api/v1/auth/me", headers=cookie).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "leaver", "password": PASSWORD,
                                                   "totp": code_at(secret, NOW + dt.timedelta(minutes=1))}
                       ).status_code == 401
    again = client.post("/api/v1/accounts/leaver/deactivation", headers=bearer(session, admin))
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    event = session.scalars(select(PrivilegedEvent)
                            .where(PrivilegedEvent.event == "identity.account_deactivated")).one()
    entry = json.loads(event.entry)
    assert entry["account"] and entry["actor"] and "leaver" not in event.entry
    logged = session.scalar(select(LogEntry.data).where(LogEntry.idx == event.log_index))
    assert json.loads(logged or "{}") == entry


def test_path_6_factor_reset_and_role_removal(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    admin, _ = make_staff(session, keyring, ["admin"])
    other_admin, _ = make_staff(session, keyring, ["admin"], username="admin-b")
    auditor, secret = make_staff(session, keyring, ["auditor"])
    auditor.email = "auditor@office.example"
    token = bearer(session, auditor)
    r = client.post("/api/v1/accounts/auditor/factor-reset", headers=bearer(session, admin))
    assert r.status_code == 200 and r.json()["credentials_revoked"] == 1
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "auditor", "password": PASSWORD,
                                                   "totp": code_at(secret, NOW)}).status_code == 401
    assert link_token(session, keyring, "auditor@office.example", "sse_")  # the holder enrols again
    # removing a privileged role is a proposal too; effective on the next request once approved
    fresh = bearer(session, auditor)
    session.get(StaffAccount, auditor.id).enrolled_at = NOW  # type: ignore[union-attr]
    assert client.get("/api/v1/access/alerts", headers=fresh).status_code == 200
    r = client.post("/api/v1/accounts/auditor/role-removals", headers=bearer(session, admin), json={"role": "auditor"})
    assert r.status_code == 202
    assert client.get("/api/v1/access/alerts", headers=fresh).status_code == 200  # not yet
    assert client.post(f"/api/v1/proposals/{r.json()['id']}/approval",
                       headers=bearer(session, other_admin)).status_code == 200
    assert client.get("/api/v1/access/alerts", headers=fresh).status_code == 403
    events = {e.event for e in session.scalars(select(PrivilegedEvent))}
    assert {"identity.factors_reset", "identity.role_removed"} <= events
    assert session.scalar(select(func.count()).select_from(Credential).where(
        Credential.staff_id == auditor.id, Credential.revoked_at.is_(None))) == 1


def test_the_invitation_leaves_through_the_worker_once_and_the_link_leaves_the_database(
    client: TestClient, session: Session, keyring: KeyRing, office: str, settings: object,
) -> None:
    from safeslot.cli import outbox_kinds
    from safeslot.identity.models import IdentityMail
    from safeslot.notifications import outbox
    from safeslot.notifications.senders import Router
    from tests.notifications.conftest import Recorder, in_session

    token = _invite(client, session, keyring)
    outbox_kinds.register_all()
    inbox = Recorder()
    outbox.drain(in_session(session), Router(email=inbox, phone=None), keyring, settings,  # type: ignore[arg-type]
                 lambda: NOW)
    [sent] = [m for m in inbox.sent if m.address == ADDRESS]
    assert token in sent.text and sent.contact_kind == "email"
    mail = session.scalars(select(IdentityMail)).all()
    assert all(m.status == "sent" and m.body_enc is None for m in mail)  # the link left with the message
    outbox.drain(in_session(session), Router(email=inbox, phone=None), keyring, settings,  # type: ignore[arg-type]
                 lambda: NOW)
    assert len([m for m in inbox.sent if m.address == ADDRESS]) == 1
