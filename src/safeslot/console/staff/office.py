"""A supervisor's office page and the forms that change it: services (and their words in each page
language), staff, weekly hours and closures, for their own office only.

Every change goes through the scheduling service (the same rules as the API). Bad input
re-renders the page with a message next to each field, before anything is written; after a
change the scheduling service re-opens the office's slots (``reopen_slots``), so the change
applies to every bookable day at once. The page also lists the visits a staff change left
without anyone to serve them, with what the supervisor needs to call each person (a recorded read).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from safeslot.console import i18n
from safeslot.console.i18n import N_
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import StaffRoute, page, staff_office
from safeslot.deps import NowDep, SessionDep
from safeslot.identity.guard import StaffDep
from safeslot.identity.service import Principal
from safeslot.kit.errors import InvalidInput
from safeslot.privacy import service as privacy
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.errors import ClosureTaken, HoursOverlap
from safeslot.scheduling.interfaces import Office, Service, Staff, has_service, office_setup, staff_member
from safeslot.scheduling.schemas import ClosureIn, HoursIn, ServiceIn, ServiceText, StaffIn

M = TypeVar("M", bound=BaseModel)
router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

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



# -- the office at a glance ---------------------------------------------------------------------
@router.get("/office")
def officepage(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    return page(request, "staff/office.html", office_context(request, staff, session, now))


def office_context(request: Request, staff: Principal, session: Session, now: dt.datetime) -> dict[str, Any]:
    """The supervisor's office page: hours, closures, services, staff (and the forms that change them)."""
    office = staff_office(session, staff)
    lang = language(request)
    tz = scheduling.zone(office.timezone)
    today = now.astimezone(tz).date()
    weekdays = [i18n.day_label(today + dt.timedelta(days=(w - today.weekday()) % 7), lang).split(",")[0]
                for w in range(7)]
    services = scheduling.list_services(session, office)
    setup = office_setup(session, office, today)
    service_names = {s.slug: s.text_in(lang)[0] for s in services}
    return {
        "staff": staff, "title": N_("Office"), "office": office, "services": services,
        "members": [{"id": m.id, "name": m.display_name, "active": m.active,
                     "languages": [i18n.language_name(code, lang) for code in m.languages.split()],
                     "services": [service_names.get(slug, slug) for slug in m.services.split()]}
                    for m in setup.members],
        "hours": [{"id": h.id, "day": weekdays[h.weekday], "opens": h.opens, "closes": h.closes}
                  for h in setup.hours],
        "closures": [{"id": c.id, "day": i18n.day_label(c.day, lang), "reason": c.reason}
                     for c in setup.closures],
        "weekdays": weekdays, "form": {}, "other_languages": other_languages(lang),
        # visits a staff change left without anyone to serve them: the supervisor calls each person
        "to_contact": [{"code": p.code, "when": f"{i18n.day_label(p.starts_at.date(), lang)}, "
                                               f"{i18n.time_label(p.starts_at, tz, lang)}",
                        "service": service_names.get(p.service, p.service), "name": p.name,
                        "contact": p.contact.partition(":")[2] if p.contact else None}
                       for p in scheduling.people_to_contact(session, request.app.state.keyring, staff, office, now,
                                                             record_read=privacy.record_access)],
    }


def other_languages(lang: str) -> list[tuple[str, str]]:
    """The page languages besides English, each named in the page's language: where service names need words."""
    return [(code, i18n.language_name(code, lang)) for code in i18n.LANGUAGES if code != scheduling.BASE_LANGUAGE]


# -- the forms that change it ---------------------------------------------------------------------
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
    scheduling.reopen_slots(session, office, now)  # the change applies to every bookable day at once
    return see_other("/console/office?done=office")


def _refused(request: Request, staff: Principal, session: Session, now: dt.datetime,
             errors: dict[str, str], form: dict[str, Any]) -> Response:
    context = {**office_context(request, staff, session, now), "errors": errors, "form": form}
    return page(request, "staff/office.html", context, status=422)


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
    if data is not None and has_service(session, found, data.slug):
        errors["service_slug"] = N_("This office already has a service with that code. Choose another.")
    if errors or data is None:
        return _refused(request, staff, session, now, errors, form)
    scheduling.add_service(session, found, data.slug, data.name, data.description, data.duration_minutes)
    return _changed(session, found, now)


def _servicepage(request: Request, staff: Principal, office: Office, service: Service, form: dict[str, str],
                  errors: dict[str, str], *, status: int = 200) -> Response:
    context = {"staff": staff, "title": N_("Change a service"), "office": office, "service": service,
               "other_languages": other_languages(language(request)), "form": form, "errors": errors}
    return page(request, "staff/service.html", context, status=status)


@router.get("/office/{office}/services/{service_slug}")
def service_page(office: str, service_slug: str, request: Request, staff: StaffDep, session: SessionDep) -> Response:
    found = _supervised(session, staff, office)
    service = scheduling.get_service(session, found, service_slug)
    form: dict[str, str] = {}
    for t in service.translations:
        form[f"name_{t.language}"], form[f"description_{t.language}"] = t.name, t.description
    return _servicepage(request, staff, found, service, form, {})


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
        return _servicepage(request, staff, found, service, form, errors, status=422)
    for code, text in texts.items():
        scheduling.set_service_text(session, found, service.slug, code, text.name, text.description)
    return see_other("/console/office?done=office")


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


def _memberpage(request: Request, staff: Principal, session: Session, office: Office, member: Staff,
                 form: dict[str, Any], errors: dict[str, str], *, status: int = 200) -> Response:
    context = {"staff": staff, "title": N_("Change a staff member"), "office": office, "member": member,
               "services": scheduling.list_services(session, office), "form": form, "errors": errors}
    return page(request, "staff/member.html", context, status=status)


@router.get("/office/{office}/staff/{staff_id}")
def member_page(office: str, staff_id: int, request: Request, staff: StaffDep, session: SessionDep) -> Response:
    found = _supervised(session, staff, office)
    member = staff_member(session, found, staff_id)
    form = {"member_languages": member.languages, "member_services": member.services.split(),
            "member_active": member.active}
    return _memberpage(request, staff, session, found, member, form, {})


@router.post("/office/{office}/staff/{staff_id}")
def change_member(
    office: str, staff_id: int, request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
    member_languages: Annotated[str, Form()] = "", member_services: Annotated[list[str] | None, Form()] = None,
    member_active: Annotated[str, Form()] = "",
) -> Response:
    """Languages, services, and whether they still work here (capacity follows; bookings stay)."""
    found = _supervised(session, staff, office)
    member = staff_member(session, found, staff_id)
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
        return _memberpage(request, staff, session, found, member, form, errors, status=422)
    scheduling.update_staff(session, found, member.id, languages=data.languages, services=data.services,
                            active=active, now=now)  # their visits to come go to others where possible
    return _changed(session, found, now)
