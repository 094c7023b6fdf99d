"""Two-person review (invariant "two people, distinct roles").

A release needs an approval from a privacy officer and one from counsel: two different
people, neither the staff member who registered the request nor the requester. One
person holding both roles gives at most one approval. Reviewers may narrow the scope
(drop people or categories, with a reason), deny (with a reason) or ask for more
information. Narrowing or new information voids earlier approvals: both reviewers must
approve the scope that will actually leave.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.disclosure import acceptance, attest, logbook, sealed
from safeslot.disclosure import repository as repo
from safeslot.disclosure.acceptance import mark_accepted
from safeslot.disclosure.errors import RequestNotReviewable, ReviewerNotAllowed
from safeslot.disclosure.models import DisclosureRequest, ReviewAction
from safeslot.disclosure.policy import Outcome
from safeslot.disclosure.schemas import Actor
from safeslot.disclosure.service import get_request
from safeslot.identity import interfaces as identity
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, InvalidInput
from safeslot.transparency.interfaces import RequestClosed, Review

REVIEW_ROLES = acceptance.REVIEW_ROLES
REVIEWABLE_STATES = frozenset({"in_review", "info_requested"})


def _reviewable(session: Session, actor: Actor, request_id: int, role: str,
                now: dt.datetime | None = None) -> DisclosureRequest:
    request = acceptance.reviewer_request(session, actor, request_id, role, REVIEWABLE_STATES,
                                          act="review", check="review", noun="review")
    if now is not None:
        mark_accepted(session, request, actor.id, role, now)  # a reviewer who acts has taken it up
    return request


LOGGED_ACTIONS = {"approve": "approve", "narrow": "narrow", "deny": "deny", "ask_information": "more_information",
                  "resolve_match": "resolve_match"}


def _seal(ring: KeyRing | None, request: DisclosureRequest, text: str | None, context: str) -> str | None:
    """A reviewer's or requester's free text, sealed at rest when the caller has the key ring
    (every HTTP and console path passes it)."""
    if ring is None or text is None:
        return text
    return sealed.seal_text(ring, text, context, sealed.month_of(request))


def _act(session: Session, request: DisclosureRequest, actor: Actor, role: str, action: str,
         reason: str | None, now: dt.datetime, ring: KeyRing | None = None, **logged: object) -> None:
    session.add(ReviewAction(request_id=request.id, staff_id=actor.id, role=role, action=action,
                             reason=_seal(ring, request, reason, "disclosure_review.reason"), at=now, void=False))
    if action in LOGGED_ACTIONS:
        # The role, never the person or the reason's text (which may name people).
        logbook.record(session, Review.model_validate({
            "time": logbook.rfc3339(now), "request_id": request.id, "action": LOGGED_ACTIONS[action], "role": role,
            **logged}), now)


def void_approvals(session: Session, request: DisclosureRequest) -> None:
    for act in repo.reviews(session, request.id):
        if act.action == "approve":
            act.void = True


def approvals(session: Session, request_id: int) -> dict[str, int]:
    """Role → staff id of the standing approvals."""
    return {a.role: a.staff_id for a in repo.reviews(session, request_id) if a.action == "approve" and not a.void}


def approve(session: Session, actor: Actor, request_id: int, role: str, now: dt.datetime) -> bool:
    """Record an approval; True when both approvals now stand (the request is approved)."""
    request = _reviewable(session, actor, request_id, role, now)
    # The role must have been approved by a second person and passed its cooling-off.
    identity.require_reviewer(session, actor.id, role, now)
    if request.status != "in_review":
        raise RequestNotReviewable("The reviewers asked for more information; wait for the requester's answer.")
    attested = attest.standing(session, request, actor.id, role)
    if attested is None:
        # A reviewer judges the document, not what was typed.
        raise Conflict("Check the document field by field first (attest); then approve.")
    if any(s.status == "ambiguous" for s in repo.subjects(session, request_id)):
        # Approvals are for the scope that will leave: counsel settles who is who first.
        raise Conflict("A named person matches several people's records; counsel must resolve the match first.")
    standing = approvals(session, request_id)
    if actor.id in standing.values():
        # Two people, distinct roles: one person, even holding both roles, gives one approval.
        raise ReviewerNotAllowed("You already approved this request; the second approval must come from someone else.")
    if role in standing:
        raise Conflict(f"A {role} already approved this request; the other role must approve now.")
    _act(session, request, actor, role, "approve", None, now, attestation=attest.log_view(attested))
    session.flush()
    standing[role] = actor.id
    if all(r in standing for r in REVIEW_ROLES):
        request.status = "approved"
        return True
    return False


def deny(session: Session, actor: Actor, request_id: int, role: str, reason: str, now: dt.datetime,
         ring: KeyRing | None = None) -> None:
    request = _reviewable(session, actor, request_id, role, now)
    _act(session, request, actor, role, "deny", reason, now, ring)
    request.status = "denied"
    request.closed_reason = "Denied by a reviewer."
    session.flush()


def ask_information(session: Session, actor: Actor, request_id: int, role: str, question: str,
                    now: dt.datetime, ring: KeyRing | None = None) -> None:
    request = _reviewable(session, actor, request_id, role, now)
    _act(session, request, actor, role, "ask_information", question, now, ring)
    request.status = "info_requested"
    request.info_request = _seal(ring, request, question, "disclosure_request.info_request")
    session.flush()


def provide_information(session: Session, actor: Actor, request_id: int, answer: str, now: dt.datetime,
                        ring: KeyRing | None = None) -> None:
    """The requester answers; review starts again and earlier approvals are void."""
    request = get_request(session, request_id, for_update=True)
    if actor.kind != "official" or actor.agency != request.agency:
        raise ReviewerNotAllowed("Only the requesting agency may answer a question about its request.")
    if request.status != "info_requested":
        raise RequestNotReviewable("No question is waiting for an answer on this request.")
    session.add(ReviewAction(request_id=request.id, staff_id=actor.id, role="requester", action="answer",
                             reason=_seal(ring, request, answer, "disclosure_review.reason"), at=now,
                             void=False))
    void_approvals(session, request)
    attest.void_all(session, request.id)
    request.status = "in_review"
    request.info_request = None
    session.flush()


def narrow(session: Session, actor: Actor, request_id: int, role: str, reason: str,
           drop_subjects: list[int], drop_categories: list[str], now: dt.datetime,
           ring: KeyRing | None = None) -> None:
    """Drop people or categories from the scope, with a reason. Never widens."""
    request = _reviewable(session, actor, request_id, role, now)
    stored_reason = _seal(ring, request, reason, "disclosure_decision.dropped_reason")
    if not drop_subjects and not drop_categories:
        raise InvalidInput("Name the subjects or categories to drop.")
    subjects = {s.id: s for s in repo.subjects(session, request.id)}
    for subject_id in drop_subjects:
        if subject_id not in subjects:
            raise InvalidInput(f"Subject {subject_id} is not part of this request.")
        subjects[subject_id].status = "dropped"
        subjects[subject_id].appointment_ids = []
        subjects[subject_id].dropped_reason = stored_reason
    rows = {r.category: r for r in repo.decisions(session, request.id)}
    for category in drop_categories:
        if category not in rows:
            raise InvalidInput(f"Category {category} was not requested.")
        rows[category].dropped_reason = stored_reason
    void_approvals(session, request)
    left_people = [s for s in subjects.values() if s.status != "dropped"]
    left_categories = [r for r in rows.values() if r.outcome != Outcome.DENY and not r.dropped_reason]
    _act(session, request, actor, role, "narrow", reason, now, ring,
         categories=[r.category for r in left_categories], subjects=len(left_people))
    if not left_people or not left_categories:
        request.status = "denied"
        request.closed_reason = "Narrowed to nothing by a reviewer."
    session.flush()


# Why counsel chose a candidate: facts printed in the document, never free text (the choice
# is logged, and a reason typed here could name the person).
MATCH_REASONS = ("office_on_document", "visit_date_on_document", "office_and_date_on_document")
NO_MATCH_REASON = "no_candidate_matches_document"


def resolve_match(session: Session, actor: Actor, request_id: int, subject_id: int, appointment_id: int | None,
                  reason: str, now: dt.datetime) -> None:
    """Counsel picks the one candidate booking that is the named person, with a reason from the
    document (the office or the visit date it gives), or refuses (`appointment_id` None,
    reason `no_candidate_matches_document`): then nobody is included for that name. People are
    never merged, so exactly one booking can be chosen. The log gets the number of candidates
    and the reason, never which booking or who."""
    request = _reviewable(session, actor, request_id, "counsel", now)
    subject = next((s for s in repo.subjects(session, request.id) if s.id == subject_id), None)
    if subject is None or subject.status != "ambiguous":
        raise Conflict("Only an ambiguous match of this request can be resolved.")
    if appointment_id is None:
        if reason != NO_MATCH_REASON:
            raise InvalidInput(f"To refuse every candidate, give the reason '{NO_MATCH_REASON}'.")
    else:
        if reason not in MATCH_REASONS:
            raise InvalidInput("Say what in the document shows it is this booking: "
                               + ", ".join(MATCH_REASONS) + ".")
        if appointment_id not in subject.candidates:
            raise InvalidInput("Choose one of the candidate bookings of this subject.")
    subject.appointment_ids = [] if appointment_id is None else [appointment_id]
    subject.status = "unmatched" if appointment_id is None else "matched"
    subject.match_reason = reason
    _act(session, request, actor, "counsel", "resolve_match", reason, now,
         candidates=len(subject.candidates), match_reason=reason)
    session.flush()


def withdraw(session: Session, actor: Actor, request_id: int, now: dt.datetime) -> None:
    """The requesting agency withdraws a request that has not been released or closed."""
    request = get_request(session, request_id, for_update=True)
    if actor.kind != "official" or actor.agency != request.agency:
        raise ReviewerNotAllowed("Only the requesting agency may withdraw its request.")
    if request.status not in ("received", "in_review", "info_requested", "approved"):
        raise RequestNotReviewable(f"Request {request_id} is {request.status}; it can no longer be withdrawn.")
    request.status = "withdrawn"
    request.closed_reason = "Withdrawn by the requesting agency."
    logbook.record(session, RequestClosed(event="disclosure.withdrawn", time=logbook.rfc3339(now),
                                          request_id=request.id, status="withdrawn"), now)
    session.flush()


def expire_stale(session: Session, now: dt.datetime) -> list[int]:
    """Close every open request whose deadline passed without a release (state `expired`),
    each logged as `disclosure.expired` in the same transaction."""
    closed = []
    for request in repo.stale_requests(session, now):
        request.status = "expired"
        request.closed_reason = "The deadline passed without a release."
        logbook.record(session, RequestClosed(event="disclosure.expired", time=logbook.rfc3339(now),
                                              request_id=request.id, status="expired"), now)
        closed.append(request.id)
    session.flush()
    return closed
