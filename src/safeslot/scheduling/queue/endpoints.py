"""Queue HTTP API under /api/v1 (HTTP only: rules live in service.py, reads in views.py).

The public checks in and follows a ticket by its token (no account); clerks call
at their desk (their own office only); supervisors see the live board. Roles are
in identity/authz.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.config import QueueSettings
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity.interfaces import Principal, StaffDep
from safeslot.kit.http import JSON
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.endpoints import PROBLEMS, IdempotencyKey
from safeslot.scheduling.idempotency import request_hash, run_once
from safeslot.scheduling.models import Office
from safeslot.scheduling.queue import service, views
from safeslot.scheduling.queue.models import QueueTicket
from safeslot.scheduling.queue.schemas import (
    AppointmentCheckIn,
    CalledOut,
    DeskIn,
    DeskTicketOut,
    TicketAction,
    TicketOut,
    WalkInIn,
)

router = APIRouter(prefix="/api/v1", tags=["queue"])


# async: awaited in place, not sent to the thread pool (identity/guard.py, "dependencies for endpoints")
async def queue_settings(request: Request) -> QueueSettings:
    settings: QueueSettings = request.app.state.settings.queue
    return settings


QueueDep = Annotated[QueueSettings, Depends(queue_settings)]


def ticket_out(session: Session, ticket: QueueTicket, now: dt.datetime, settings: QueueSettings) -> TicketOut:
    status = views.ticket_status(session, ticket, now, settings)
    return TicketOut(
        token=ticket.token, number=status.label, kind=ticket.kind, status=ticket.status,
        service=status.service.slug, language=ticket.language, ahead=status.ahead,
        wait_min_minutes=status.estimate.low if status.estimate else None,
        wait_max_minutes=status.estimate.high if status.estimate else None,
        desk=ticket.desk if ticket.status == "called" else None, expired=status.expired,
        checked_in_at=ticket.checked_in_at,
    )


def _staff_office(session: Session, staff: Principal, slug: str) -> Office:
    return scheduling.office_in_scope(session, slug, staff)


def desk_ticket_out(session: Session, ticket: QueueTicket) -> DeskTicketOut:
    office = session.get(Office, ticket.office_id)
    assert office is not None
    services = {s.id: s.slug for s in scheduling.list_services(session, office)}
    return DeskTicketOut(id=ticket.id, number=service.label(ticket), kind=ticket.kind, status=ticket.status,
                         service=services.get(ticket.service_id, ""), language=ticket.language,
                         due_at=ticket.due_at, desk=ticket.desk)


@router.post("/offices/{office}/queue/tickets", status_code=201, response_model=TicketOut, responses=PROBLEMS)
def take_ticket(
    office: str, body: WalkInIn, session: SessionDep, ring: RingDep, now: NowDep, settings: QueueDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A walk-in takes a ticket: no account; keep the token, it is the only way back to the ticket.

    A retry with the same Idempotency-Key gets the same ticket (a double tap never takes two places)."""
    def _run() -> tuple[int, dict[str, Any]]:
        ticket = service.check_in_walk_in(session, ring, office, body.service, body.language, body.name, now,
                                          settings)
        return 201, ticket_out(session, ticket, now, settings).model_dump(mode="json")

    status, payload, replayed = run_once(session, "queue-ticket", idempotency_key,
                                         request_hash({**body.model_dump(mode="json"), "office": office}), now, _run)
    if replayed:  # the answer as it is now, not as it was then (the place in line has moved)
        payload = ticket_out(session, service.by_token(session, str(payload["token"])), now, settings).model_dump(
            mode="json")
    return JSON(payload, status_code=status, headers={"Idempotent-Replayed": "true"} if replayed else {})


@router.post("/offices/{office}/queue/check-ins", status_code=201, response_model=TicketOut, responses=PROBLEMS)
def check_in(office: str, body: AppointmentCheckIn, session: SessionDep, now: NowDep, settings: QueueDep) -> Response:
    """An appointment holder checks in with the confirmation code (within the early and late windows)."""
    ticket = service.check_in_appointment(session, office, body.code, now, settings)
    return JSON(ticket_out(session, ticket, now, settings).model_dump(mode="json"), status_code=201)


@router.get("/queue/tickets/{token}", response_model=TicketOut, responses=PROBLEMS)
def get_ticket(token: str, session: SessionDep, now: NowDep, settings: QueueDep) -> Response:
    """Where a ticket stands: place, estimated wait, or the desk to go to (what the ticket page polls)."""
    ticket = service.by_token(session, token)
    return JSON(ticket_out(session, ticket, now, settings).model_dump(mode="json"),
                headers={"Cache-Control": "no-store"})


