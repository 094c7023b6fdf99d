"""Supervisor API: an office's services, staff (and each one's working hours and absences), weekly hours
and closures.

Services, staff, hours and closures are added with POST; hours and closures
are taken away with DELETE; a staff member's languages, services and whether
they still work there change with PATCH (former staff stay listed).

Only a supervisor whose scope holds *that* office may read or change them (the
authorization table lets supervisors in; ``office_in_scope`` answers any other
office exactly as one that does not exist, 404 ``office-not-found``). Admins
may not: they manage accounts and roles, and the office's staff list names
people, so it stays with the office's supervisor (docs/identity-and-privacy.md,
"Who manages an office").

Every change calls the scheduling service and then re-materialises the
office's slots (``generate_slots``) from today to the end of the booking
horizon, so a new service, staff member or opening window is bookable at once
and a closure takes that day's slots out of search. Bookings already made are
kept (capacity never drops below what is booked).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity.interfaces import Principal, StaffDep
from safeslot.scheduling import repository as repo
from safeslot.scheduling import service
from safeslot.scheduling.models import Office, Service, Staff
from safeslot.scheduling.schemas import (
    LANGUAGE_PATTERN,
    ClosureIn,
    HoursIn,
    Language,
    OfficeLocationIn,
    OfficeLocationOut,
    ServiceText,
    Slug,
    StaffIn,
    Strict,
)

router = APIRouter(prefix="/api/v1/offices/{office}", tags=["office administration"])


class ServiceIn(Strict):
    slug: Slug = Field(description="Short name used in URLs, e.g. `card`.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    minutes: int = Field(ge=15, le=240, multiple_of=15,
                         description="Duration, a multiple of 15 minutes, at most 4 hours.")
    translations: dict[Language, ServiceText] = Field(
        default_factory=dict, max_length=20, description="Name and description in other languages, e.g. es."
    )


class ServiceAdminOut(BaseModel):
    slug: str
    name: str
    description: str
    minutes: int
    translations: dict[str, ServiceText] = Field(default_factory=dict)


def _service_out(s: Service) -> ServiceAdminOut:
    return ServiceAdminOut(slug=s.slug, name=s.name, description=s.description, minutes=s.duration_minutes,
                           translations={t.language: ServiceText(name=t.name, description=t.description)
                                         for t in s.translations})


class StaffChange(Strict):
    """Only the fields given change."""

    languages: list[Language] | None = Field(default=None, min_length=1, max_length=20)
    services: list[Slug] | None = Field(default=None, min_length=1, max_length=50)
    active: bool | None = Field(default=None, description="false: no longer works here (bookings are kept).")


class StaffOut(BaseModel):
    id: int
    display_name: str
    languages: list[str]
    services: list[str]
    active: bool


class HoursOut(BaseModel):
    id: int
    weekday: int
    opens: dt.time
    closes: dt.time


class ClosureOut(BaseModel):
    id: int
    day: dt.date
    reason: str


def _own_office(session: Session, slug: str, staff: Principal) -> Office:
    return service.office_in_scope(session, slug, staff)


def _reopen(session: Session, office: Office, now: dt.datetime) -> None:
    service.reopen_slots(session, office, now)


@router.put("/location", response_model=OfficeLocationOut)
def set_location(office: str, body: OfficeLocationIn, staff: StaffDep, session: SessionDep) -> OfficeLocationOut:
    """Where the office is (WGS 84), so the public office finder can list it by distance."""
    found = _own_office(session, office, staff)
    service.set_location(session, found, body.latitude, body.longitude)
    return OfficeLocationOut(slug=found.slug, latitude=body.latitude, longitude=body.longitude)


@router.get("/services", response_model=list[ServiceAdminOut])
def list_services(office: str, staff: StaffDep, session: SessionDep) -> list[ServiceAdminOut]:
    found = _own_office(session, office, staff)
    return [_service_out(s) for s in service.list_services(session, found)]


@router.post("/services", status_code=201, response_model=ServiceAdminOut)
def add_service(office: str, body: ServiceIn, staff: StaffDep, session: SessionDep, now: NowDep) -> ServiceAdminOut:
    """A new service; it has slots once a staff member who serves it is added."""
    found = _own_office(session, office, staff)
    s = service.add_service(session, found, body.slug, body.name, body.description, body.minutes,
                            {lang: (text.name, text.description) for lang, text in body.translations.items()})
    _reopen(session, found, now)
    return _service_out(s)


@router.put("/services/{service_slug}/translations/{language}", response_model=ServiceAdminOut)
def set_service_text(
    office: str, service_slug: str, language: Annotated[str, Path(pattern=LANGUAGE_PATTERN, max_length=16)],
    body: ServiceText, staff: StaffDep, session: SessionDep,
) -> ServiceAdminOut:
    """The service's name and description in another language (shown on pages in that language)."""
    found = _own_office(session, office, staff)
    service.set_service_text(session, found, service_slug, language, body.name, body.description)
    return _service_out(service.get_service(session, found, service_slug))


