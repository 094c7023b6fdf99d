"""A clerk books on someone's behalf (at the counter or on the phone): nobody is turned away.

The same scheduling service and the same form rules as the public pages and the API; the page
ends on the code to read to the person, without their name.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.console import i18n
from safeslot.console.forms import BookingForm, parse_day
from safeslot.console.i18n import N_
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import StaffRoute, page, staff_office
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity.guard import StaffDep
from safeslot.identity.service import Principal
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.errors import InterpreterUnavailable, NoSuchSlot, SlotFull, TimeOutOfRange
from safeslot.scheduling.interfaces import appointment_place
from safeslot.scheduling.schemas import LANGUAGE_PATTERN

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

TAKEN = {
    SlotFull: N_("Someone just took the last place at that time. Choose one of the nearest free times."),
    InterpreterUnavailable: N_(
        "No interpreter is free at that time. Choose one of the nearest times with an interpreter."
    ),
    NoSuchSlot: N_("No appointment starts at that time. Choose one of the nearest free times."),
    TimeOutOfRange: N_("Choose a time from today on, within the booking window."),
}


def _bookpage(request: Request, staff: Principal, session: Session, now: dt.datetime, form: BookingForm,
               day_text: str, errors: dict[str, str], nearest: list[str] | None = None,
               status: int = 200) -> Response:
    office = staff_office(session, staff)
    tz, lang = scheduling.zone(office.timezone), language(request)
    services = scheduling.list_services(session, office)
    if not form.service and services:
        form.service = services[0].slug
    day = parse_day(day_text, "day", errors) or now.astimezone(tz).date()
    slots: list[dict[str, str]] = []
    if form.service and "day" not in errors:
        try:
            _, _, found = scheduling.search_slots(session, office.slug, form.service, day, day,
                                                  form.language or None, now)
            slots = [{"value": s.starts_at.astimezone(tz).isoformat(),
                      "label": i18n.time_label(s.starts_at, tz, lang)} for s in found]
        except (InvalidInput, TimeOutOfRange):
            errors.setdefault("day", N_("Choose a day from today on, within the booking window."))
    near = [{"value": v, "label": i18n.when_label(dt.datetime.fromisoformat(v), tz, lang)} for v in nearest or []]
    context = {
        "staff": staff, "title": N_("Book for someone"), "office": office, "services": services,
        "form": form, "day": day.isoformat(), "day_label": i18n.day_label(day, lang), "slots": slots,
        "nearest": near, "errors": errors,
        "languages": [{"code": c, "name": i18n.language_name(c, lang)}
                      for c in scheduling.office_languages(session, office)],
    }
    return page(request, "staff/book.html", context, status=status)


@router.get("/appointments/new")
def book_form(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    query = request.query_params
    form = BookingForm(office="", service=query.get("service", ""), start="", language=query.get("language", ""))
    errors: dict[str, str] = {}
    if form.language and not re.match(LANGUAGE_PATTERN, form.language):
        errors["language"] = N_("Choose a language from the list.")
        form.language = ""
    return _bookpage(request, staff, session, now, form, query.get("day", ""), errors)


@router.post("/appointments/new")
def book(
    request: Request, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
    service: Annotated[str, Form()] = "", day: Annotated[str, Form()] = "", start: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "",
    accommodation: Annotated[str, Form()] = "", contact_kind: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "", reminders: Annotated[str, Form()] = "",
) -> Response:
    office = staff_office(session, staff)
    form = BookingForm(office=office.slug, service=service, start=start, language=language, name=name,
                       accommodation=accommodation, contact_kind=contact_kind, contact=contact,
                       reminders=bool(reminders))
    errors = form.validate()
    if not errors:
        try:
            data = form.to_booking()
        except ValidationError:  # what the form's own checks let through and the API's model does not
            errors["name"] = N_("Check your answers and try again.")
    if errors:
        return _bookpage(request, staff, session, now, form, day, errors, status=422)
    try:
        appointment = scheduling.book(session, ring, data, now)
    except (SlotFull, InterpreterUnavailable, NoSuchSlot, TimeOutOfRange) as exc:
        errors = {"start": TAKEN[type(exc)]}
        nearest = list(exc.extra.get("nearest", []))
        return _bookpage(request, staff, session, now, form, day, errors, nearest, status=409)
    return see_other(f"/console/appointments/{scheduling.format_code(appointment.code)}/booked")


@router.get("/appointments/{code}/booked")
def booked(code: str, request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """The code to read to the person; no name on the page (nothing personal is shown)."""
    appointment = scheduling.appointment_in_scope(session, code, staff)  # else: as an unknown code
    office, _ = appointment_place(session, appointment)
    tz, lang = scheduling.zone(office.timezone), language(request)
    service = next((s.text_in(lang)[0] for s in scheduling.list_services(session, office)
                    if s.id == appointment.service_id), "")
    context = {"staff": staff, "title": N_("The appointment is booked"), "office": office,
               "code": scheduling.format_code(appointment.code), "service": service,
               "when": i18n.when_label(appointment.starts_at, tz, lang),
               "language": i18n.language_name(appointment.language, lang) if appointment.language else None}
    return page(request, "staff/booked.html", context)
