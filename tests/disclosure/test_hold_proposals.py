"""Lifting a legal hold and suspending or reinstating a sharing agreement take two people
(disclosure/hold_proposals.py): a proposal changes nothing until a second person approves, the proposer
cannot approve their own, and a proposal that could not take effect is refused at once. Every cell of the
approval matrix is in tests/identity/test_proposals.py. SQLite only: the SQL is the same on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.disclosure import hold_proposals, holds
from safeslot.disclosure.schemas import AgreementIn, HoldIn
from safeslot.identity import proposals
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, DomainError
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import COUNSEL, PRIVACY
from tests.identity.helpers import ctx


@ON_SQLITE
def test_a_hold_is_lifted_only_when_a_second_person_approves(session: Session, keyring: KeyRing) -> None:
    hold = holds.create_hold(session, PRIVACY, HoldIn(authority="Test order 1", category="identity"), NOW)
    proposal = hold_proposals.propose_lift(session, ctx(keyring), PRIVACY.id, hold.id, NOW)
    assert hold.lifted_at is None  # proposed, still in force
    with pytest.raises(DomainError):
        proposals.approve(session, ctx(keyring), PRIVACY.id, proposal.id, NOW)  # not the proposer
    assert hold.lifted_at is None
    later = NOW + dt.timedelta(minutes=5)
    proposals.approve(session, ctx(keyring), COUNSEL.id, proposal.id, later)
    assert (hold.lifted_at, hold.lifted_by) == (later, PRIVACY.id)  # lifted in the proposer's name, when approved
    with pytest.raises(Conflict, match="already lifted"):
        hold_proposals.propose_lift(session, ctx(keyring), PRIVACY.id, hold.id, later)


@ON_SQLITE
def test_an_agreement_is_suspended_and_reinstated_by_two_people(session: Session, keyring: KeyRing) -> None:
    agreement = holds.create_agreement(session, PRIVACY, AgreementIn(
        agency="dhs-ice", kind="routine_use", reference="Routine use 7", purposes=["program_integrity"],
        categories=["identity"], starts_at=NOW - dt.timedelta(days=1), expires_at=NOW + dt.timedelta(days=90)), NOW)
    with pytest.raises(Conflict, match="in force already"):
        hold_proposals.propose_agreement(session, ctx(keyring), PRIVACY.id, agreement.id, NOW, suspend=False)
    suspend = hold_proposals.propose_agreement(session, ctx(keyring), PRIVACY.id, agreement.id, NOW, suspend=True,
                                               reason="Under audit.")
    assert not agreement.suspended
    proposals.approve(session, ctx(keyring), COUNSEL.id, suspend.id, NOW)
    assert agreement.suspended and agreement.suspended_reason == "Under audit."
    with pytest.raises(Conflict, match="suspended already"):
        hold_proposals.propose_agreement(session, ctx(keyring), PRIVACY.id, agreement.id, NOW, suspend=True)
    reinstate = hold_proposals.propose_agreement(session, ctx(keyring), PRIVACY.id, agreement.id, NOW,
                                                 suspend=False)
    proposals.approve(session, ctx(keyring), COUNSEL.id, reinstate.id, NOW)
    assert not agreement.suspended
