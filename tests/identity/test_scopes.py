"""Office scopes (identity/scopes.py): the offices an account may work on, and the one its pages open on."""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeslot.identity import scopes, service
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import PASSWORD


def _clerk(session: Session, keyring: KeyRing, office_id: int) -> StaffAccount:
    account, _ = service.create_account(session, keyring, username="test-person-1", display_name="Test Person 1",
                                        password=PASSWORD, roles=["clerk"], office_id=office_id, now=NOW)
    return account


def test_pages_open_on_the_own_office_when_in_scope_else_the_lowest_else_nowhere() -> None:
    assert scopes.home_office(7, frozenset({3, 7})) == 7
    assert scopes.home_office(9, frozenset({7, 3})) == 3
    assert scopes.home_office(None, frozenset({5})) == 5
    assert scopes.home_office(7, frozenset()) is None


@ON_SQLITE
def test_a_scope_added_and_removed_changes_the_offices_and_moves_the_home_office(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    central = scheduling.get_office(session, office).id
    other = scheduling.add_office(session, "test-other", "Test Office 2", "1 Test Street", "America/Chicago").id
    account = _clerk(session, keyring, central)
    assert scopes.office_ids(session, account.id) == {central}
    scopes.add(session, account, other, NOW, origin="proposal")
    assert scopes.office_ids(session, account.id) == {central, other}
    assert scopes.all_office_ids(session)[account.id] == {central, other}
    scopes.remove(session, account, central, NOW)
    assert scopes.office_ids(session, account.id) == {other}
    assert account.office_id == other  # its own office left its scope: pages open on what remains
    scopes.remove(session, account, other, NOW)
    assert scopes.office_ids(session, account.id) == frozenset() and account.office_id is None
    assert account.id not in scopes.all_office_ids(session)
