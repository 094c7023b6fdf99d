"""The staff access log (DESIGN.md invariant 8) and the reads it records.

Every read of a person's data by staff goes through a function here that
writes one AccessRecord per record read (who, which, why, when) in the same
transaction as the read. Two alert rules flag unusual reads for auditors:

* ``bulk-read``: a clerk who has read more than 50 different people's records
  in one day (more than any office day needs);
* ``cross-office-name-search``: any search by name that is not limited to one
  office.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.identity.service import Principal, ensure_office
from safeslot.privacy import repository as repo
from safeslot.privacy.crypto import KeyRing
from safeslot.privacy.errors import UnknownPurpose
from safeslot.privacy.models import AccessAlert, AccessRecord
from safeslot.scheduling import repository as scheduling_repo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment

PURPOSES = ("front_desk", "check_in", "reminder", "disclosure_review", "subject_access", "audit")
BULK_LIMIT = 50


@dataclass(frozen=True)
class AppointmentView:
    """One appointment as staff see it, name and need decrypted."""

    code: str
    starts_at: dt.datetime
    status: str
    service_id: int
    office_id: int
    name: str
    language: str | None
    accommodation: str | None


def record_access(
    session: Session, staff: Principal, record_type: str, record_ids: Sequence[str | int], purpose: str,
    now: dt.datetime,
) -> list[AccessAlert]:
    """Write one access record per record read; returns the alerts this read raised."""
    if purpose not in PURPOSES:
        raise UnknownPurpose(f"Purpose must be one of: {', '.join(PURPOSES)}.")
    for record_id in record_ids:
        session.add(AccessRecord(staff_id=staff.id, record_type=record_type, record_id=str(record_id),
                                 purpose=purpose, at=now))
    session.flush()
    raised: list[AccessAlert] = []
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if (
        "clerk" in staff.roles
        and repo.distinct_records_read(session, staff.id, record_type, day_start) > BULK_LIMIT
        and not repo.alert_exists(session, staff.id, "bulk-read", day_start)
    ):
        detail = f"read more than {BULK_LIMIT} people's {record_type} records on {day_start.date()}"
        raised.append(_alert(session, staff, "bulk-read", detail, now))
    return raised


def _alert(session: Session, staff: Principal, rule: str, detail: str, now: dt.datetime) -> AccessAlert:
    alert = AccessAlert(staff_id=staff.id, rule=rule, detail=detail, at=now)
    session.add(alert)
    session.flush()
    return alert


def _view(ring: KeyRing, a: Appointment) -> AppointmentView:
    return AppointmentView(
        code=scheduling.format_code(a.code), starts_at=a.starts_at, status=a.status, service_id=a.service_id,
        office_id=a.office_id, name=ring.open(a.name_enc, "appointment.name"), language=a.language,
        accommodation=ring.open(a.accommodation_enc, "appointment.accommodation") if a.accommodation_enc else None,
    )


def office_day(
    session: Session, ring: KeyRing, staff: Principal, office_slug: str, day: dt.date, now: dt.datetime
) -> list[AppointmentView]:
    """A clerk's list of one local day at their own office, today or later; each person read is recorded."""
    office = scheduling.get_office(session, office_slug)
    ensure_office(staff, office.id)
    tz = scheduling.zone(office.timezone)
    today = now.astimezone(tz).date()
    if day < today:
        from safeslot.errors import InvalidInput

        raise InvalidInput("Clerks see today's and upcoming appointments only; ask an auditor for past ones.")
    start = dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).astimezone(dt.UTC)
    rows = scheduling_repo.appointments_between(session, office.id, start, end)
    record_access(session, staff, "appointment", [a.id for a in rows], "front_desk", now)
    return [_view(ring, a) for a in rows]


def search_by_name(
    session: Session, ring: KeyRing, staff: Principal, name: str, office_slug: str | None, purpose: str,
    now: dt.datetime,
) -> list[AppointmentView]:
    """Find appointments by a person's name through the blind index; a search across offices raises an alert."""
    office_id = None
    if office_slug is not None:
        office_id = scheduling.get_office(session, office_slug).id
    if "clerk" in staff.roles and "counsel" not in staff.roles:
        ensure_office(staff, office_id if office_id is not None else -1)
    rows = repo.appointments_by_name_index(session, ring.blind_index(name), office_id)
    if office_id is None:
        _alert(session, staff, "cross-office-name-search", "searched appointments by name across all offices", now)
    record_access(session, staff, "appointment", [a.id for a in rows], purpose, now)
    return [_view(ring, a) for a in rows]


def records(session: Session, start: dt.datetime, end: dt.datetime) -> Sequence[AccessRecord]:
    return repo.records_between(session, start, end)


def alerts(session: Session) -> Sequence[AccessAlert]:
    return repo.alerts(session)
