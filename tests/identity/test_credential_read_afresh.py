"""A request's credential is read afresh every time (identity/service.py ``resolve``, one statement).

Nothing about a credential may be remembered between requests: the same token, sent again after each
change to its account, its role, its office scope, its official or itself, gets the answer the change
calls for. ``resolve`` is also checked against the three separate ORM reads it replaced, for every shape
of holder: one scope, several, none, a working office in or out of scope, officials in each state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.identity import scopes, service
from safeslot.identity.errors import CredentialInvalid, OfficialNotVerified
from safeslot.identity.models import AgencyOfficial, Credential, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import administration
from safeslot.scheduling.models import Office
from tests.conftest import NOW
from tests.identity.helpers import make_staff

STAFF_LIST = "/api/v1/offices/central/staff"  # a supervisor's, of an office in scope
ME = "/api/v1/auth/me"


def _expected(session: Session, secret: str, now: dt.datetime, demo_mode: bool) -> service.Principal | str:
    """What the three ORM reads ``resolve`` used to make gave (the principal, or the refusal's class name)."""
    credential = session.query(Credential).filter_by(secret_hash=service.hash_secret(secret)).one_or_none()
    if credential is None or credential.revoked_at is not None or credential.expires_at <= now:
        return "CredentialInvalid"
    if credential.staff_id is not None:
        account = session.get(StaffAccount, credential.staff_id)
        if account is None or not account.active or (account.demo and not demo_mode):
            return "CredentialInvalid"
        scoped = scopes.office_ids(session, account.id)
        working = (credential.office_id if credential.office_id in scoped
                   else scopes.home_office(account.office_id, scoped))
        return service.Principal("staff", account.id, account.username, frozenset(account.roles.split()), working,
                                 credential.id, credential.kind, credential.secret_hash, credential.amr or "", scoped)
    official = session.get(AgencyOfficial, credential.official_id)
    if official is None or not official.active or (official.demo and not demo_mode):
        return "CredentialInvalid"
    if official.verified_at is None:
        return "OfficialNotVerified"
    return service.Principal("agency", official.id, official.name, frozenset({"agency"}), None, credential.id,
                             credential.kind, credential.secret_hash)


def _resolved(session: Session, secret: str, now: dt.datetime = NOW, demo_mode: bool = False) -> object:
    try:
        return service.resolve(session, secret, now, demo_mode=demo_mode)
    except (CredentialInvalid, OfficialNotVerified) as exc:
        return type(exc).__name__


def _same(session: Session, secret: str, now: dt.datetime = NOW, demo_mode: bool = False) -> object:
    got = _resolved(session, secret, now, demo_mode)
    assert got == _expected(session, secret, now, demo_mode)
    return got


def test_resolve_gives_what_the_separate_reads_gave_for_every_shape_of_holder(
    session: Session, keyring: KeyRing, office: str
) -> None:
    central = session.query(Office).filter_by(slug=office).one()
    north = administration.add_office(session, "north", "North Example", "2 Example Way", "America/New_York")
    south = administration.add_office(session, "south", "South Example", "3 Example Way", "America/New_York")
    account, _ = make_staff(session, keyring, ["clerk", "supervisor"], office)
    _, secret = service.issue_credential(session, "session", NOW, staff=account, amr="pwd otp")
    one = _same(session, secret)
    assert isinstance(one, service.Principal) and one.office_ids == {central.id} and one.office_id == central.id
    scopes.add(session, account, north.id, NOW, origin="test")
    scopes.add(session, account, south.id, NOW, origin="test")
    three = _same(session, secret)
    assert isinstance(three, service.Principal) and three.office_ids == {central.id, north.id, south.id}
    credential = session.query(Credential).filter_by(secret_hash=service.hash_secret(secret)).one()
    credential.office_id = south.id  # the office chosen in the console
    session.flush()
    assert getattr(_same(session, secret), "office_id", None) == south.id
    scopes.remove(session, account, south.id, NOW)  # the chosen office leaves the scope: back to the own office
    assert getattr(_same(session, secret), "office_id", None) == central.id
    scopes.remove(session, account, central.id, NOW)  # the own office leaves too: the lowest left
    left = _same(session, secret)
    assert isinstance(left, service.Principal) and left.office_ids == {north.id} and left.office_id == north.id
    scopes.remove(session, account, north.id, NOW)  # none left: works nowhere, still signed in
    nowhere = _same(session, secret)
    assert isinstance(nowhere, service.Principal) and nowhere.office_ids == frozenset() and nowhere.office_id is None
    account.demo = True
    session.flush()
    assert _same(session, secret) == "CredentialInvalid"
    assert isinstance(_same(session, secret, demo_mode=True), service.Principal)
    assert _same(session, secret, now=NOW + service.SESSION_LIFETIME) == "CredentialInvalid"
    assert _same(session, "sst_made-up") == "CredentialInvalid"


def test_resolve_gives_what_the_separate_reads_gave_for_officials(session: Session) -> None:
    agency = service.create_agency(session, "Example Agency", "1 Example Way", NOW)
    official = service.add_official(session, agency.id, "Officer Example", "Chief", "head_of_agency", NOW)
    _, secret = service.issue_credential(session, "agency", NOW, official=official)
    assert _same(session, secret) == "OfficialNotVerified"
    official.verified_at = NOW
    session.flush()
    assert isinstance(_same(session, secret), service.Principal)
    official.demo = True
    session.flush()
    assert _same(session, secret) == "CredentialInvalid"
    assert isinstance(_same(session, secret, demo_mode=True), service.Principal)
    official.active = False
    session.flush()
    assert _same(session, secret, demo_mode=True) == "CredentialInvalid"


@pytest.mark.parametrize("change", ["role", "scope", "deactivate", "revoke"])
def test_the_same_token_after_a_change_gets_the_answer_the_change_calls_for(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing, office: str, change: str
) -> None:
    client = app_factory()
    account, _ = make_staff(session, keyring, ["supervisor"], office)
    _, secret = service.issue_credential(session, "api", NOW, staff=account)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(STAFF_LIST, headers=headers).status_code == 200  # read once: nothing may be kept
    central = session.query(Office).filter_by(slug=office).one()
    if change == "role":
        account.roles = "clerk"
        session.flush()
        refused = client.get(STAFF_LIST, headers=headers)
        assert refused.status_code == 403 and refused.json()["type"] == "/problems/role-refused"
        assert client.get(ME, headers=headers).json()["roles"] == ["clerk"]
        account.roles = "supervisor"
    elif change == "scope":
        scopes.remove(session, account, central.id, NOW)
        assert client.get(STAFF_LIST, headers=headers).status_code == 404  # outside the scope: as if missing
        assert client.get(ME, headers=headers).json()["office_id"] is None
        scopes.add(session, account, central.id, NOW, origin="test")
    elif change == "deactivate":
        account.active = False
        session.flush()
        assert client.get(STAFF_LIST, headers=headers).status_code == 401
        account.active = True
    else:
        credential = session.query(Credential).filter_by(secret_hash=service.hash_secret(secret)).one()
        credential.revoked_at = NOW
        session.flush()
        assert client.get(STAFF_LIST, headers=headers).status_code == 401
        credential.revoked_at = None
    session.flush()
    assert client.get(STAFF_LIST, headers=headers).status_code == 200  # and undoing it counts at once too