def _staff_out(m: Staff) -> StaffOut:
    return StaffOut(id=m.id, display_name=m.display_name, languages=m.languages.split(),
                    services=m.services.split(), active=m.active)


@router.get("/staff", response_model=list[StaffOut])
def list_staff(office: str, staff: StaffDep, session: SessionDep) -> list[StaffOut]:
    found = _own_office(session, office, staff)
    return [_staff_out(m) for m in repo.all_staff(session, found.id)]


@router.post("/staff", status_code=201, response_model=StaffOut)
def add_staff(office: str, body: StaffIn, staff: StaffDep, session: SessionDep, now: NowDep) -> StaffOut:
    """A person serving at a desk; capacity of every service they serve grows by one."""
    found = _own_office(session, office, staff)
    member = service.add_staff(session, found, body.display_name, body.languages, body.services)
    _reopen(session, found, now)
    return _staff_out(member)


class StaffChangeOut(StaffOut):
    reassigned: int = Field(description="Visits to come now served or interpreted by someone else.")
    unassigned: int = Field(description="Visits to come that no one qualified is free for: "
                                        "GET …/unassigned lists them with the people to contact.")


@router.patch("/staff/{staff_id}", response_model=StaffChangeOut)
def change_staff(
    office: str, staff_id: int, body: StaffChange, staff: StaffDep, session: SessionDep, now: NowDep
) -> StaffChangeOut:
    """Change a staff member's languages or services, or mark them as no longer working here.

    Their visits still to come that they can no longer serve go to another qualified free person;
    the rest are counted in `unassigned` and listed by GET …/unassigned."""
    found = _own_office(session, office, staff)
    member, done = service.update_staff_and_reassign(
        session, found, staff_id, languages=body.languages, services=body.services, active=body.active, now=now
    )
    _reopen(session, found, now)
    return StaffChangeOut(**_staff_out(member).model_dump(), reassigned=len(done.moved),
                          unassigned=len(service.unassigned(session, found, now)))


class UnassignedOut(BaseModel):
    code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    service: str
    language: str | None
    name: str = Field(description="The person to contact.")
    contact: str | None = Field(description="Their phone or e-mail, when they gave one (for reminders).")


@router.get("/unassigned", response_model=list[UnassignedOut])
def list_unassigned(
    office: str, staff: StaffDep, session: SessionDep, now: NowDep, ring: RingDep, request: Request
) -> list[UnassignedOut]:
    """Visits still to come that no one can serve since a staff change: call or write to each person to
    move or cancel their visit. Shown to the office's supervisor only; each person read is access-logged."""
    found = _own_office(session, office, staff)
    return [UnassignedOut(code=p.code, starts_at=p.starts_at, ends_at=p.ends_at, service=p.service,
                          language=p.language, name=p.name, contact=p.contact)
            for p in service.people_to_contact(session, ring, staff, found, now,
                                               record_read=request.app.state.record_read)]


class StaffHoursIn(Strict):
    weekly: list[HoursIn] | None = Field(
        max_length=50, description="Their weekly windows (office local time); null: whenever the office is open; "
                                   "[]: no hours (they take no visits). Windows of one weekday may not overlap.")


class AbsenceIn(Strict):
    first_day: dt.date = Field(description="Office local date, the first day away.")
    last_day: dt.date = Field(description="Office local date, the last day away (the same day for one day).")


class AbsenceOut(BaseModel):
    id: int
    first_day: dt.date
    last_day: dt.date


class StaffHoursOut(BaseModel):
    staff_id: int
    weekly: list[HoursIn] | None = Field(description="null: they work whenever the office is open.")
    absences: list[AbsenceOut] = Field(description="Absences from today on.")


class ScheduleChangeOut(StaffHoursOut):
    reassigned: int = Field(description="Visits to come now served or interpreted by someone else.")
    unassigned: int = Field(description="Visits to come that no one qualified is free for: "
                                        "GET …/unassigned lists them with the people to contact.")


def _schedule_out(found: service.StaffSchedule) -> StaffHoursOut:
    return StaffHoursOut(
        staff_id=found.member.id,
        weekly=[HoursIn(weekday=w, opens=o, closes=c) for w, o, c in found.windows] if found.own else None,
        absences=[AbsenceOut(id=a.id, first_day=a.first_day, last_day=a.last_day) for a in found.absences])


def _today(office: Office, now: dt.datetime) -> dt.date:
    return now.astimezone(service.zone(office.timezone)).date()


