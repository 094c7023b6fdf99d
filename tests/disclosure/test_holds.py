"""Legal holds and sharing agreements (disclosure/holds.py), managed by privacy officers: agreements are
limited in time and renewed once; a hold or a suspension stops what an agreement would allow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from safeslot.disclosure import holds
from safeslot.disclosure.errors import ReviewerNotAllowed
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.schemas import AgreementIn, HoldIn
from safeslot.kit.errors import Conflict, InvalidInput, NotFound
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import CLERK, COUNSEL, PRIVACY


def test_agreements_are_limited_to_18_months_and_one_renewal(session: Session) -> None:
    term = {"agency": "state-benefits", "kind": "computer_matching", "reference": "CMA 2027-01",
            "purposes": ["program_integrity"], "categories": ["identity"], "starts_at": NOW.isoformat()}
    with pytest.raises(InvalidInput, match="18 months"):
        holds.create_agreement(session, PRIVACY, AgreementIn.model_validate(
            {**term, "expires_at": (NOW + dt.timedelta(days=600)).isoformat()}), NOW)
    made = holds.create_agreement(session, PRIVACY, AgreementIn.model_validate(
        {**term, "expires_at": (NOW + dt.timedelta(days=540)).isoformat()}), NOW)
    with pytest.raises(InvalidInput, match="12 months"):
        holds.renew_agreement(session, PRIVACY, made.id, made.expires_at + dt.timedelta(days=400), NOW)
    holds.renew_agreement(session, PRIVACY, made.id, made.expires_at + dt.timedelta(days=365), NOW)
    with pytest.raises(Conflict, match="only once"):
        holds.renew_agreement(session, PRIVACY, made.id, made.expires_at + dt.timedelta(days=30), NOW)


def test_a_suspended_agreement_allows_nothing(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    made = holds.create_agreement(session, PRIVACY, AgreementIn(
        agency="dhs-ice", kind="routine_use", reference="Routine use 7", purposes=["program_integrity"],
        categories=["identity"], starts_at=NOW - dt.timedelta(days=1), expires_at=NOW + dt.timedelta(days=90)), NOW)
    holds.suspend_agreement(session, PRIVACY, made.id, "Under audit.", NOW)
    request = file_request(instrument_type="sharing_agreement", signer_type="agency_head", court=None, docket=None,
                           purpose="program_integrity", categories=["identity"])
    assert request.status == "denied"


@ON_SQLITE
def test_only_a_privacy_officer_manages_holds_and_a_hold_must_cover_something(session: Session) -> None:
    for actor in (COUNSEL, CLERK):
        with pytest.raises(ReviewerNotAllowed, match="privacy officer"):
            holds.create_hold(session, actor, HoldIn(authority="Test order 1", agency="dhs-ice"), NOW)
    with pytest.raises(InvalidInput, match="agency, a purpose or a category"):
        holds.create_hold(session, PRIVACY, HoldIn(authority="Test order 1"), NOW)
    hold = holds.create_hold(session, PRIVACY, HoldIn(authority="Test order 1", category="identity"), NOW)
    assert hold in holds.list_holds(session)


@ON_SQLITE
def test_a_hold_is_lifted_once(session: Session) -> None:
    hold = holds.create_hold(session, PRIVACY, HoldIn(authority="Test order 1", purpose="criminal"), NOW)
    with pytest.raises(ReviewerNotAllowed):
        holds.lift_hold(session, COUNSEL, hold.id, NOW)
    assert holds.check_liftable(session, hold.id) is hold
    holds.lift_hold(session, PRIVACY, hold.id, NOW + dt.timedelta(hours=1))
    assert hold.lifted_at is not None and hold.lifted_by == PRIVACY.id
    with pytest.raises(Conflict, match="already lifted"):
        holds.lift_hold(session, PRIVACY, hold.id, NOW)
    with pytest.raises(NotFound):
        holds.check_liftable(session, hold.id + 1000)
