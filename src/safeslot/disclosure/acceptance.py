"""Who may see a request's matches, and when (invariant "staff see what their work needs").

Which appointments matched the people a request names (their times, offices and
statuses) is personal data. It is shown only after a second person, a privacy
officer or counsel who did not register the request, has accepted the request for
review; the registrar never sees it, even after acceptance (a registrar who asks
is refused and an alert is raised for auditors). Every read is written to the
staff access log. Acceptance is logged publicly (`disclosure.review`, action
`accept`, the role only). Any review act by a reviewer other than the registrar
(approve, narrow, deny, ask) also accepts the request: a reviewer who decides has
taken it up.

This module decides WHO may see matches and WHEN; how records are matched is
service.match_subjects.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.disclosure import logbook
from safeslot.disclosure.errors import NotAcceptedForReview, RequestNotReviewable, ReviewerNotAllowed
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.schemas import Actor, SubjectOut
from safeslot.disclosure.service import get_request, subjects_view
from safeslot.identity.interfaces import Principal
from safeslot.privacy import interfaces as privacy
from safeslot.privacy.interfaces import MatchesRefused, record_access
from safeslot.transparency.interfaces import Review

REVIEW_ROLES = ("privacy_officer", "counsel")
# States in which a request can be taken up and its matches read.
READABLE_STATES = frozenset({"in_review", "info_requested", "approved"})


def reviewer_request(session: Session, actor: Actor, request_id: int, role: str, open_states: frozenset[str], *,
                     act: str, check: str, noun: str) -> DisclosureRequest:
    """The request a reviewer acts on (attest, approve, narrow, deny …), locked, after the checks every
    review act shares: a review role the actor holds, never the person who registered the request
    ("two people, distinct roles"), and a state open for the act. ``act``, ``check`` and ``noun``
    word the refusals ("attest", "check", "attestation")."""
    if role not in REVIEW_ROLES:
        raise ReviewerNotAllowed(f"{act.capitalize()} as 'privacy_officer' or 'counsel'.")
    if actor.kind != "staff" or role not in actor.roles:
        raise ReviewerNotAllowed(f"Only staff holding the {role} role may {act} as {role}.")
    request = get_request(session, request_id, for_update=True)
    if actor.id == request.registered_by:
        raise ReviewerNotAllowed(f"You registered this request, so someone else must {check} it.")
    if request.status not in open_states:
        raise RequestNotReviewable(f"Request {request_id} is {request.status}; it is not open for {noun}.")
    return request


def reviewing_role(roles: frozenset[str]) -> str | None:
    """The review role a person acts in (counsel first: counsel resolves matches)."""
    return next((r for r in ("counsel", "privacy_officer") if r in roles), None)


def accept(session: Session, actor: Actor, request_id: int, now: dt.datetime) -> DisclosureRequest:
    """Take a request up for review. Not by its registrar; once (a second call changes nothing)."""
    role = reviewing_role(actor.roles) if actor.kind == "staff" else None
    if role is None:
        raise ReviewerNotAllowed("Only a privacy officer or counsel may accept a request for review.")
    request = get_request(session, request_id, for_update=True)
    if actor.id == request.registered_by:
        raise ReviewerNotAllowed("You registered this request, so another reviewer must accept it for review.")
    if request.status not in READABLE_STATES:
        raise RequestNotReviewable(f"Request {request_id} is {request.status}; it is not open for review.")
    mark_accepted(session, request, actor.id, role, now)
    return request


def mark_accepted(session: Session, request: DisclosureRequest, staff_id: int, role: str, now: dt.datetime) -> None:
    """Record the first acceptance (explicit, or by a review act) and log it; later ones change nothing."""
    if request.accepted_by is not None or staff_id == request.registered_by:
        return
    request.accepted_by, request.accepted_at = staff_id, now
    logbook.record(session, Review(time=logbook.rfc3339(now), request_id=request.id, action="accept", role=role),
                   now)
    session.flush()


def ensure_may_see_matches(session: Session, staff: Principal, request: DisclosureRequest, now: dt.datetime) -> str:
    """Refuse the registrar (with an alert) and anyone before acceptance; returns the role read in."""
    role = reviewing_role(staff.roles)
    if staff.kind != "staff" or role is None:
        raise ReviewerNotAllowed("Only a privacy officer or counsel may read a request's matches.")
    if staff.id == request.registered_by:
        privacy.refuse(session, staff, "registrar-read-matches",
                     f"registered disclosure request {request.id} and asked to read its matches",
                     MatchesRefused("You registered this request, so you never see its matches; "
                                    "the other reviewers do."), now)
    if request.status not in READABLE_STATES:
        raise RequestNotReviewable(f"Request {request.id} is {request.status}; its matches are not shown.")
    if request.accepted_by is None:
        raise NotAcceptedForReview(
            f"Accept request {request.id} for review first (POST /api/v1/disclosure-requests/{request.id}/acceptance); "
            "its matches are shown once a reviewer other than the registrar has.")
    return role


def read_matches(session: Session, staff: Principal, request: DisclosureRequest, now: dt.datetime,
                 role: str | None = None) -> list[SubjectOut]:
    """The matches of a request for a reviewer who may see them (``ensure_may_see_matches`` unless
    `role` says a review act already checked), each candidate read written to the access log."""
    acting = role or ensure_may_see_matches(session, staff, request, now)
    views = subjects_view(session, request.id)
    record_access(session, staff, "appointment", [c.appointment_id for s in views for c in s.candidates],
                  "disclosure_review", now, role=acting, reason=f"request {request.id}")
    return views


def may_see_matches(staff: Principal, request: DisclosureRequest) -> str:
    """For pages: 'registrar', 'not_accepted', 'closed' or 'yes' (no read, no alert)."""
    if staff.id == request.registered_by:
        return "registrar"
    if request.status not in READABLE_STATES:
        return "closed"
    return "yes" if request.accepted_by is not None else "not_accepted"
