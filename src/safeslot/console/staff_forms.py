"""Staff console forms that change things: a clerk books on someone's behalf (nobody is turned
away); a supervisor adds services, staff, weekly hours and closures for their own office.

Every change goes through the scheduling service (the same rules as the public pages and the
API). Bad input re-renders the page with a message next to each field, before anything is
written; the supervisor's changes then regenerate the free times of the coming 8 weeks.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from safeslot.console import i18n
from safeslot.console.forms import BookingForm, parse_day
from safeslot.console.i18n import N_
from safeslot.console.pages import language
from safeslot.console.staff import (
    StaffRoute,
    _page,
    _see_other,
    office_context,
    other_languages,
)
from safeslot.db import SessionDep
from safeslot.deps import NowDep, RingDep
from safeslot.identity.guard import StaffDep
from safeslot.identity.service import Principal
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import repository as scheduling_repo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.errors import (
    ClosureTaken,
    HoursOverlap,
    InterpreterUnavailable,
    NoSuchSlot,
    SlotFull,
    TimeOutOfRange,
)
from safeslot.scheduling.models import Office, Service, Staff
from safeslot.scheduling.schemas import LANGUAGE_PATTERN, ClosureIn, HoursIn, ServiceIn, ServiceText, StaffIn

M = TypeVar("M", bound=BaseModel)
router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

SLOT_WEEKS = 8
TAKEN = {
    SlotFull: N_("Someone just took the last place at that time. Choose one of the nearest free times."),
    InterpreterUnavailable: N_(
        "No interpreter is free at that time. Choose one of the nearest times with an interpreter."
    ),
    NoSuchSlot: N_("No appointment starts at that time. Choose one of the nearest free times."),
    TimeOutOfRange: N_("Choose a time from today on, within the booking window."),
}
FIELD_MESSAGES = {
    "service_slug": N_("Use lowercase letters, digits and dashes, like renew-id."),
    "service_name": N_("Enter a name of at most 200 characters."),
    "service_description": N_("Enter a short description."),
    "service_minutes": N_("Enter minutes in steps of 15, from 15 to 240."),
    "member_name": N_("Enter a name of at most 200 characters."),
    "member_languages": N_("Enter language codes separated by spaces, like en es."),
    "member_services": N_("Choose at least one service from the list."),
    "hours_weekday": N_("Choose a day of the week."),
    "hours_opens": N_("Enter a time like 09:00."),
    "hours_closes": N_("Enter a time like 17:00."),
    "closure_day": N_("Enter a date like 2027-03-15 (year, month, day)."),
    "closure_reason": N_("Enter a reason of at most 200 characters."),
}


def _office(session: Session, staff: Principal) -> Office:
    office = session.get(Office, staff.office_id) if staff.office_id is not None else None
    if office is None:
        raise InvalidInput("Your account is not bound to an office; ask an administrator.")
    return office


# -- clerk: book on someone's behalf -------------------------------------------------------------
def _book_page(request: Request, staff: Principal, session: Session, now: dt.datetime, form: BookingForm,
               day_text: str, errors: dict[str, str], nearest: list[str] | None = None,
               status: int = 200) -> Response:
    office = _office(session, staff)
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
    return _page(request, "staff/book.html", context, status=status)


@router.get("/appointments/new")
def book_form(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    query = request.query_params
    form = BookingForm(office="", service=query.get("service", ""), start="", language=query.get("language", ""))
    errors: dict[str, str] = {}
    if form.language and not re.match(LANGUAGE_PATTERN, form.language):
        errors["language"] = N_("Choose a language from the list.")
        form.language = ""
    return _book_page(request, staff, session, now, form, query.get("day", ""), errors)


@router.post("/appointments/new")
def book(
    request: Request, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
    service: Annotated[str, Form()] = "", day: Annotated[str, Form()] = "", start: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "",
    accommodation: Annotated[str, Form()] = "", contact_kind: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "", reminders: Annotated[str, Form()] = "",
) -> Response:
    office = _office(session, staff)
    form = BookingForm(office=office.slug, service=service, start=start, language=language, name=name,
                       accommodation=accommodation, contact_kind=contact_kind, contact=contact,
                       reminders=bool(reminders))
    errors = form.validate()
    if errors:
        return _book_page(request, staff, session, now, form, day, errors, status=422)
    try:
        appointment = scheduling.book(session, ring, form.to_booking(), now)
    except (SlotFull, InterpreterUnavailable, NoSuchSlot, TimeOutOfRange) as exc:
        errors = {"start": TAKEN[type(exc)]}
        nearest = list(exc.extra.get("nearest", []))
        return _book_page(request, staff, session, now, form, day, errors, nearest, status=409)
    return _see_other(f"/console/appointments/{scheduling.format_code(appointment.code)}/booked")


@router.get("/appointments/{code}/booked")
def booked(code: str, request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """The code to read to the person; no name on the page (nothing personal is shown)."""
    appointment = scheduling.appointment_in_scope(session, code, staff)
    office = session.get(Office, appointment.office_id)
    assert office is not None  # the appointment's office (a foreign key)
    tz, lang = scheduling.zone(office.timezone), language(request)
    service = next((s.text_in(lang)[0] for s in scheduling.list_services(session, office)
                    if s.id == appointment.service_id), "")
    context = {"staff": staff, "title": N_("The appointment is booked"), "office": office,
               "code": scheduling.format_code(appointment.code), "service": service,
               "when": i18n.when_label(appointment.starts_at, tz, lang),
               "language": i18n.language_name(appointment.language, lang) if appointment.language else None}
    return _page(request, "staff/booked.html", context)


# -- supervisor: services, staff, hours, closures ------------------------------------------------
def _supervised(session: Session, staff: Principal, slug: str) -> Office:
    return scheduling.office_in_scope(session, slug, staff)  # a supervisor changes only their offices


def _validate(model: type[M], data: dict[str, Any], fields: dict[str, str],
                            errors: dict[str, str]) -> M | None:
    """The schema's rules; each failing field gets its translated message (``fields`` maps names)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for problem in exc.errors():
            field = fields[str(problem["loc"][0])]
            errors.setdefault(field, FIELD_MESSAGES[field])
        return None