@router.post("/queue/tickets/{token}/leave", response_model=TicketOut, responses=PROBLEMS)
def leave(token: str, session: SessionDep, now: NowDep, settings: QueueDep) -> Response:
    ticket = service.leave(session, token, now)
    return JSON(ticket_out(session, ticket, now, settings).model_dump(mode="json"))


@router.get("/offices/{office}/queue/display", response_model=list[CalledOut], responses=PROBLEMS)
def display(office: str, session: SessionDep, now: NowDep) -> Response:
    """The lobby display: ticket numbers and desks only, latest call first."""
    found = scheduling.get_office(session, office)
    return JSON([{"number": c.label, "desk": c.desk} for c in views.display(session, found, now)],
                headers={"Cache-Control": "no-store"})


@router.post("/offices/{office}/queue/clerk-check-ins", status_code=201, response_model=DeskTicketOut,
             responses=PROBLEMS)
def clerk_check_in(
    office: str, body: AppointmentCheckIn, session: SessionDep, now: NowDep, settings: QueueDep, staff: StaffDep
) -> Response:
    """A clerk checks an appointment holder in, any time on the day of the visit."""
    found = _staff_office(session, staff, office)
    scheduling.appointment_in_scope(session, body.code, staff)  # another office's code: as an unknown one
    ticket = service.check_in_appointment(session, found.slug, body.code, now, settings, by_clerk=True)
    return JSON(desk_ticket_out(session, ticket).model_dump(mode="json"), status_code=201)


@router.post("/offices/{office}/queue/call-next", response_model=DeskTicketOut,
             responses={**PROBLEMS, 204: {"description": "Nobody waits whom this desk may serve."}})
def call_next(
    office: str, body: DeskIn, session: SessionDep, now: NowDep, settings: QueueDep, staff: StaffDep
) -> Response:
    """Call the next ticket the staff member at this desk is qualified for (service, language)."""
    found = _staff_office(session, staff, office)
    ticket = service.call_next(session, found, body.staff_id, body.desk, now, settings)
    if ticket is None:
        return Response(status_code=204)
    return JSON(desk_ticket_out(session, ticket).model_dump(mode="json"))


@router.post("/offices/{office}/queue/tickets/{ticket_id}/actions", response_model=DeskTicketOut,
             responses=PROBLEMS)
def act(
    office: str, ticket_id: int, body: TicketAction, session: SessionDep, now: NowDep, staff: StaffDep
) -> Response:
    """At the desk: call again, done, no-show, or transfer to another service."""
    found = _staff_office(session, staff, office)
    if body.action == "recall":
        ticket = service.recall(session, found, ticket_id, body.staff_id, now)
    elif body.action == "transfer":
        if body.service is None:
            from safeslot.kit.errors import InvalidInput

            raise InvalidInput("A transfer names the service the person goes on to: give 'service'.")
        ticket = service.transfer(session, found, ticket_id, body.staff_id, body.service, now)
    else:
        ticket = service.finish(session, found, ticket_id, body.staff_id, body.action, now)
    return JSON(desk_ticket_out(session, ticket).model_dump(mode="json"))


@router.get("/offices/{office}/queue", responses=PROBLEMS)
def board(office: str, session: SessionDep, now: NowDep, settings: QueueDep, staff: StaffDep) -> Response:
    """The supervisor's live view: open tickets (numbers, never names), waits per service, today's counts."""
    found = _staff_office(session, staff, office)
    b = views.board(session, found, now, settings)
    return JSON({
        "open": [{"number": r.label, "kind": r.kind, "service": r.service.slug, "language": r.language,
                  "status": r.status, "waited_minutes": r.waited_minutes, "desk": r.desk} for r in b.rows],
        "services": [{"service": line.service.slug, "waiting": line.waiting, "wait_min_minutes": line.estimate.low,
                      "wait_max_minutes": line.estimate.high} for line in b.lines],
        "today": {"served": b.served, "noshows": b.noshows, "median_wait_minutes": b.median_wait,
                  "counts": [{"service_id": k[0], "kind": k[1], "language": k[2], "outcome": k[3],
                              "wait_band": k[4], "count": n} for k, n in sorted(b.counts.items())]},
    }, headers={"Cache-Control": "no-store"})
