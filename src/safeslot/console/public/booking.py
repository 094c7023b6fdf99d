"""Public booking pages (no account): book, confirm, look up, move and cancel by code, the calendar file.

Server-rendered HTML forms that POST and redirect (Post/Redirect/Get); they
work with JavaScript off. Rules live in the scheduling service; this module
only reads forms, calls the service and renders pages. Every POST checks a
signed double-submit CSRF token (console/csrf.py). Errors are pages in the
person's language, never a stack trace (pages.PageRoute).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.console import csrf, i18n, pages
from safeslot.console.forms import BookingForm, parse_code, parse_day, parse_start
from safeslot.console.i18n import N_
from safeslot.console.labels import label
from safeslot.console.pages import PageRoute, error_page, render, see_other
from safeslot.console.public import calendar, finder
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.kit.errors import DomainError
from safeslot.notifications import reminders as reminder_notices
from safeslot.scheduling import service
from safeslot.scheduling.errors import InterpreterUnavailable, NoSuchSlot, SlotFull, TimeOutOfRange
from safeslot.scheduling.interfaces import Appointment, Office, appointment_place

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["public pages"])


SEARCH_DAYS = 7
CONFLICT_MESSAGES: dict[type[DomainError], str] = {
    SlotFull: N_("Someone just took the last place at that time. Choose one of the nearest free times."),
    InterpreterUnavailable: N_(
        "No interpreter is free at that time. Choose one of the nearest times with an interpreter."
    ),
    NoSuchSlot: N_("No appointment starts at that time. Choose one of the nearest free times."),
    TimeOutOfRange: N_("That time cannot be booked. Choose a time in the coming weeks."),
}


# -- helpers -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    value: str  # local ISO time, as the service expects
    label: str
    id: str


@dataclass(frozen=True)
class Day:
    label: str
    choices: list[Choice]


def _group(slots: list[service.FreeSlot], office: Office, lang: str) -> list[Day]:
    tz = service.zone(office.timezone)
    days: dict[dt.date, list[Choice]] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        days.setdefault(local.date(), []).append(
            Choice(local.isoformat(), i18n.time_label(local, tz, lang), f"t-{local:%Y%m%d%H%M}")
        )
    return [Day(i18n.day_label(day, lang), choices) for day, choices in days.items()]


def _choices(isos: list[str], office: Office, lang: str) -> list[Choice]:
    tz = service.zone(office.timezone)
    out = []
    for iso in isos:
        local = dt.datetime.fromisoformat(iso).astimezone(tz)
        out.append(Choice(local.isoformat(), i18n.when_label(local, tz, lang), f"n-{local:%Y%m%d%H%M}"))
    return out


def _summary(session: Session, appointment: Appointment, lang: str) -> dict[str, Any]:
    office, svc = appointment_place(session, appointment)
    tz = service.zone(office.timezone)
    return {
        "code": service.format_code(appointment.code),
        "status": appointment.status,
        "status_label": label("appointment", appointment.status),  # FHIR Appointment.status
        "office": office,
        "service": svc,
        "when": i18n.when_label(appointment.starts_at, tz, lang),
        "interpreter": (
            i18n.language_name(appointment.language, lang)
            if appointment.language and _needs(appointment.language) else None
        ),
        "sequence": appointment.sequence,
    }


def _lang(request: Request) -> str:
    return pages.language(request)


def _needs(language: str | None) -> bool:
    return bool(language) and str(language).split("-")[0] != service.BASE_LANGUAGE


def _language_options(session: Session, office: Office, lang: str) -> list[dict[str, str]]:
    return [
        {"code": code, "name": i18n.language_name(code, lang)}
        for code in service.office_languages(session, office)
        if code != service.BASE_LANGUAGE
    ]


# -- find a time ---------------------------------------------------------------------------------
@router.get("/")
def home(request: Request, session: SessionDep, now: NowDep) -> Response:
    """Each open office's booking form, up to ``finder.HOME_FORMS`` offices; past that the finder alone and a link
    to the list of offices: a network's home page costs the same few statements whatever its size."""
    lang = _lang(request)
    open_offices = service.list_offices(session, open_only=True)
    many = len(open_offices) > finder.HOME_FORMS
    offices = [] if many else [finder.booking_item(session, office, lang, now) for office in open_offices]
    return render(request, "public/home.html", {"title": N_("Book an appointment"), "offices": offices,
                                                "many": many, "languages": finder.finder_languages(session, lang)})


