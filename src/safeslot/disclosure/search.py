"""Counsel's search by name, only inside an open disclosure request.

Counsel may look a person up by name only to settle who is who in a request under
review: the request id is required; the request must be open and accepted for
review by someone other than its registrar (acceptance.py), and counsel must not
be its registrar; the name must be one the request names; results are limited to
that person's office and date range as the instrument gives them. Confirmation
codes are never returned (they would let the reader change or cancel the
appointment), and language and accommodation needs only when the request asks for
that category. Anything else is refused, and raises an alert for auditors
(`search-outside-request`). Every appointment shown is recorded in the access log.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

from sqlalchemy.orm import Session

from safeslot.disclosure import repository as repo
from safeslot.disclosure.acceptance import READABLE_STATES
from safeslot.disclosure.errors import RequestNotFound
from safeslot.disclosure.service import get_request
from safeslot.identity.interfaces import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.privacy import interfaces as privacy
from safeslot.privacy.interfaces import CounselMatch, SearchOutsideRequest
from safeslot.scheduling import interfaces as scheduling


def _refuse(session: Session, staff: Principal, detail: str, advice: str, now: dt.datetime) -> NoReturn:
    privacy.refuse(session, staff, "search-outside-request", detail, SearchOutsideRequest(advice), now)


def within_request(
    session: Session, ring: KeyRing, staff: Principal, request_id: int | None, name: str, now: dt.datetime
) -> list[CounselMatch]:
    """Search one named person's appointments inside request `request_id` (see the module docstring)."""
    if request_id is None:
        _refuse(session, staff, "searched appointments by name without a disclosure request",
                "Give the request_id of the open disclosure request you are reviewing; counsel searches "
                "only the people a request names.", now)
    try:
        request = get_request(session, request_id)
    except RequestNotFound:
        _refuse(session, staff, f"searched appointments by name in request {request_id}, which does not exist",
                f"There is no disclosure request {request_id}; search inside an open request you review.", now)
    if staff.id == request.registered_by:
        _refuse(session, staff, f"registered disclosure request {request.id} and searched its names",
                "You registered this request, so you never see its matches.", now)
    if request.status not in READABLE_STATES or request.accepted_by is None:
        _refuse(session, staff, f"searched names in request {request.id}, which is {request.status}"
                + ("" if request.accepted_by else " and not accepted for review"),
                f"Request {request.id} is {request.status}"
                + ("" if request.accepted_by else " and nobody has accepted it for review yet")
                + "; search only inside an open request accepted for review.", now)
    index = ring.blind_index(name)
    named = [s for s in repo.subjects(session, request.id) if s.status != "dropped" and s.name_index == index]
    if not named:
        _refuse(session, staff, f"searched a name that disclosure request {request.id} does not name",
                f"Request {request.id} does not name this person; search only the people it names.", now)
    accommodation_asked = "language_accommodation" in request.categories
    out: list[CounselMatch] = []
    for subject in named:
        start = dt.datetime.combine(subject.date_from, dt.time(), dt.UTC) if subject.date_from else None
        end = (dt.datetime.combine(subject.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
               if subject.date_to else None)
        for view in privacy.review_lookup(session, ring, staff, index, subject.office_slug, start, end,
                                        request.id, now):
            out.append(CounselMatch(
                appointment_id=view.id, subject_id=subject.id, office=_office_slug(session, view.office_id),
                starts_at=view.starts_at, status=view.status, name=view.name,
                language=view.language if accommodation_asked else None,
                accommodation=view.accommodation if accommodation_asked else None,
            ))
    return out


def _office_slug(session: Session, office_id: int) -> str:
    return next((o.slug for o in scheduling.list_offices(session) if o.id == office_id), str(office_id))
