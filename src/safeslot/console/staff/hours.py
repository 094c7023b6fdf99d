"""The supervisor's page for one staff member's working hours and days away.

Saving calls the same scheduling service as the API (``working_hours``): visits the person no
longer works for go to someone else who is free, the rest appear under "People to contact" on the
office page. Bad input re-renders the page with a message next to each field before anything is
written.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.console import i18n
from safeslot.console.i18n import N_
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import DONE, StaffRoute, page
from safeslot.deps import NowDep, SessionDep
from safeslot.identity.guard import StaffDep
from safeslot.identity.service import Principal
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.errors import HoursOverlap
from safeslot.scheduling.interfaces import Office

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

WINDOWS_PER_DAY = 2  # the page's rows per weekday (the API takes any number)
DONE.update({
    "hours": N_("The working hours are saved. Visits they no longer work for went to someone else who is free; "
                "any that no one could take are under People to contact on the office page."),
})
MESSAGES = {
    "time": N_("Enter a time like 09:00."),
    "order": N_("The start must be before the end."),
    "overlap": N_("Two windows of this day overlap; give each hour once."),
    "first_day": N_("Enter a date like 2027-03-15 (year, month, day)."),
    "last_day": N_("Enter the last day away, on or after the first, from today on."),
}


def _supervised(session: Session, staff: Principal, slug: str) -> Office:
    return scheduling.office_in_scope(session, slug, staff)  # a supervisor changes only their offices


def _context(request: Request, staff: Principal, session: Session, office: Office, staff_id: int,
             now: dt.datetime, form: dict[str, Any] | None, errors: dict[str, str]) -> dict[str, Any]:
    lang = language(request)
    today = now.astimezone(scheduling.zone(office.timezone)).date()
    found = scheduling.schedule(session, office, staff_id, today)
    weekdays = [i18n.day_label(today + dt.timedelta(days=(w - today.weekday()) % 7), lang).split(",")[0]
                for w in range(7)]
    if form is None:
        form = {"kind": "own" if found.own else "office"}
        seen: dict[int, int] = {}
        for weekday, opens, closes in found.windows:
            i = seen.get(weekday, 0)
            seen[weekday] = i + 1
            form[f"opens_{weekday}_{i}"], form[f"closes_{weekday}_{i}"] = f"{opens:%H:%M}", f"{closes:%H:%M}"
    return {
        "staff": staff, "title": N_("Working hours"), "office": office, "member": found.member, "form": form,
        "errors": errors, "weekdays": weekdays, "rows": range(WINDOWS_PER_DAY),
        "more": any(n > WINDOWS_PER_DAY for n in _per_day(found.windows).values()),
        "absences": [{"id": a.id, "first": i18n.day_label(a.first_day, lang), "last": i18n.day_label(a.last_day, lang)}
                     for a in found.absences],
    }


def _per_day(windows: tuple[tuple[int, dt.time, dt.time], ...]) -> dict[int, int]:
    count: dict[int, int] = {}
    for weekday, *_ in windows:
        count[weekday] = count.get(weekday, 0) + 1
    return count


@router.get("/office/{office}/staff/{staff_id}/hours")
def hours_page(office: str, staff_id: int, request: Request, staff: StaffDep, session: SessionDep,
               now: NowDep) -> Response:
    found = _supervised(session, staff, office)
    return page(request, "staff/member_hours.html", _context(request, staff, session, found, staff_id, now, None, {}))


def _time(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text) if text else None
    except ValueError:
        return None


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.post("/office/{office}/staff/{staff_id}/hours")
async def save_hours(office: str, staff_id: int, request: Request, staff: StaffDep, session: SessionDep,
                     now: NowDep) -> Response:
    """Office hours, or the windows given (an empty row: not that day); visits follow at once."""
    found = _supervised(session, staff, office)
    posted = await request.form()
    form: dict[str, Any] = {"kind": "own" if posted.get("kind") == "own" else "office"}
    errors: dict[str, str] = {}
    windows: list[tuple[int, dt.time, dt.time]] = []
    for weekday in range(7):
        for i in range(WINDOWS_PER_DAY):
            names = f"opens_{weekday}_{i}", f"closes_{weekday}_{i}"
            texts = [str(posted.get(n, "")).strip()[:8] for n in names]
            form[names[0]], form[names[1]] = texts
            if not any(texts) or form["kind"] != "own":
                continue
            opens, closes = _time(texts[0]), _time(texts[1])
            if opens is None or closes is None:
                errors[names[0] if opens is None else names[1]] = MESSAGES["time"]
            elif not opens < closes:
                errors[names[1]] = MESSAGES["order"]
            else:
                windows.append((weekday, opens, closes))
    if not errors:
        try:
            with session.begin_nested():
                scheduling.set_staff_hours(session, found, staff_id, windows if form["kind"] == "own" else None, now)
        except HoursOverlap:
            day = next(w for w, *_ in sorted(windows) if sum(1 for x, *_ in windows if x == w) > 1)
            errors[f"opens_{day}_0"] = MESSAGES["overlap"]
    if errors:
        context = _context(request, staff, session, found, staff_id, now, form, errors)
        return page(request, "staff/member_hours.html", context, status=422)
    return see_other(f"/console/office/{found.slug}/staff/{staff_id}/hours?done=hours")


@router.post("/office/{office}/staff/{staff_id}/absences")
def add_absence(
    office: str, staff_id: int, request: Request, staff: StaffDep, session: SessionDep, now: NowDep,
    first_day: Annotated[str, Form()] = "", last_day: Annotated[str, Form()] = "",
) -> Response:
    found = _supervised(session, staff, office)
    today = now.astimezone(scheduling.zone(found.timezone)).date()
    first, last = _day(first_day.strip()), _day(last_day.strip() or first_day.strip())
    errors: dict[str, str] = {}
    if first is None:
        errors["first_day"] = MESSAGES["first_day"]
    elif last is None or last < first or last < today:
        errors["last_day"] = MESSAGES["last_day"]
    else:
        try:
            with session.begin_nested():
                scheduling.add_absence(session, found, staff_id, first, last, today, now)
        except InvalidInput:
            errors["last_day"] = MESSAGES["last_day"]
    if errors:
        form = {"first_day": first_day[:10], "last_day": last_day[:10]}
        context = _context(request, staff, session, found, staff_id, now, None, errors)
        context["absence_form"] = form
        return page(request, "staff/member_hours.html", context, status=422)
    return see_other(f"/console/office/{found.slug}/staff/{staff_id}/hours?done=hours")


@router.post("/office/{office}/staff/{staff_id}/absences/{absence_id}/remove")
def remove_absence(office: str, staff_id: int, absence_id: int, staff: StaffDep, session: SessionDep) -> Response:
    found = _supervised(session, staff, office)
    scheduling.remove_absence(session, found, staff_id, absence_id)
    return see_other(f"/console/office/{found.slug}/staff/{staff_id}/hours?done=hours")
