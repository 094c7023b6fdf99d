"""Identity's queries (identity/repository.py) that every request and the auditors' pages rely on: a
credential is found by its hash with its holder and every office in the holder's scope (a removed scope
is gone at once), an unknown hash finds nothing; an official's keys in force are counted without the
revoked and the expired; ids read back as usernames. SQLite only: the SQL is the same on both databases
(tests/identity/test_credential_read_afresh.py keeps PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.identity import repository, service
from safeslot.identity.models import OfficeScope
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import make_staff


@ON_SQLITE
def test_a_credential_is_found_with_its_holder_and_each_office_in_scope(
    session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    credential, _ = service.issue_credential(session, "api", NOW, staff=clerk)
    north = scheduling.add_office(session, "north", "North Office", "1 Example Road", "America/New_York")
    north_scope = OfficeScope(account_id=clerk.id, office_id=north.id, origin="account", granted_at=NOW)
    session.add(north_scope)  # beside the scope of its own office, made with the account
    session.flush()
    rows = repository.credential_holder(session, credential.secret_hash)
    assert sorted(r.scope_office_id for r in rows) == sorted([clerk.office_id, north.id])
    assert {(r.username, r.account_active, r.kind) for r in rows} == {(clerk.username, True, "api")}
    north_scope.removed_at = NOW
    session.flush()
    assert [r.scope_office_id for r in repository.credential_holder(session, credential.secret_hash)] == [
        clerk.office_id]
    assert repository.credential_holder(session, "0" * 64) == []


@ON_SQLITE
def test_an_officials_keys_in_force_leave_out_the_revoked_and_the_expired(session: Session) -> None:
    agency = service.create_agency(session, "Example Agency", "1 Example Way", NOW)
    official = service.add_official(session, agency.id, "Officer Example", "Chief", "head_of_agency", NOW)
    kept, _ = service.issue_credential(session, "agency", NOW, official=official)
    revoked, _ = service.issue_credential(session, "agency", NOW, official=official)
    service.revoke_credential(session, revoked.id, NOW)
    assert repository.active_official_keys(session, official.id, NOW) == 1
    assert repository.active_official_keys(session, official.id, kept.expires_at + dt.timedelta(seconds=1)) == 0
    assert {c.id for c in repository.credentials_of_official(session, official.id)} == {kept.id, revoked.id}
    assert [a.name for a in repository.agencies(session)] == ["Example Agency"]
    assert repository.agency_by_name(session, "Example Agency") is agency


@ON_SQLITE
def test_ids_read_back_as_usernames(session: Session, keyring: KeyRing, office: str) -> None:
    a, _ = make_staff(session, keyring, ["clerk"], "central", username="desk-a")
    b, _ = make_staff(session, keyring, ["auditor"], username="audit-b")
    assert repository.usernames(session, [a.id, b.id, a.id]) == {a.id: "desk-a", b.id: "audit-b"}
    assert repository.usernames(session, []) == {}
    assert repository.account_by_username(session, "desk-a") is a
    assert repository.account_by_username(session, "DESK-A") is None  # usernames are exact