def _changed(session: Session, office: Office, now: dt.datetime) -> Response:
    today = now.astimezone(scheduling.zone(office.timezone)).date()
    scheduling.generate_slots(session, office, today, today + dt.timedelta(weeks=SLOT_WEEKS))
    return _see_other("/console/office?done=office")


def _refused(request: Request, staff: Principal, session: Session, now: dt.datetime,
             errors: dict[str, str], form: dict[str, Any]) -> Response:
    context = {**office_context(request, staff, session, now), "errors": errors, "form": form}
    return _page(request, "staff/office.html", context, status=422)


@router.post("/office/{office}/services")
def add_service(
    office: str, request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
    service_slug: Annotated[str, Form()] = "", service_name: Annotated[str, Form()] = "",
    service_description: Annotated[str, Form()] = "", service_minutes: Annotated[str, Form()] = "",
) -> Response:
    found = _supervised(session, staff, office)
    form = {"service_slug": service_slug.strip(), "service_name": service_name.strip(),
            "service_description": service_description.strip(), "service_minutes": service_minutes.strip()}
    errors: dict[str, str] = {}
    data = _validate(ServiceIn, {"slug": form["service_slug"], "name": form["service_name"],
                                 "description": form["service_description"],
                                 "duration_minutes": form["service_minutes"] or None},
                     {"slug": "service_slug", "name": "service_name", "description": "service_description",
                      "duration_minutes": "service_minutes"}, errors)
    if data is not None and scheduling_repo.service_by_slug(session, found.id, data.slug) is not None:
        errors["service_slug"] = N_("This office already has a service with that code. Choose another.")
    if errors or data is None:
        return _refused(request, staff, session, now, errors, form)
    scheduling.add_service(session, found, data.slug, data.name, data.description, data.duration_minutes)
    return _changed(session, found, now)


def _service_page(request: Request, staff: Principal, office: Office, service: Service, form: dict[str, str],
                  errors: dict[str, str], *, status: int = 200) -> Response:
    context = {"staff": staff, "title": N_("Change a service"), "office": office, "service": service,
               "other_languages": other_languages(language(request)), "form": form, "errors": errors}
    return _page(request, "staff/service.html", context, status=status)


