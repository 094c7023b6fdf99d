"""Review and matching (disclosure/review.py), and policy changes: the rules around the story, each tried from
the side that would break it (both databases). Holds and agreements are in test_holds.py, what a person sees
in test_accounting.py, the package in test_release.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from safeslot.disclosure import release, review, service
from safeslot.disclosure.errors import ReleaseNotReady, RequestNotReviewable, ReviewerNotAllowed
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, InvalidInput
from safeslot.scheduling.models import Appointment
from safeslot.transparency.note import Signer
from tests.conftest import NOW
from tests.disclosure.conftest import COUNSEL, OFFICIAL, PRIVACY, RING, approve, approve_and_release, approve_both

COUNSEL_2 = Actor("staff", 22, frozenset({"counsel"}))


def test_same_name_with_different_contacts_is_ambiguous_until_counsel_chooses(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    first = book("Test Person M", days=1, contact="555-0100")
    book("TEST  person-m", days=2, contact="555-0199")  # another person, same normalised name
    request = file_request(categories=["appointment_schedule", "identity"])
    [subject] = service.subjects_view(session, request.id)
    assert subject.status == "ambiguous" and len(subject.candidates) == 2 and subject.included == []
    with pytest.raises(Conflict, match="resolve the match"):
        approve(session, keyring, PRIVACY, request.id, "privacy_officer", NOW)
    with pytest.raises(ReleaseNotReady):
        release.create(session, keyring, signer, request.id, NOW)
    # A privacy officer cannot resolve; counsel can choose only among the candidates, with a reason.
    with pytest.raises(ReviewerNotAllowed):
        review.resolve_match(session, PRIVACY, request.id, subject.id, first.id, "office_on_document", NOW)
    with pytest.raises(InvalidInput):
        review.resolve_match(session, COUNSEL, request.id, subject.id, first.id + 999, "office_on_document", NOW)
    with pytest.raises(InvalidInput, match="in the document"):
        review.resolve_match(session, COUNSEL, request.id, subject.id, first.id, "looks right", NOW)
    with pytest.raises(InvalidInput, match="no_candidate_matches_document"):
        review.resolve_match(session, COUNSEL, request.id, subject.id, None, "office_on_document", NOW)
    review.resolve_match(session, COUNSEL, request.id, subject.id, first.id, "visit_date_on_document", NOW)
    [subject] = service.subjects_view(session, request.id)
    assert subject.included == [first.id] and subject.match_reason == "visit_date_on_document"
    approve_both(session, request.id)
    assert request.status == "approved"


def test_bookings_are_never_merged_even_with_the_same_contact_and_the_log_counts_candidates_only(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    from tests.disclosure.test_story import entries

    book("Test Person A", days=1, contact="555-0100")
    book("Test Person A", days=2, contact="555-0100")
    request = file_request(subjects=[{"name": "Test Person A"}], categories=["appointment_schedule"])
    [subject] = service.subjects_view(session, request.id)
    assert subject.status == "ambiguous" and subject.included == []
    [decision] = [e for e in entries(session) if e["event"] == "disclosure.decision"]
    assert decision["candidates"] == [2] and decision["subjects"] == 1
    # Counsel refuses: nobody is included, nothing can leave.
    review.resolve_match(session, COUNSEL, request.id, subject.id, None, "no_candidate_matches_document", NOW)
    [logged] = [e for e in entries(session) if e.get("action") == "resolve_match"]
    assert logged["candidates"] == 2 and logged["match_reason"] == "no_candidate_matches_document"
    assert "Test Person" not in json.dumps(entries(session)) and "555-0100" not in json.dumps(entries(session))
    approve_both(session, request.id)
    with pytest.raises(ReleaseNotReady, match="Nothing is left"):
        release.create(session, keyring, signer, request.id, NOW)


def test_counsel_resolves_during_review_and_only_the_chosen_record_leaves(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    first = book("Test Person M", days=1, contact="555-0100")
    book("Test Person M", days=2, contact="555-0199")
    request = file_request(categories=["appointment_schedule"])
    [subject] = service.subjects_view(session, request.id)
    review.resolve_match(session, COUNSEL, request.id, subject.id, first.id, "office_and_date_on_document",
                         NOW)
    _, token = approve_and_release(session, keyring, signer, request.id)
    package = json.loads(release.download(session, keyring, OFFICIAL, token, NOW)["package"])
    assert [a["starts_at"] for a in package["people"][0]["appointment_schedule"]] == [first.starts_at.isoformat()]


def test_nobody_unmatched_is_included_and_unmatched_alone_cannot_be_released(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Other Person")
    request = file_request(subjects=[{"name": "Test Person M"}])
    assert [s.status for s in service.subjects_view(session, request.id)] == ["unmatched"]
    approve_both(session, request.id)
    with pytest.raises(ReleaseNotReady, match="Nothing is left"):
        release.create(session, keyring, signer, request.id, NOW)


def test_office_and_dates_limit_the_match(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    book("Test Person M", days=3)
    day = (NOW + dt.timedelta(days=1)).date().isoformat()
    request = file_request(subjects=[{"name": "Test Person M", "date_from": day, "date_to": day}])
    assert [s.status for s in service.subjects_view(session, request.id)] == ["unmatched"]
    other = file_request(subjects=[{"name": "Test Person M", "office": "elsewhere"}])
    assert [s.status for s in service.subjects_view(session, other.id)] == ["unmatched"]


def test_narrowing_drops_categories_and_voids_earlier_approvals(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], engine_federal: PolicyEngine,
) -> None:
    book("Test Person M", contact="555-0100")
    request = file_request(categories=["appointment_schedule", "contact"])
    approve(session, keyring, PRIVACY, request.id, "privacy_officer", NOW)
    review.narrow(session, COUNSEL, request.id, "counsel", "The warrant's text covers the schedule only.",
                  [], ["contact"], NOW)
    assert review.approvals(session, request.id) == {}
    _, token = approve_and_release(session, keyring, signer, request.id)
    package = json.loads(release.download(session, keyring, OFFICIAL, token, NOW)["package"])
    assert set(package["people"][0]) == {"appointment_schedule"} and "555-0100" not in json.dumps(package)
    contact = next(d for d in service.view(session, engine_federal, request, NOW).decisions if d.category == "contact")
    assert contact.outcome == "deny" and "schedule only" in contact.reasons[-1]


def test_narrowing_to_nobody_denies_and_a_denial_closes_review(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    request = file_request()
    [subject] = service.subjects_view(session, request.id)
    review.narrow(session, PRIVACY, request.id, "privacy_officer", "Not the person named.", [subject.id], [], NOW)
    assert request.status == "denied"
    with pytest.raises(RequestNotReviewable):
        approve(session, RING, COUNSEL, request.id, "counsel", NOW)
    second = file_request()
    review.deny(session, COUNSEL, second.id, "counsel", "The warrant has expired.", NOW)
    assert second.status == "denied"


def test_asking_for_information_pauses_review_until_the_agency_answers(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    request = file_request()
    approve(session, RING, PRIVACY, request.id, "privacy_officer", NOW)
    review.ask_information(session, COUNSEL, request.id, "counsel", "Send the warrant's second page.", NOW)
    with pytest.raises(RequestNotReviewable):
        approve(session, RING, COUNSEL, request.id, "counsel", NOW)
    with pytest.raises(ReviewerNotAllowed):
        review.provide_information(session, Actor("official", 9, agency="another-agency"), request.id, "here", NOW)
    review.provide_information(session, OFFICIAL, request.id, "Attached on paper.", NOW)
    assert request.status == "in_review" and review.approvals(session, request.id) == {}


def test_deadlines_are_shown_and_overdue_flagged(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
    engine_federal: PolicyEngine,
) -> None:
    book("Test Person M")
    deadline = NOW + dt.timedelta(days=2)
    request = file_request(deadline=deadline.isoformat())
    assert service.view(session, engine_federal, request, NOW).overdue is False
    late = service.view(session, engine_federal, request, deadline + dt.timedelta(minutes=1))
    assert late.overdue is True and late.deadline == deadline


def test_a_policy_change_needs_two_approvals_from_people_other_than_the_proposer(
    session: Session, engine_federal: PolicyEngine,
) -> None:
    change = service.propose_policy(session, PRIVACY, engine_federal, {"schema.cedarschema": "…"}, "Typo fix", NOW)
    with pytest.raises(ReviewerNotAllowed):
        service.approve_policy(session, PRIVACY, change.id, NOW)
    with pytest.raises(ReviewerNotAllowed):
        service.approve_policy(session, Actor("staff", 99, frozenset({"clerk"})), change.id, NOW)
    assert service.approve_policy(session, COUNSEL, change.id, NOW).status == "proposed"
    with pytest.raises(ReviewerNotAllowed):
        service.approve_policy(session, COUNSEL, change.id, NOW)
    assert service.approve_policy(session, COUNSEL_2, change.id, NOW).status == "adopted"


def test_the_requesting_agency_may_withdraw_before_release(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    request = file_request()
    with pytest.raises(ReviewerNotAllowed):
        review.withdraw(session, Actor("official", 9, agency="another-agency"), request.id, NOW)
    review.withdraw(session, OFFICIAL, request.id, NOW)
    assert request.status == "withdrawn"
    with pytest.raises(RequestNotReviewable):
        approve(session, keyring, PRIVACY, request.id, "privacy_officer", NOW)
    released = file_request()
    approve_both(session, released.id)
    release.create(session, keyring, signer, released.id, NOW)
    with pytest.raises(RequestNotReviewable):
        review.withdraw(session, OFFICIAL, released.id, NOW)