@router.get("/book/slots")
def slots(request: Request, session: SessionDep, now: NowDep) -> Response:
    params = request.query_params
    office, service_slug, language = params.get("office", ""), params.get("service", ""), params.get("language", "")
    date_from, date_to = params.get("from", ""), params.get("to", "")
    lang = _lang(request)
    found = service.get_office(session, office)
    svc = service.get_service(session, found, service_slug)
    today = now.astimezone(service.zone(found.timezone)).date()
    errors: dict[str, str] = {}
    first = parse_day(date_from, "from", errors) or today
    last = parse_day(date_to, "to", errors) or first + dt.timedelta(days=SEARCH_DAYS - 1)
    if not errors and last < first:
        errors["to"] = N_("The last day must be on or after the first day.")
    if not errors and (last - first) > service.SEARCH_WINDOW:
        errors["to"] = N_("Search at most 62 days at a time.")
    interpreter = language if _needs(language) else ""
    days: list[Day] = []
    if not errors:
        _, _, free = service.search_slots(session, office, service_slug, first, last, interpreter or None, now)
        days = _group(free, found, lang)
    context = {
        "title": N_("Choose a time"),
        "office": found, "service": svc, "errors": errors, "days": days,
        "date_from": date_from or first.isoformat(), "date_to": date_to or last.isoformat(),
        "language": interpreter,
        "interpreter": i18n.language_name(interpreter, lang) if interpreter else None,
    }
    return render(request, "public/slots.html", context, status=422 if errors else 200)


# -- book ----------------------------------------------------------------------------------------
def _details_context(
    session: Session, request: Request, form: BookingForm, errors: dict[str, str], nearest: list[Choice] | None = None
) -> dict[str, Any]:
    lang = _lang(request)
    office = service.get_office(session, form.office)
    svc = service.get_service(session, office, form.service)
    start = parse_start(form.start)
    tz = service.zone(office.timezone)
    return {
        "title": N_("Your details"),
        "office": office, "service": svc, "form": form, "errors": errors, "nearest": nearest or [],
        "when": i18n.when_label(start, tz, lang) if start else None,
        "languages": _language_options(session, office, lang),
    }


@router.get("/book/details")
def details(request: Request, session: SessionDep) -> Response:
    p = request.query_params
    form = BookingForm(office=p.get("office", ""), service=p.get("service", ""), start=p.get("start", ""),
                       language=p.get("language", ""))
    errors: dict[str, str] = {}
    if parse_start(form.start) is None:
        errors["start"] = N_("Choose a time first.")
    return render(request, "public/details.html", _details_context(session, request, form, errors),
                  status=422 if errors else 200)


