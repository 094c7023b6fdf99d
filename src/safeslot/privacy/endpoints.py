"""Staff reads of personal data (each one recorded) and the access log for auditors.

Counsel's search inside a disclosure request is disclosure's rule (the request, its names, its
state); ``setup`` takes it from the caller, so privacy never imports disclosure (disclosure reads
through privacy, not the other way round).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from sqlalchemy.orm import Session

from safeslot.config import AccessSettings, Settings
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity.interfaces import Principal, RoleRefused, StaffDep
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from safeslot.privacy import person, reads, service, statistics
from safeslot.privacy.schemas import (
    AccessRecordOut,
    AlertOut,
    CounselMatchOut,
    NameSearchIn,
    NetworkOfficeOut,
    NetworkReportOut,
    OfficeReportOut,
    ServiceVisitsOut,
    StaffAppointmentOut,
    StaffLookOut,
    StaffLooksIn,
)
from safeslot.scheduling import interfaces as scheduling

router = APIRouter(prefix="/api/v1", tags=["privacy"])

# Counsel's search by name inside disclosure request ``request_id`` (disclosure.search.within_request):
# (session, ring, staff, request_id, name, now) -> the matches, each read recorded.
CounselSearch = Callable[[Session, KeyRing, Principal, int | None, str, dt.datetime], list[reads.CounselMatch]]


def setup(app: FastAPI, settings: Settings, *, counsel_search: CounselSearch) -> None:
    app.state.counsel_search = counsel_search


def _limits(request: Request) -> AccessSettings:
    limits: AccessSettings = request.app.state.settings.access
    return limits


def _out(views: list[reads.AppointmentView], tz_name: str | None = None) -> list[StaffAppointmentOut]:
    return [
        StaffAppointmentOut(
            code=v.code, starts_at=v.starts_at.astimezone(scheduling.zone(tz_name)) if tz_name else v.starts_at,
            status=v.status, name=v.name, language=v.language, accommodation=v.accommodation,
        )
        for v in views
    ]


@router.get("/offices/{office}/appointments", response_model=list[StaffAppointmentOut])
def office_appointments(
    office: str, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
    day: Annotated[dt.date | None, Query(description="Local day: today (the default) or one of the next "
                                         "`access.clerk_days_ahead` days (14 unless set)")] = None,
) -> list[StaffAppointmentOut]:
    """A clerk's day at their own office, names decrypted; every person listed is recorded in the access log.
    An office outside the clerk's scope is answered as an unknown office (404) and raises an alert; a past
    day or a day past the window is refused (403) and raises an alert."""
    found = scheduling.get_office(session, office)
    local_day = day or now.astimezone(scheduling.zone(found.timezone)).date()
    return _out(reads.office_day(session, ring, staff, office, local_day, now, _limits(request)), found.timezone)


@router.post("/appointments/search", response_model=list[StaffAppointmentOut] | list[CounselMatchOut])
def search(body: NameSearchIn, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
           now: NowDep) -> list[StaffAppointmentOut] | list[CounselMatchOut]:
    """Find a named person's appointments, each one recorded in the access log.

    A clerk: their own office, today's and later appointments, with a `reason`. Counsel: only inside an
    open disclosure request (`request_id`), only the people it names, no confirmation codes. Anything
    else is refused (403) and raises an alert for auditors."""
    if body.request_id is not None or "clerk" not in staff.roles:
        if "counsel" not in staff.roles:
            raise RoleRefused("Only counsel searches inside a disclosure request; clerks search without request_id.")
        counsel_search: CounselSearch = request.app.state.counsel_search
        found = counsel_search(session, ring, staff, body.request_id, body.name, now)
        return [CounselMatchOut(appointment_id=m.appointment_id, subject_id=m.subject_id, office=m.office,
                                starts_at=m.starts_at, status=m.status, name=m.name, language=m.language,
                                accommodation=m.accommodation) for m in found]
    if body.reason is None:
        raise InvalidInput(f"Give the reason for this look-up (reason): one of {', '.join(reads.LOOKUP_REASONS)}.")
    return _out(reads.clerk_lookup(session, ring, staff, body.name, body.reason, body.office, now,
                                   _limits(request)))


@router.post("/access/lookup", response_model=list[StaffLookOut],
             summary="When staff looked at my appointment outside booking, check-in and the visit (code and name)")
def staff_looks(body: StaffLooksIn, session: SessionDep, ring: RingDep) -> list[StaffLookOut]:
    """The person's view of the staff access log (the same as on /records): role and office, never a
    staff member's name. A wrong code or name answers an empty list, like an appointment nobody looked at."""
    return [StaffLookOut(day=look.day, role=look.role, office=look.office, how=look.how,
                         reason=look.reason, times=look.times)
            for look in person.looks_at(session, ring, body.code, body.name)]


@router.get("/access/records", response_model=list[AccessRecordOut])
def access_records(
    session: SessionDep,
    date_from: Annotated[dt.datetime, Query(alias="from")],
    date_to: Annotated[dt.datetime, Query(alias="to")],
) -> list[AccessRecordOut]:
    return [AccessRecordOut(staff_id=r.staff_id, record_type=r.record_type, record_id=r.record_id,
                            purpose=r.purpose, at=r.at, role=r.role, office_id=r.office_id, reason=r.reason)
            for r in service.records(session, _aware(date_from), _aware(date_to))]


@router.get("/access/alerts", response_model=list[AlertOut])
def access_alerts(session: SessionDep) -> list[AlertOut]:
    return [AlertOut(id=a.id, staff_id=a.staff_id, rule=a.rule, detail=a.detail, at=a.at)
            for a in service.alerts(session)]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# -- office reports: counts of visits, for the offices of a supervisor's scope or the whole network ----------
MonthQuery = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (UTC month of the visit)")]


@router.get("/offices/{office}/report", response_model=OfficeReportOut)
def office_report(office: str, month: MonthQuery, staff: StaffDep, session: SessionDep) -> OfficeReportOut:
    """One office's visits of a month by service and status. A supervisor: an office of their scope (any
    other answers as an unknown office); the org auditor: any office. Counts only, no person."""
    found = (scheduling.get_office(session, office) if "auditor" in staff.roles
             else scheduling.office_in_scope(session, office, staff))
    figures = statistics.offices_month(session, month, [found.id]).get(found.id)
    slugs = {s.id: s.slug for s in scheduling.list_services(session, found)}
    by_service = [ServiceVisitsOut(service=slugs.get(sid, str(sid)), visits=dict(counts))
                  for sid, counts in sorted(figures.by_service.items())] if figures else []
    return OfficeReportOut(office=found.slug, month=month, total=figures.total if figures else 0,
                           by_status=figures.by_status() if figures else {}, by_service=by_service)


@router.get("/network/report", response_model=NetworkReportOut)
def network_report(month: MonthQuery, session: SessionDep) -> NetworkReportOut:
    """Every office's visits of a month (the org auditor): one row per office, counts only."""
    offices = scheduling.list_offices(session)
    # every office named: the month is read through the (office, start) index, never the whole table
    figures = statistics.offices_month(session, month, [o.id for o in offices])
    rows = [NetworkOfficeOut(office=o.slug, total=figures[o.id].total if o.id in figures else 0,
                             by_status=figures[o.id].by_status() if o.id in figures else {})
            for o in offices]
    return NetworkReportOut(month=month, total=sum(r.total for r in rows), offices=rows)
