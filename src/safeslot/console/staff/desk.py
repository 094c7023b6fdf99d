"""The queue in the staff console: a clerk's desk (call next, recall, no-show, transfer, done, check in
by code) and the supervisor's live board with the day's counts.

Which desk and who sits at it ride in the address (``?staff=3&desk=Desk+2``), so a
desk is bookmarkable and nothing is stored about it. The staff member's services
and languages decide what "call next" may call (scheduling/staffing.py). Only the
clerk at the desk sees a walk-in's name (if one was given), and that read is
recorded in the access log (``queue.name_at_desk``, purpose front_desk).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from safeslot.console import i18n
from safeslot.console.forms import parse_code
from safeslot.console.i18n import N_
from safeslot.console.labels import label
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import StaffRoute, page, staff_office
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity.guard import StaffDep
from safeslot.kit.errors import InvalidInput
from safeslot.privacy import service as privacy
from safeslot.scheduling import service as scheduling
from safeslot.scheduling import staffing
from safeslot.scheduling.queue import rules, views
from safeslot.scheduling.queue import service as queue

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

ACTIONS = ("recall", "done", "noshow", "transfer")


def _desk_url(staff_id: int, desk: str, done: str | None = None) -> str:
    params = {"staff": str(staff_id), "desk": desk}
    if done:
        params["done"] = done
    return f"/console/queue?{urlencode(params)}"


def _language(code: str | None, lang: str) -> str | None:
    return i18n.language_name(code, lang) if code else None


@router.get("/queue")
def desk(request: Request, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    office = staff_office(session, staff)
    members = staffing.active_staff(session, office)
    services = {s.id: s for s in scheduling.list_services(session, office)}
    context: dict[str, Any] = {"staff": staff, "title": N_("Queue"), "office": office, "members": members,
                               "services": list(services.values()), "lang_name": _language}
    staff_id = request.query_params.get("staff", "")
    desk_name = request.query_params.get("desk", "")
    member = next((m for m in members if str(m.id) == staff_id), None)
    if member is None or not desk_name.strip():
        context.update(choosing=True, desk_name=desk_name)
        return page(request, "staff/desk.html", context)
    current = queue.at_desk(session, office, member.id, now)
    name = (queue.name_at_desk(session, ring, staff, current, now, record_read=privacy.record_access)
            if current is not None else None)  # recorded
    tickets = views.waiting(session, office, now)
    waiting = [(queue.label(t), t) for t in tickets]
    can_serve = queue.desk_of(session, office, member)
    uncovered = queue.uncovered(session, office, tickets)
    context.update(
        choosing=False, member=member, desk_name=queue.desk_label(desk_name), current=current, name=name,
        current_label=queue.label(current) if current is not None else None,
        code=queue.appointment_code(session, current) if current is not None else None,
        waiting=[{"label": shown, "ticket": t, "service": services.get(t.service_id),
                  "mine": rules.can_call(can_serve, queue.as_waiting(t), uncovered),
                  "waited": int((now - t.checked_in_at).total_seconds() // 60)} for shown, t in waiting],
    )
    return page(request, "staff/desk.html", context)


@router.post("/queue/call-next")
def call_next(request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
              staff_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
              desk: Annotated[str, Form(max_length=64)]) -> Response:
    office = staff_office(session, staff)
    ticket = queue.call_next(session, office, staff_id, desk, now, request.app.state.settings.queue)
    return see_other(_desk_url(staff_id, queue.desk_label(desk), "called" if ticket else "nobody"))


@router.post("/queue/tickets/{ticket_id}")
def act(ticket_id: int, staff: StaffDep, session: SessionDep, now: NowDep,
        staff_id: Annotated[int, Form(ge=1, le=2**31 - 1)], desk: Annotated[str, Form(max_length=64)],
        action: Annotated[str, Form(max_length=16)], service: Annotated[str, Form(max_length=64)] = "") -> Response:
    office = staff_office(session, staff)
    if action not in ACTIONS:
        raise InvalidInput(N_("Choose call again, done, no-show or transfer."))
    if action == "recall":
        queue.recall(session, office, ticket_id, staff_id, now)
        done = "recall"
    elif action == "transfer":
        if not service:
            raise InvalidInput(N_("Choose the service to send the person to."))
        queue.transfer(session, office, ticket_id, staff_id, service, now)
        done = "transferred"
    else:
        queue.finish(session, office, ticket_id, staff_id, action, now)
        done = "finished"
    return see_other(_desk_url(staff_id, queue.desk_label(desk), done))


@router.post("/queue/check-in")
def check_in(request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
             staff_id: Annotated[int, Form(ge=1, le=2**31 - 1)], desk: Annotated[str, Form(max_length=64)],
             code: Annotated[str, Form(max_length=40)] = "") -> Response:
    office = staff_office(session, staff)
    errors: dict[str, str] = {}
    cleaned = parse_code(code, errors)
    if errors:
        raise InvalidInput(N_("The code has 10 letters and numbers. Check it and try again."))
    queue.check_in_appointment(session, office.slug, cleaned, now, request.app.state.settings.queue, by_clerk=True)
    return see_other(_desk_url(staff_id, queue.desk_label(desk), "checked-in"))


@router.get("/board")
def board(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    office = staff_office(session, staff)
    lang = language(request)
    b = views.board(session, office, now, request.app.state.settings.queue)
    services = {s.id: s for s in scheduling.list_services(session, office)}
    counts = [{"service": services[k[0]].text_in(lang)[0] if k[0] in services else "",
               "kind": label("ticket_kind", k[1]),
               "language": _language(k[2], lang) or "", "outcome": label("ticket_outcome", k[3]),
               "band": k[4], "count": n} for k, n in sorted(b.counts.items())]
    return page(request, "staff/board.html", {
        "staff": staff, "title": N_("Queue board"), "office": office, "board": b, "counts": counts,
        "lang_name": _language,
        "refresh": request.app.state.settings.queue.refresh_seconds,
    })
