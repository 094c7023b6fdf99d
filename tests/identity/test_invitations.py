"""Links to the holder and the first two administrators (identity/invitations.py): the command line makes
two administrators and no more; an enrolment or key-claim link goes only to the holder's own address, and a
claimed key is issued once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import invitations, links, service
from safeslot.identity.errors import ApproverNotAllowed, DutiesSeparated, LinkInvalid
from safeslot.identity.models import Credential, IdentityMail, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import PASSWORD, ctx


def _account(session: Session, keyring: KeyRing, n: int, roles: list[str] | None = None,
             email: str | None = None) -> StaffAccount:
    account, _ = service.create_account(session, keyring, username=f"test-person-{n}",
                                        display_name=f"Test Person {n}", password=PASSWORD, roles=roles or [],
                                        office_id=None, now=NOW, email=email)
    return account


def _mails(session: Session, keyring: KeyRing) -> list[tuple[str, str]]:
    return [(keyring.open(m.address_enc, links.ADDRESS_CONTEXT), keyring.open(m.body_enc, links.BODY_CONTEXT))
            for m in session.scalars(select(IdentityMail).order_by(IdentityMail.id))]


@ON_SQLITE
def test_the_command_line_makes_two_administrators_and_no_more(session: Session, keyring: KeyRing) -> None:
    first, second, third = (_account(session, keyring, n) for n in (1, 2, 3))
    invitations.bootstrap_admin(session, ctx(keyring), first, NOW)
    invitations.bootstrap_admin(session, ctx(keyring), second, NOW)
    assert "admin" in first.roles.split() and "admin" in second.roles.split()
    with pytest.raises(ApproverNotAllowed, match="another administrator approves"):
        invitations.bootstrap_admin(session, ctx(keyring), third, NOW)
    assert "admin" not in third.roles.split()


@ON_SQLITE
def test_an_administrator_is_never_also_a_reviewer(session: Session, keyring: KeyRing) -> None:
    account = _account(session, keyring, 1)
    account.roles = "counsel"
    with pytest.raises(DutiesSeparated):
        invitations.bootstrap_admin(session, ctx(keyring), account, NOW)


@ON_SQLITE
def test_an_enrolment_link_goes_to_the_holders_own_address_only(session: Session, keyring: KeyRing) -> None:
    with pytest.raises(InvalidInput, match="no registered address"):
        invitations.send_invitation(session, ctx(keyring), _account(session, keyring, 1), NOW)
    holder = _account(session, keyring, 2, email="test-person-2@example.test")
    invitations.send_invitation(session, ctx(keyring), holder, NOW)
    [(address, body)] = _mails(session, keyring)
    assert address == "test-person-2@example.test"
    assert "username: test-person-2" in body and "usuario: test-person-2" in body  # English and Spanish
    token = body.split("/enrol#", 1)[1].split()[0]
    assert links.consume(session, "enrol", token, NOW).staff_id == holder.id


@ON_SQLITE
def test_a_claimed_key_is_issued_once_and_can_replace_the_others(session: Session, keyring: KeyRing) -> None:
    agency = service.create_agency(session, "Test Agency 1", "1 Test Street", NOW)
    official = service.add_official(session, agency.id, "Test Person 1", "Test title", "delegate", NOW,
                                    email="test-person-1@example.test")
    old, _ = service.issue_credential(session, "agency", NOW, official=official)
    invitations.send_claim_link(session, ctx(keyring), official, NOW, revoke_others=True)
    token = _mails(session, keyring)[0][1].split('"token": "', 1)[1].split('"')[0]
    credential_id, secret, _ = invitations.claim_key(session, ctx(keyring), token, NOW)
    assert secret and session.get(Credential, credential_id) is not None
    assert old.revoked_at is not None  # the other keys stop working
    assert "was claimed" in _mails(session, keyring)[-1][1]  # the holder hears of it
    with pytest.raises(LinkInvalid, match="used already"):
        invitations.claim_key(session, ctx(keyring), token, NOW)
