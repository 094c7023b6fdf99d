"""Staff reads of people's appointments, limited to what each job needs (invariant "staff see what their work needs").

* A clerk reads their own office only: the day list of today and of the next
  ``access.clerk_days_ahead`` days (default 14); name look-ups find today's and
  later appointments, never past visits, and each one records a reason from
  ``LOOKUP_REASONS``. There is no export: every answer is one day or one name.
* Counsel reads by name only inside an open disclosure request
  (disclosure/search.py checks the request and calls ``review_lookup``).

Every read is written to the access log (privacy/service.record_access). A read
beyond the job is refused and raises an alert in the same stroke (the refusal
keeps its alert: ReadRefused is a `kit.errors.Recorded` error). The rules, one alert each:

=====================  ==========================================================
rule                   raised when
=====================  ==========================================================
outside-clerk-window   a clerk asks for a day before today or past the window
other-office-read      a clerk asks for another office's day or names
many-name-lookups      a clerk makes more than ``name_lookups_alert`` name look-ups
                       in a day
check-in-lookup-not-   a clerk looks a person up "to check them in" who has no visit
today                  today (the reason does not fit the look-up)
name-lookup-future-    a clerk's name look-up shows a visit on a later day: when a
visit                  named person will come is what must never leave quietly
bulk-read              a clerk reads more than ``bulk_people_alert`` different
                       people in a day (an ordinary 60-person day stays far below)
search-outside-request counsel searches names without an open request it may read,
                       or a name the request does not name (disclosure/search.py)
registrar-read-matches the registrar of a disclosure request asks for its matches
                       (disclosure/acceptance.py)
=====================  ==========================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy.orm import Session

from safeslot.config import AccessSettings
from safeslot.identity.interfaces import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import DomainError, InvalidInput
from safeslot.privacy import repository as repo
from safeslot.privacy.errors import OfficeOutOfScope, OutsideClerkWindow
from safeslot.privacy.service import alert, record_access
from safeslot.scheduling import interfaces as scheduling
from safeslot.scheduling.interfaces import Appointment, Office

# Why a clerk looks a person up by name: the person is at the counter, on the phone, arriving
# for their visit without their code, or asked in writing (a letter or a form).
LOOKUP_REASONS = ("at_counter", "phone_call", "check_in", "written_request")


@dataclass(frozen=True)
class AppointmentView:
    """One appointment as staff see it, name and need decrypted."""

    id: int
    code: str
    starts_at: dt.datetime
    status: str
    service_id: int
    office_id: int
    name: str
    language: str | None
    accommodation: str | None


@dataclass(frozen=True)
class CounselMatch:
    """One appointment as counsel sees it inside a request: no confirmation code."""

    appointment_id: int
    subject_id: int
    office: str
    starts_at: dt.datetime
    status: str
    name: str
    language: str | None
    accommodation: str | None


def _view(ring: KeyRing, a: Appointment) -> AppointmentView:
    return AppointmentView(
        id=a.id, code=scheduling.format_code(a.code), starts_at=a.starts_at, status=a.status,
        service_id=a.service_id, office_id=a.office_id, name=ring.open(a.name_enc, "appointment.name"),
        language=a.language,
        accommodation=ring.open(a.accommodation_enc, "appointment.accommodation") if a.accommodation_enc else None,
    )


def refuse(session: Session, staff: Principal, rule: str, detail: str, error: DomainError,
           now: dt.datetime) -> NoReturn:
    """Raise an alert for auditors, then refuse; the alert is committed with the refusal."""
    alert(session, staff, rule, detail, now)
    raise error


def _day_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _local_midnight(day: dt.date, office: Office) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), scheduling.zone(office.timezone)).astimezone(dt.UTC)


def _own_office(session: Session, staff: Principal, office_slug: str | None, now: dt.datetime) -> Office:
    """An office in the clerk's scope (identity/scopes.py), by default the one their pages open on.
    Asking for another office raises an alert and is answered exactly as an unknown office."""
    if staff.office_id is None:
        raise InvalidInput("Your account is not bound to an office; ask an administrator.")
    office = scheduling.get_office(session, office_slug) if office_slug is not None else None
    if office is not None and not staff.covers(office.id):
        refuse(session, staff, "other-office-read", f"asked to read appointments of office {office.slug}",
               OfficeOutOfScope(scheduling.unknown_office(office.slug)), now)
    own = office or scheduling.office_by_id(session, staff.office_id)
    if own is None:
        raise InvalidInput("Your account is not bound to an office; ask an administrator.")
    return own


def clerk_days(office: Office, now: dt.datetime, limits: AccessSettings) -> list[dt.date]:
    """The days a clerk may list: today (office time) and the next `clerk_days_ahead`."""
    today = now.astimezone(scheduling.zone(office.timezone)).date()
    return [today + dt.timedelta(days=n) for n in range(limits.clerk_days_ahead + 1)]


def office_day(
    session: Session, ring: KeyRing, staff: Principal, office_slug: str, day: dt.date, now: dt.datetime,
    limits: AccessSettings,
) -> list[AppointmentView]:
    """A clerk's list of one local day at their own office, within the window; each person read is recorded."""
    office = _own_office(session, staff, office_slug, now)
    days = clerk_days(office, now, limits)
    if day < days[0] or day > days[-1]:
        when = "before today" if day < days[0] else f"{(day - days[0]).days} days ahead"
        refuse(session, staff, "outside-clerk-window", f"asked for the day list of {day.isoformat()} ({when})",
               OutsideClerkWindow(
                   f"Clerks see the list of today and of the next {limits.clerk_days_ahead} days only "
                   f"({days[0].isoformat()} to {days[-1].isoformat()}). Past visits are not a clerk's work."),
               now)
    rows = scheduling.appointments_between(session, office.id, _local_midnight(day, office),
                                                _local_midnight(day + dt.timedelta(days=1), office))
    record_access(session, staff, "appointment", [a.id for a in rows], "front_desk", now,
                  role="clerk", office_id=office.id)
    _bulk_rule(session, staff, now, limits)
    return [_view(ring, a) for a in rows]