@router.post("/book")
def book(
    request: Request, session: SessionDep, now: NowDep, ring: RingDep,
    office: Annotated[str, Form()] = "", service_slug: Annotated[str, Form(alias="service")] = "",
    start: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "", accommodation: Annotated[str, Form()] = "",
    contact_kind: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "",
    reminders: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    form = BookingForm(office=office, service=service_slug, start=start, name=name, language=language,
                       accommodation=accommodation, contact_kind=contact_kind, contact=contact,
                       reminders=reminders == "yes")
    page_url = "/book/details?" + urlencode(
        {"office": office, "service": service_slug, "start": start, "language": language})
    if not csrf.request_ok(request, csrf_token):
        return error_page(request, "csrf", 403)
    errors = form.validate()
    if not errors:
        try:
            data = form.to_booking()
        except ValidationError:
            errors["name"] = N_("Check your answers and try again.")
    if errors:
        return render(request, "public/details.html", _details_context(session, request, form, errors),
                      status=422, page_url=page_url)
    try:
        with session.begin_nested():  # a failed booking takes nothing, and the page can still be drawn
            appointment = service.book(session, ring, data, now)
            if appointment.reminders_opt_in:  # reminders come in the language of this page
                reminder_notices.remember_language(session, appointment.id, _lang(request))
    except (SlotFull, InterpreterUnavailable, NoSuchSlot, TimeOutOfRange) as exc:
        found = service.get_office(session, office)
        nearest = _choices(list(exc.extra.get("nearest", [])), found, _lang(request))
        errors = {"start": CONFLICT_MESSAGES[type(exc)]}
        return render(request, "public/details.html", _details_context(session, request, form, errors, nearest),
                      status=409, page_url=page_url)
    return see_other(f"/booked/{service.format_code(appointment.code)}")


@router.get("/booked/{code}")
def confirmed(code: str, request: Request, session: SessionDep) -> Response:
    appointment = service.get_by_code(session, code)
    context = {"title": N_("Your appointment is booked"), **_summary(session, appointment, _lang(request))}
    return render(request, "public/confirmed.html", context)


# -- manage by code ------------------------------------------------------------------------------
@router.get("/manage")
def lookup_form(request: Request) -> Response:
    return render(request, "public/lookup.html", {"title": N_("Manage my appointment"), "code": ""})


@router.post("/manage")
def lookup(
    request: Request, session: SessionDep,
    code: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not csrf.request_ok(request, csrf_token):
        return error_page(request, "csrf", 403)
    errors: dict[str, str] = {}
    cleaned = parse_code(code, errors)
    if not errors:
        try:
            appointment = service.get_by_code(session, cleaned)
        except DomainError:
            errors["code"] = N_("We could not find an appointment with that code. Check it and try again.")
    if errors:
        return render(request, "public/lookup.html", {"title": N_("Manage my appointment"), "code": code,
                                               "errors": errors}, status=422, page_url="/manage")
    return see_other(f"/manage/{service.format_code(appointment.code)}")


_DONE = {"moved": N_("Your appointment has a new time."), "cancelled": N_("Your appointment is cancelled.")}


@router.get("/manage/{code}")
def manage(code: str, request: Request, session: SessionDep) -> Response:
    appointment = service.get_by_code(session, code)
    done = _DONE.get(request.query_params.get("done", ""))
    context = {"title": N_("Your appointment"), "done": done, **_summary(session, appointment, _lang(request))}
    return render(request, "public/manage.html", context)


@router.get("/manage/{code}/calendar.ics")
def calendar_file(code: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    appointment = service.get_by_code(session, code)
    office, svc = appointment_place(session, appointment)
    gettext = i18n.translations(_lang(request)).gettext
    entry = calendar.CalendarEntry(
        appointment_id=appointment.id, sequence=appointment.sequence, status=appointment.status,
        starts_at=appointment.starts_at, ends_at=appointment.ends_at, timezone=office.timezone,
        summary=f"{svc.text_in(_lang(request))[0]} · {office.name}", location=office.address,
        description=gettext("To change or cancel, use the code on your confirmation at the office website."),
        stamp=appointment.updated_at,
    )
    host = urlparse(request.app.state.settings.server.public_url).hostname or "safeslot.localhost"
    body = calendar.build(entry, secret=request.app.state.settings.secret_key, host=host)
    method = "CANCEL" if appointment.status == "cancelled" else "REQUEST"
    return Response(body, media_type=f"text/calendar; charset=utf-8; method={method}", headers={
        "Content-Disposition": 'attachment; filename="appointment.ics"', "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    })


@router.get("/manage/{code}/reschedule")
def reschedule_form(code: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    appointment = service.get_by_code(session, code)
    if appointment.status != "booked":
        return error_page(request, "invalid-transition", 409)
    return _reschedule_page(request, session, appointment, now, {}, [])


def _reschedule_page(
    request: Request, session: Session, appointment: Appointment, now: dt.datetime,
    errors: dict[str, str], nearest: list[Choice], status: int = 200, page_url: str | None = None,
) -> Response:
    lang = _lang(request)
    office, svc = appointment_place(session, appointment)
    today = now.astimezone(service.zone(office.timezone)).date()
    p = request.query_params
    first = parse_day(p.get("from", ""), "from", errors) or today
    last = parse_day(p.get("to", ""), "to", errors) or first + dt.timedelta(days=SEARCH_DAYS - 1)
    if not errors and not first <= last <= first + service.SEARCH_WINDOW:
        errors["to"] = N_("The last day must be on or after the first day, and at most 62 days later.")
    days: list[Day] = []
    if "from" not in errors and "to" not in errors:
        _, _, free = service.search_slots(session, office.slug, svc.slug, first, last, appointment.language, now)
        days = _group([s for s in free if s.starts_at != appointment.starts_at], office, lang)
    context = {
        "title": N_("Choose a new time"), "errors": errors, "days": days, "nearest": nearest,
        "date_from": first.isoformat(), "date_to": last.isoformat(), **_summary(session, appointment, lang),
    }
    return render(request, "public/reschedule.html", context, status=status if not errors or status != 200 else 422,
                  page_url=page_url)


@router.post("/manage/{code}/reschedule")
def reschedule(
    code: str, request: Request, session: SessionDep, now: NowDep, ring: RingDep,
    start: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not csrf.request_ok(request, csrf_token):
        return error_page(request, "csrf", 403)
    appointment = service.get_by_code(session, code)
    page_url = f"/manage/{service.format_code(appointment.code)}/reschedule"
    when = parse_start(start)
    if when is None:
        return _reschedule_page(request, session, appointment, now, {"start": N_("Choose a new time.")}, [],
                                status=422, page_url=page_url)
    try:
        with session.begin_nested():
            appointment = service.reschedule(session, ring, code, when, now)
    except (SlotFull, InterpreterUnavailable, NoSuchSlot, TimeOutOfRange) as exc:
        office, _ = appointment_place(session, appointment)
        nearest = _choices(list(exc.extra.get("nearest", [])), office, _lang(request))
        return _reschedule_page(request, session, appointment, now, {"start": CONFLICT_MESSAGES[type(exc)]},
                                nearest, status=409, page_url=page_url)
    return see_other(f"/manage/{service.format_code(appointment.code)}?done=moved")


@router.get("/manage/{code}/cancel")
def cancel_form(code: str, request: Request, session: SessionDep) -> Response:
    appointment = service.get_by_code(session, code)
    if appointment.status != "booked":
        return error_page(request, "invalid-transition", 409)
    context = {"title": N_("Cancel your appointment?"), **_summary(session, appointment, _lang(request))}
    return render(request, "public/cancel.html", context)


@router.post("/manage/{code}/cancel")
def cancel(
    code: str, request: Request, session: SessionDep, now: NowDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    if not csrf.request_ok(request, csrf_token):
        return error_page(request, "csrf", 403)
    appointment = service.cancel(session, code, now)
    return see_other(f"/manage/{service.format_code(appointment.code)}?done=cancelled")