@router.get("/office/{office}/services/{service_slug}")
def service_page(office: str, service_slug: str, request: Request, staff: StaffDep, session: SessionDep) -> Response:
    found = _supervised(session, staff, office)
    service = scheduling.get_service(session, found, service_slug)
    form: dict[str, str] = {}
    for t in service.translations:
        form[f"name_{t.language}"], form[f"description_{t.language}"] = t.name, t.description
    return _service_page(request, staff, found, service, form, {})


async def _posted(request: Request) -> FormData:
    """The whole posted form, for forms whose fields follow the page languages (name_es, …)."""
    return await request.form()


@router.post("/office/{office}/services/{service_slug}")
def change_service_text(
    office: str, service_slug: str, request: Request, staff: StaffDep, session: SessionDep,
    posted: Annotated[FormData, Depends(_posted)],
) -> Response:
    """The service's name and description in each page language besides English; both or neither."""
    found = _supervised(session, staff, office)
    service = scheduling.get_service(session, found, service_slug)
    codes = [code for code, _name in other_languages(language(request))]
    form = {f"{part}_{code}": str(posted.get(f"{part}_{code}", "")).strip()
            for code in codes for part in ("name", "description")}
    errors: dict[str, str] = {}
    texts: dict[str, ServiceText] = {}
    for code in codes:
        name, description = form[f"name_{code}"], form[f"description_{code}"]
        if not name and not description:
            continue
        try:
            texts[code] = ServiceText(name=name, description=description)
        except ValidationError as exc:
            for problem in exc.errors():
                field = f"{problem['loc'][0]}_{code}"
                errors[field] = (N_("Enter a name of at most 200 characters.") if field.startswith("name_")
                                 else N_("Enter a description of at most 2,000 characters."))
    if errors:
        return _service_page(request, staff, found, service, form, errors, status=422)
    for code, text in texts.items():
        scheduling.set_service_text(session, found, service.slug, code, text.name, text.description)
    return _see_other("/console/office?done=office")


@router.post("/office/{office}/staff")
def add_staff(
    office: str, request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
    member_name: Annotated[str, Form()] = "", member_languages: Annotated[str, Form()] = "",
    member_services: Annotated[list[str] | None, Form()] = None,
) -> Response:
    found = _supervised(session, staff, office)
    chosen = member_services or []
    form = {"member_name": member_name.strip(), "member_languages": member_languages.strip(),
            "member_services": chosen}
    errors: dict[str, str] = {}
    data = _validate(StaffIn, {"display_name": form["member_name"],
                               "languages": member_languages.replace(",", " ").split(), "services": chosen},
                     {"display_name": "member_name", "languages": "member_languages",
                      "services": "member_services"}, errors)
    known = {s.slug for s in scheduling.list_services(session, found)}
    if set(chosen) - known:
        errors["member_services"] = FIELD_MESSAGES["member_services"]
    if errors or data is None:
        return _refused(request, staff, session, now, errors, form)
    scheduling.add_staff(session, found, data.display_name, data.languages, data.services)
    return _changed(session, found, now)


@router.post("/office/{office}/hours")
def set_hours(
    office: str, request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
    hours_weekday: Annotated[str, Form()] = "", hours_opens: Annotated[str, Form()] = "",
    hours_closes: Annotated[str, Form()] = "",
) -> Response:
    found = _supervised(session, staff, office)
    form = {"hours_weekday": hours_weekday, "hours_opens": hours_opens.strip(), "hours_closes": hours_closes.strip()}
    errors: dict[str, str] = {}
    data = _validate(HoursIn, {"weekday": hours_weekday or None, "opens": form["hours_opens"] or None,
                               "closes": form["hours_closes"] or None},
                     {"weekday": "hours_weekday", "opens": "hours_opens", "closes": "hours_closes"}, errors)
    if data is not None and not data.opens < data.closes:
        errors["hours_closes"] = N_("The closing time must be after the opening time.")
    if errors or data is None:
        return _refused(request, staff, session, now, errors, form)
    try:
        with session.begin_nested():
            scheduling.set_hours(session, found, data.weekday, data.opens, data.closes)
    except HoursOverlap:
        errors["hours_opens"] = N_("The office is already open at some of that time on that day. "
                                   "Remove the other hours first, or choose hours that do not overlap.")
        return _refused(request, staff, session, now, errors, form)
    return _changed(session, found, now)