def clerk_lookup(
    session: Session, ring: KeyRing, staff: Principal, name: str, reason: str, office_slug: str | None,
    now: dt.datetime, limits: AccessSettings,
) -> list[AppointmentView]:
    """A clerk's look-up of one person by name in their own office: today's and later appointments only.

    The look-up itself is recorded (record type ``name_lookup``, its record id the number of
    appointments found) with its reason, and so is each appointment it shows."""
    if reason not in LOOKUP_REASONS:
        raise InvalidInput(f"Give the reason for this look-up, one of: {', '.join(LOOKUP_REASONS)}.")
    office = _own_office(session, staff, office_slug, now)
    start = _local_midnight(clerk_days(office, now, limits)[0], office)
    rows = scheduling.appointments_by_name_index(session, ring.blind_index(name), office.id, start)
    record_access(session, staff, "name_lookup", [len(rows)], "name_lookup", now, role="clerk",
                  office_id=office.id, reason=reason)
    record_access(session, staff, "appointment", [a.id for a in rows], "name_lookup", now, role="clerk",
                  office_id=office.id, reason=reason)
    tomorrow = _local_midnight(clerk_days(office, now, limits)[0] + dt.timedelta(days=1), office)
    if reason == "check_in" and not any(a.starts_at < tomorrow for a in rows):
        # Checking in is for a visit today: a "check-in" look-up that finds none is a reason that does not fit.
        alert(session, staff, "check-in-lookup-not-today",
              f"looked a person up by name to check them in on {now.date()}, but they have no visit that day", now)
    if any(a.starts_at >= tomorrow for a in rows):
        # The harm this office guards against is one person telling another when a named person will
        # come. A look-up that shows a later day stays allowed (someone phoning about their visit), but
        # an auditor sees each one; a look-up for today's visit at the counter raises none.
        alert(session, staff, "name-lookup-future-visit",
              f"looked a person up by name on {now.date()} and was shown a visit on a later day", now)
    since = _day_start(now)
    if (repo.records_of_type(session, staff.id, "name_lookup", since) > limits.name_lookups_alert
            and not repo.alert_exists(session, staff.id, "many-name-lookups", since)):
        alert(session, staff, "many-name-lookups",
              f"made more than {limits.name_lookups_alert} name look-ups on {since.date()}", now)
    _bulk_rule(session, staff, now, limits)
    return [_view(ring, a) for a in rows]


def _bulk_rule(session: Session, staff: Principal, now: dt.datetime, limits: AccessSettings) -> None:
    since = _day_start(now)
    if (repo.distinct_records_read(session, staff.id, "appointment", since) > limits.bulk_people_alert
            and not repo.alert_exists(session, staff.id, "bulk-read", since)):
        alert(session, staff, "bulk-read",
              f"read more than {limits.bulk_people_alert} people's appointment records on {since.date()}", now)


def review_lookup(
    session: Session, ring: KeyRing, staff: Principal, name_index: str, office_slug: str | None,
    start: dt.datetime | None, end: dt.datetime | None, request_id: int, now: dt.datetime,
) -> list[AppointmentView]:
    """Counsel's look-up of one person named by a disclosure request, within the request's office and
    dates (disclosure/search.py has checked the request); each appointment shown is recorded."""
    office_id = scheduling.get_office(session, office_slug).id if office_slug is not None else None
    rows = scheduling.appointments_by_name_index(session, name_index, office_id, start, end)
    record_access(session, staff, "appointment", [a.id for a in rows], "disclosure_review", now,
                  role="counsel", reason=f"request {request_id}")
    return [_view(ring, a) for a in rows]
