"""Staff reads of personal data (each one recorded) and the access log for auditors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from safeslot.db import SessionDep
from safeslot.deps import NowDep, RingDep
from safeslot.identity.guard import StaffDep
from safeslot.privacy import service
from safeslot.privacy.schemas import AccessRecordOut, AlertOut, NameSearchIn, StaffAppointmentOut
from safeslot.scheduling import service as scheduling

router = APIRouter(prefix="/api/v1", tags=["privacy"])



def _out(views: list[service.AppointmentView], tz_name: str | None = None) -> list[StaffAppointmentOut]:
    return [
        StaffAppointmentOut(
            code=v.code, starts_at=v.starts_at.astimezone(scheduling.zone(tz_name)) if tz_name else v.starts_at,
            status=v.status, name=v.name, language=v.language, accommodation=v.accommodation,
        )
        for v in views
    ]


@router.get("/offices/{office}/appointments", response_model=list[StaffAppointmentOut])
def office_appointments(
    office: str, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
    day: Annotated[dt.date | None, Query(description="Local day; default today")] = None,
) -> list[StaffAppointmentOut]:
    """A clerk's day at their own office, names decrypted; every person listed is recorded in the access log."""
    found = scheduling.get_office(session, office)
    local_day = day or now.astimezone(scheduling.zone(found.timezone)).date()
    return _out(service.office_day(session, ring, staff, office, local_day, now), found.timezone)


@router.post("/appointments/search", response_model=list[StaffAppointmentOut])
def search(body: NameSearchIn, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep) -> list[
        StaffAppointmentOut]:
    """Find a named person's appointments; recorded, and an alert when not limited to one office."""
    return _out(service.search_by_name(session, ring, staff, body.name, body.office, body.purpose, now))


@router.get("/access/records", response_model=list[AccessRecordOut])
def access_records(
    session: SessionDep,
    date_from: Annotated[dt.datetime, Query(alias="from")],
    date_to: Annotated[dt.datetime, Query(alias="to")],
) -> list[AccessRecordOut]:
    return [AccessRecordOut(staff_id=r.staff_id, record_type=r.record_type, record_id=r.record_id,
                            purpose=r.purpose, at=r.at)
            for r in service.records(session, _aware(date_from), _aware(date_to))]


@router.get("/access/alerts", response_model=list[AlertOut])
def access_alerts(session: SessionDep) -> list[AlertOut]:
    return [AlertOut(id=a.id, staff_id=a.staff_id, rule=a.rule, detail=a.detail, at=a.at)
            for a in service.alerts(session)]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