@router.get("/staff/{staff_id}/hours", response_model=StaffHoursOut)
def get_staff_hours(office: str, staff_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> StaffHoursOut:
    """When a staff member works: the office's hours, or their own weekly windows; and their absences."""
    found = _own_office(session, office, staff)
    return _schedule_out(service.schedule(session, found, staff_id, _today(found, now)))


@router.put("/staff/{staff_id}/hours", response_model=ScheduleChangeOut)
def set_staff_hours(
    office: str, staff_id: int, body: StaffHoursIn, staff: StaffDep, session: SessionDep, now: NowDep
) -> ScheduleChangeOut:
    """Replace a staff member's weekly hours. Their visits to come outside the new hours go to another
    qualified person who is free then; the rest are counted in `unassigned` and listed by GET …/unassigned."""
    found = _own_office(session, office, staff)
    weekly = [(h.weekday, h.opens, h.closes) for h in body.weekly] if body.weekly is not None else None
    result, done = service.set_staff_hours(session, found, staff_id, weekly, now)
    return ScheduleChangeOut(**_schedule_out(result).model_dump(), reassigned=len(done.moved),
                             unassigned=len(service.unassigned(session, found, now)))


@router.post("/staff/{staff_id}/absences", status_code=201, response_model=ScheduleChangeOut)
def add_absence(
    office: str, staff_id: int, body: AbsenceIn, staff: StaffDep, session: SessionDep, now: NowDep
) -> ScheduleChangeOut:
    """Whole days a staff member does not work; their visits those days move or are listed, as for new hours."""
    found = _own_office(session, office, staff)
    today = _today(found, now)
    _, done = service.add_absence(session, found, staff_id, body.first_day, body.last_day, today, now)
    return ScheduleChangeOut(**_schedule_out(service.schedule(session, found, staff_id, today)).model_dump(),
                             reassigned=len(done.moved), unassigned=len(service.unassigned(session, found, now)))


@router.delete("/staff/{staff_id}/absences/{absence_id}", status_code=204)
def remove_absence(office: str, staff_id: int, absence_id: int, staff: StaffDep, session: SessionDep) -> Response:
    """They work those days after all (visits already moved stay with their new people)."""
    found = _own_office(session, office, staff)
    service.remove_absence(session, found, staff_id, absence_id)
    return Response(status_code=204)


@router.get("/hours", response_model=list[HoursOut])
def list_hours(office: str, staff: StaffDep, session: SessionDep) -> list[HoursOut]:
    found = _own_office(session, office, staff)
    return [HoursOut(id=h.id, weekday=h.weekday, opens=h.opens, closes=h.closes)
            for h in sorted(repo.hours(session, found.id), key=lambda h: (h.weekday, h.opens))]


@router.post("/hours", status_code=201, response_model=HoursOut)
def add_hours(office: str, body: HoursIn, staff: StaffDep, session: SessionDep, now: NowDep) -> HoursOut:
    """One more opening window on a weekday (e.g. Saturday 09:00-12:00); windows may not overlap."""
    found = _own_office(session, office, staff)
    row = service.set_hours(session, found, body.weekday, body.opens, body.closes)
    _reopen(session, found, now)
    return HoursOut(id=row.id, weekday=row.weekday, opens=row.opens, closes=row.closes)


@router.delete("/hours/{hours_id}", status_code=204)
def remove_hours(office: str, hours_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Take an opening window away: its free times leave search; appointments already booked are kept."""
    found = _own_office(session, office, staff)
    service.remove_hours(session, found, hours_id)
    _reopen(session, found, now)
    return Response(status_code=204)


@router.get("/closures", response_model=list[ClosureOut])
def list_closures(office: str, staff: StaffDep, session: SessionDep, now: NowDep) -> list[ClosureOut]:
    """Closures from today on."""
    found = _own_office(session, office, staff)
    today = now.astimezone(service.zone(found.timezone)).date()
    return [ClosureOut(id=c.id, day=c.day, reason=c.reason)
            for c in repo.closures(session, found.id, today, dt.date(9999, 12, 31))]


@router.post("/closures", status_code=201, response_model=ClosureOut)
def add_closure(office: str, body: ClosureIn, staff: StaffDep, session: SessionDep, now: NowDep) -> ClosureOut:
    """Close the office for a day: its slots leave search at once; appointments already booked are kept."""
    found = _own_office(session, office, staff)
    today = now.astimezone(service.zone(found.timezone)).date()
    row = service.add_closure(session, found, body.day, body.reason, today)
    return ClosureOut(id=row.id, day=row.day, reason=row.reason)


@router.delete("/closures/{closure_id}", status_code=204)
def remove_closure(office: str, closure_id: int, staff: StaffDep, session: SessionDep) -> Response:
    """Open a closed day again: its free times come back."""
    found = _own_office(session, office, staff)
    service.remove_closure(session, found, closure_id)
    return Response(status_code=204)