@router.post("/office/{office}/hours/{hours_id}/remove")
def remove_hours(office: str, hours_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    found = _supervised(session, staff, office)
    scheduling.remove_hours(session, found, hours_id)
    return _changed(session, found, now)


@router.post("/office/{office}/closures")
def add_closure(
    office: str, request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
    closure_day: Annotated[str, Form()] = "", closure_reason: Annotated[str, Form()] = "",
) -> Response:
    found = _supervised(session, staff, office)
    form = {"closure_day": closure_day.strip(), "closure_reason": closure_reason.strip()}
    errors: dict[str, str] = {}
    data = _validate(ClosureIn, {"day": form["closure_day"] or None, "reason": form["closure_reason"]},
                     {"day": "closure_day", "reason": "closure_reason"}, errors)
    if errors or data is None:
        return _refused(request, staff, session, now, errors, form)
    today = now.astimezone(scheduling.zone(found.timezone)).date()
    try:
        with session.begin_nested():
            scheduling.add_closure(session, found, data.day, data.reason, today)
    except ClosureTaken:
        errors["closure_day"] = N_("The office is already closed that day.")
    except InvalidInput:
        errors["closure_day"] = N_("That day is in the past. Give today or a later day.")
    if errors:
        return _refused(request, staff, session, now, errors, form)
    return _changed(session, found, now)


@router.post("/office/{office}/closures/{closure_id}/remove")
def remove_closure(office: str, closure_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    found = _supervised(session, staff, office)
    scheduling.remove_closure(session, found, closure_id)
    return _changed(session, found, now)


def _member_page(request: Request, staff: Principal, session: Session, office: Office, member: Staff,
                 form: dict[str, Any], errors: dict[str, str], *, status: int = 200) -> Response:
    context = {"staff": staff, "title": N_("Change a staff member"), "office": office, "member": member,
               "services": scheduling.list_services(session, office), "form": form, "errors": errors}
    return _page(request, "staff/member.html", context, status=status)


@router.get("/office/{office}/staff/{staff_id}")
def member_page(office: str, staff_id: int, request: Request, staff: StaffDep, session: SessionDep) -> Response:
    found = _supervised(session, staff, office)
    member = scheduling.office_item(session, Staff, staff_id, found, "staff member")
    form = {"member_languages": member.languages, "member_services": member.services.split(),
            "member_active": member.active}
    return _member_page(request, staff, session, found, member, form, {})


@router.post("/office/{office}/staff/{staff_id}")
def change_member(
    office: str, staff_id: int, request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
    member_languages: Annotated[str, Form()] = "", member_services: Annotated[list[str] | None, Form()] = None,
    member_active: Annotated[str, Form()] = "",
) -> Response:
    """Languages, services, and whether they still work here (capacity follows; bookings stay)."""
    found = _supervised(session, staff, office)
    member = scheduling.office_item(session, Staff, staff_id, found, "staff member")
    chosen = member_services or []
    active = member_active == "yes"  # an unticked box sends nothing
    form: dict[str, Any] = {"member_languages": member_languages.strip(), "member_services": chosen,
                            "member_active": active}
    errors: dict[str, str] = {}
    data = _validate(StaffIn, {"display_name": member.display_name,
                               "languages": member_languages.replace(",", " ").split(), "services": chosen},
                     {"display_name": "member_name", "languages": "member_languages",
                      "services": "member_services"}, errors)
    if set(chosen) - {s.slug for s in scheduling.list_services(session, found)}:
        errors["member_services"] = FIELD_MESSAGES["member_services"]
    if errors or data is None:
        return _member_page(request, staff, session, found, member, form, errors, status=422)
    scheduling.update_staff(session, found, member.id, languages=data.languages, services=data.services,
                            active=active, now=now)  # their visits to come go to others where possible
    return _changed(session, found, now)
