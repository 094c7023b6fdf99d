"""The organisation's administrators open and close offices, two of them (scheduling/office_proposals.py).

``POST /api/v1/office-openings`` and ``POST /api/v1/offices/{office}/closing`` make a proposal (202);
a second administrator approves it with ``POST /api/v1/proposals/{id}/approval``, and only then does the
office exist or close. ``GET …/bookings-to-move`` lists what a closing must name: ids, times and
services of the visits still to come, never who booked them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity import interfaces as identity
from safeslot.identity.interfaces import (
    BookingToMoveOut,
    OfficeClosingIn,
    OfficeOpeningIn,
    ProposalOut,
    StaffDep,
    proposal_out,
)
from safeslot.kit.http import JSON
from safeslot.scheduling import office_proposals
from safeslot.scheduling.office_changes import NewOffice, bookings_to_move, open_office_by_slug

router = APIRouter(prefix="/api/v1", tags=["office administration"])


@router.post("/office-openings", status_code=202, response_model=ProposalOut,
             summary="Propose a new office (a second administrator approves it)")
def propose_opening(body: OfficeOpeningIn, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                    now: NowDep) -> Response:
    ctx = identity.context_for(request.app.state.settings, ring)
    proposal = office_proposals.propose_opening(session, ctx, staff.id, NewOffice(**body.model_dump()), now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.get("/offices/{office}/bookings-to-move", response_model=list[BookingToMoveOut],
            summary="The visits still to come that closing the office must list (ids, no names)")
def list_bookings_to_move(office: str, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    found = bookings_to_move(session, open_office_by_slug(session, office), now)
    return JSON([BookingToMoveOut(id=b.id, starts_at=b.starts_at, service_id=b.service_id).model_dump(mode="json")
                 for b in found])


@router.post("/offices/{office}/closing", status_code=202, response_model=ProposalOut,
             summary="Propose closing an office, listing its visits still to come for moving")
def propose_closing(office: str, body: OfficeClosingIn, request: Request, staff: StaffDep, session: SessionDep,
                    ring: RingDep, now: NowDep) -> Response:
    ctx = identity.context_for(request.app.state.settings, ring)
    proposal = office_proposals.propose_closing(session, ctx, staff.id, office, body.move_bookings, now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)
