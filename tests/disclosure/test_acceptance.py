"""Who may see a request's matches, and when (disclosure/acceptance.py): only after a reviewer other than
the registrar accepted the request; the registrar never, and every read is written to the access log. The
story over HTTP, with the auditors' alert, is in tests/privacy/test_need_to_know.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.disclosure import acceptance
from safeslot.disclosure.errors import NotAcceptedForReview, RequestNotReviewable, ReviewerNotAllowed
from safeslot.disclosure.models import DisclosureRequest
from safeslot.identity.service import Principal
from safeslot.privacy.models import AccessRecord
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import BOTH, CLERK, COUNSEL, PRIVACY, TEST_PERSON


def _principal(actor_id: int, *roles: str) -> Principal:
    return Principal("staff", actor_id, "Test Person 9", frozenset(roles), None, 1, "session", "h")


def test_counsel_reviews_as_counsel_when_they_hold_both_roles() -> None:
    assert acceptance.reviewing_role(BOTH.roles) == "counsel"
    assert acceptance.reviewing_role(PRIVACY.roles) == "privacy_officer"
    assert acceptance.reviewing_role(CLERK.roles) is None


def test_pages_are_told_why_matches_are_not_shown() -> None:
    reviewer = _principal(PRIVACY.id, "privacy_officer")
    request = DisclosureRequest(registered_by=PRIVACY.id, status="in_review", accepted_by=COUNSEL.id)
    assert acceptance.may_see_matches(reviewer, request) == "registrar"
    request.registered_by = None
    assert acceptance.may_see_matches(reviewer, request) == "yes"
    request.accepted_by = None
    assert acceptance.may_see_matches(reviewer, request) == "not_accepted"
    request.status = "released"
    assert acceptance.may_see_matches(reviewer, request) == "closed"


@ON_SQLITE
def test_only_a_reviewer_who_did_not_register_it_accepts_a_request_once(
    session: Session, agency_id: int, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person 1")
    request = file_request(actor=PRIVACY, agency_id=agency_id, subjects=TEST_PERSON)  # a paper request
    with pytest.raises(ReviewerNotAllowed, match="privacy officer or counsel"):
        acceptance.accept(session, CLERK, request.id, NOW)
    with pytest.raises(ReviewerNotAllowed, match="You registered"):
        acceptance.accept(session, PRIVACY, request.id, NOW)
    acceptance.accept(session, COUNSEL, request.id, NOW)
    assert (request.accepted_by, request.accepted_at) == (COUNSEL.id, NOW)
    acceptance.accept(session, BOTH, request.id, NOW)
    assert request.accepted_by == COUNSEL.id  # the first acceptance stands


@ON_SQLITE
def test_matches_are_read_after_acceptance_and_every_read_is_logged(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    visit = book("Test Person 1")
    request = file_request(subjects=TEST_PERSON)
    counsel = _principal(COUNSEL.id, "counsel")
    with pytest.raises(NotAcceptedForReview, match="Accept request"):
        acceptance.read_matches(session, counsel, request, NOW)
    acceptance.accept(session, PRIVACY, request.id, NOW)
    [subject] = acceptance.read_matches(session, counsel, request, NOW)
    assert [c.appointment_id for c in subject.candidates] == [visit.id]
    reads = session.scalars(select(AccessRecord).where(AccessRecord.staff_id == COUNSEL.id)).all()
    assert [(r.record_id, r.purpose, r.role) for r in reads] == [(str(visit.id), "disclosure_review", "counsel")]
    with pytest.raises(ReviewerNotAllowed):
        acceptance.read_matches(session, _principal(CLERK.id, "clerk"), request, NOW)
    request.status = "released"
    with pytest.raises(RequestNotReviewable):
        acceptance.ensure_may_see_matches(session, counsel, request, NOW)
