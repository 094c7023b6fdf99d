"""Staff console for clerks: the office's day lists and name look-ups, within what the job needs.

The day list shows today and tomorrow (the front desk's work and its preparation); later days of
the window (``access.clerk_days_ahead``, default 14) one at a time. A look-up by name finds today's
and later appointments at the clerk's office, with a reason chosen from a list. Every person shown
is written to the access log by privacy/reads.py, which refuses anything beyond (with an alert for
auditors). There is no export: a page shows one or two days, or one name.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.console import i18n
from safeslot.console.i18n import N_
from safeslot.console.labels import label
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import StaffRoute, page, staff_office
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity.guard import StaffDep
from safeslot.identity.service import Principal
from safeslot.kit.errors import InvalidInput
from safeslot.privacy import reads
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.interfaces import Office
from safeslot.scheduling.queue import service as walk_in_queue

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

STATUS_ACTIONS = {"checked-in": N_("Check in"), "fulfilled": N_("Done"), "noshow": N_("No-show")}

# -- clerk: the office's appointments ------------------------------------------------------------
# Today and tomorrow by default: the front desk's work and its preparation. Later days of the
# window one at a time (privacy/reads.py refuses any day outside it, with an alert).
DEFAULT_DAYS = 2
LOOKUP_REASONS = {"at_counter": N_("The person is at the counter"), "phone_call": N_("The person phoned us"),
                  "check_in": N_("The person came for the visit without the code"),
                  "written_request": N_("The person asked in writing")}


def _rows(request: Request, session: Session, office: Office, views: list[reads.AppointmentView],
          now: dt.datetime) -> list[dict[str, Any]]:
    tz, lang = scheduling.zone(office.timezone), language(request)
    today = now.astimezone(tz).date()
    services = {s.id: s.text_in(lang)[0] for s in scheduling.list_services(session, office)}
    return [{"view": v, "time": i18n.time_label(v.starts_at, tz, lang), "service": services.get(v.service_id),
             "day": i18n.day_label(v.starts_at.astimezone(tz).date(), lang),
             "language": i18n.language_name(v.language, lang) if v.language else None,
             "status": label("appointment", v.status),
             "actions": _actions(v.status, v.starts_at, now, today=v.starts_at.astimezone(tz).date() == today)}
            for v in views]


def _appointments_context(request: Request, staff: Principal, office: Office, now: dt.datetime) -> dict[str, Any]:
    lang = language(request)
    window = reads.clerk_days(office, now, request.app.state.settings.access)
    return {"staff": staff, "title": N_("Appointments"), "office": office, "days": [],
            "window": [{"iso": d.isoformat(), "label": i18n.day_label(d, lang)} for d in window],
            "reasons": LOOKUP_REASONS, "lookup": None, "form": {}}


@router.get("/appointments")
def appointments(request: Request, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
                 day: str | None = None) -> Response:
    office = staff_office(session, staff)
    limits = request.app.state.settings.access
    context = _appointments_context(request, staff, office, now)
    window = reads.clerk_days(office, now, limits)
    if day:
        try:
            chosen = [dt.date.fromisoformat(day)]
        except ValueError:
            raise InvalidInput(N_("Choose a day from the list.")) from None
    else:
        chosen = window[:DEFAULT_DAYS]
    lang = language(request)
    for one in chosen:
        # Each person listed is written to the access log (purpose front_desk) by the privacy service.
        views = reads.office_day(session, ring, staff, office.slug, one, now, limits)
        context["days"].append({"label": i18n.day_label(one, lang), "today": one == window[0], "iso": one.isoformat(),
                                "rows": _rows(request, session, office, views, now)})
    context["shown"] = [d.isoformat() for d in chosen]
    return page(request, "staff/appointments.html", context)


@router.post("/appointments/lookup")
def lookup(request: Request, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
           name: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    """A name look-up: the clerk's own office, today and later, with a reason from the list; recorded."""
    office = staff_office(session, staff)
    context = _appointments_context(request, staff, office, now)
    context["form"] = {"name": name, "reason": reason}
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = N_("Enter the person's name as they gave it when they booked.")
    elif len(name) > 120:
        errors["name"] = N_("Enter at most 120 characters.")
    if reason not in LOOKUP_REASONS:
        errors["reason"] = N_("Choose why you look this person up.")
    if errors:
        return page(request, "staff/appointments.html", {**context, "errors": errors}, status=422)
    views = reads.clerk_lookup(session, ring, staff, name.strip(), reason, None, now,
                               request.app.state.settings.access)
    context["lookup"] = _rows(request, session, office, views, now)
    return page(request, "staff/appointments.html", context)


def _actions(status: str, starts_at: dt.datetime, now: dt.datetime, *, today: bool) -> list[tuple[str, str]]:
    """What the clerk may do now: check in on the day, a no-show once the time has passed, done after check-in."""
    if status == "booked":
        out = [("checked-in", STATUS_ACTIONS["checked-in"])] if today else []
        if now >= starts_at:
            out.append(("noshow", STATUS_ACTIONS["noshow"]))
        return out
    if status == "checked-in":
        return [("fulfilled", STATUS_ACTIONS["fulfilled"])]
    return []


@router.post("/appointments/{code}/status")
def set_status(request: Request, code: str, staff: StaffDep, session: SessionDep, now: NowDep,
               status: Annotated[str, Form()] = "") -> Response:
    if status not in STATUS_ACTIONS:
        raise InvalidInput(N_("Choose check in, done or no-show."))
    scheduling.appointment_in_scope(session, code, staff)  # another office's code answers as an unknown one
    # a check-in at the front desk also gives the person their place in the queue (scheduling/queue)
    walk_in_queue.front_desk_status(session, code, status, now, request.app.state.settings.queue)
    return see_other("/console/appointments?done=status")
