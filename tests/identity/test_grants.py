"""Privileged role grants (identity/grants.py): a privileged role counts only with a grant, a new reviewer
role only after its cooling-off, and a removed role stops counting at once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.identity import grants, service
from safeslot.identity.errors import ReviewerCoolingOff, RoleRefused
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import PASSWORD

COOLING_OFF = dt.timedelta(hours=72)


def _account(session: Session, keyring: KeyRing, roles: list[str] | None = None) -> StaffAccount:
    account, _ = service.create_account(session, keyring, username="test-person-1", display_name="Test Person 1",
                                        password=PASSWORD, roles=roles or [], office_id=None, now=NOW)
    return account


@ON_SQLITE
def test_a_reviewer_role_counts_only_after_its_cooling_off(session: Session, keyring: KeyRing) -> None:
    account = _account(session, keyring)
    grants.add(session, account, "counsel", NOW, COOLING_OFF, origin="proposal")
    assert "counsel" in account.roles.split()
    assert grants.acting_roles(session, account.id, frozenset(account.roles.split()), NOW) == frozenset()
    with pytest.raises(ReviewerCoolingOff, match="cooling-off"):
        grants.require_reviewer(session, account.id, "counsel", NOW + COOLING_OFF - dt.timedelta(seconds=1))
    grants.require_reviewer(session, account.id, "counsel", NOW + COOLING_OFF)
    assert grants.effective_since(session, account.id, "counsel") == NOW + COOLING_OFF
    assert "counsel" in grants.acting_roles(session, account.id, frozenset({"counsel"}), NOW + COOLING_OFF)


@ON_SQLITE
def test_an_auditor_counts_at_once_and_a_role_held_without_a_grant_never_does(
    session: Session, keyring: KeyRing,
) -> None:
    account = _account(session, keyring)
    grants.add(session, account, "auditor", NOW, COOLING_OFF, origin="proposal")
    assert grants.acting_roles(session, account.id, frozenset({"auditor", "privacy_officer"}), NOW) == {"auditor"}
    account.roles = "auditor privacy_officer"  # written around the grants: not counted, not accepted
    with pytest.raises(ReviewerCoolingOff, match="never approved"):
        grants.require_reviewer(session, account.id, "privacy_officer", NOW)


@ON_SQLITE
def test_a_removed_role_or_an_inactive_account_stops_counting_at_once(session: Session, keyring: KeyRing) -> None:
    account = _account(session, keyring)
    grants.add(session, account, "privacy_officer", NOW - 2 * COOLING_OFF, COOLING_OFF, origin="proposal")
    grants.require_reviewer(session, account.id, "privacy_officer", NOW)
    grants.remove(session, account, "privacy_officer", NOW)
    assert "privacy_officer" not in account.roles.split() and grants.active(session, account.id) == []
    with pytest.raises(RoleRefused):
        grants.require_reviewer(session, account.id, "privacy_officer", NOW)
    grants.add(session, account, "privacy_officer", NOW - 2 * COOLING_OFF, COOLING_OFF, origin="proposal")
    account.active = False
    with pytest.raises(RoleRefused):
        grants.require_reviewer(session, account.id, "privacy_officer", NOW)


@ON_SQLITE
def test_active_administrators_are_counted_among_active_accounts(session: Session, keyring: KeyRing) -> None:
    before = grants.active_admins(session)
    account = _account(session, keyring)
    grants.add(session, account, "admin", NOW, COOLING_OFF, origin="bootstrap")
    assert grants.active_admins(session) == before + 1
    account.active = False
    session.flush()
    assert grants.active_admins(session) == before
