"""One-time links and the identity outbox (identity/links.py): a link works once, for its purpose, until it
expires; a new link for the same holder stops the earlier ones; a message is queued sealed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import links, service
from safeslot.identity.errors import LinkInvalid
from safeslot.identity.models import IdentityMail, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.notifications.models import OutboxMessage
from tests.conftest import NOW, ON_SQLITE
from tests.identity.helpers import PASSWORD

DAY = dt.timedelta(days=1)


def _account(session: Session, keyring: KeyRing) -> StaffAccount:
    account, _ = service.create_account(session, keyring, username="test-person-1", display_name="Test Person 1",
                                        password=PASSWORD, roles=[], office_id=None, now=NOW)
    return account


@ON_SQLITE
def test_a_link_works_once_for_its_purpose_until_it_expires(session: Session, keyring: KeyRing) -> None:
    account = _account(session, keyring)
    invitation, token = links.create(session, "enrol", NOW, DAY, staff_id=account.id)
    assert token.startswith("sse_") and invitation.token_hash != token  # only its hash is stored
    with pytest.raises(LinkInvalid, match="not one we sent"):
        links.consume(session, "claim", token, NOW)  # another purpose
    with pytest.raises(LinkInvalid, match="not one we sent"):
        links.consume(session, "enrol", token + "x", NOW)
    assert links.consume(session, "enrol", token, NOW).id == invitation.id
    with pytest.raises(LinkInvalid, match="used already"):
        links.consume(session, "enrol", token, NOW)
    _, late = links.create(session, "enrol", NOW, DAY, staff_id=account.id)
    with pytest.raises(LinkInvalid, match="expired"):
        links.consume(session, "enrol", late, NOW + DAY)


@ON_SQLITE
def test_a_new_link_for_the_same_holder_stops_the_earlier_one(session: Session, keyring: KeyRing) -> None:
    account = _account(session, keyring)
    _, first = links.create(session, "enrol", NOW, DAY, staff_id=account.id)
    _, second = links.create(session, "enrol", NOW + dt.timedelta(minutes=5), DAY, staff_id=account.id)
    with pytest.raises(LinkInvalid, match="expired"):
        links.consume(session, "enrol", first, NOW + dt.timedelta(minutes=6))
    links.consume(session, "enrol", second, NOW + dt.timedelta(minutes=6))


@ON_SQLITE
def test_a_queued_message_is_sealed_and_handed_to_the_outbox(session: Session, keyring: KeyRing) -> None:
    mail = links.queue(session, keyring, "test-person-1@example.test", "Test subject", "Test body", NOW)
    assert b"test-person-1@example.test" not in mail.address_enc and b"Test body" not in mail.body_enc
    assert keyring.open(mail.address_enc, links.ADDRESS_CONTEXT) == "test-person-1@example.test"
    assert keyring.open(mail.body_enc, links.BODY_CONTEXT) == "Test body"
    queued = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == links.KIND)).all()
    assert [(m.ref, m.status) for m in queued] == [(mail.id, "queued")]
    assert session.get(IdentityMail, mail.id) is mail
