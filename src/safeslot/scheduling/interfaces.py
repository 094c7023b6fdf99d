"""Scheduling's face: all that another domain may use of scheduling, in one module (the pattern of Warehouse's
``accounts/interfaces.py``; docs/architecture.md, "Allowed arrows").

To the other domains:

* privacy reads offices and appointments to decide and record who may see them (``list_offices``,
  ``get_office``, ``office_in_scope``, ``list_services``, ``get_by_code``, ``appointments_between``,
  ``appointments_by_name_index``, ``month_counts``, the codes' forms ``format_code``/``normalise_code``);
  its retention ages the rows (``appointments_ended_before``, ``purge_appointments``, ``erase_contacts``,
  ``purge_idempotency``, ``age_tickets``) and its key rotation re-seals them (``pending_reseal``,
  ``reseal_batch``, ``seal_month_batch``, ``sealed_key_ids``): privacy decides when, and scheduling changes
  its own rows (retention.py, queue/retention.py, sealing.py), so privacy builds no query on them;
* disclosure finds a named person's appointments for a request (``SubjectRecord``,
  ``appointments_for_subject``), tells the person by their appointment (``appointment_by_code``) and books
  its demo's visit (``search_slots``, ``book``, ``BookingIn``).

Notifications imports nothing of scheduling: what its reminders read (``reminders.py``) the shells hand to it.

The public pages ask for the languages offered across the network in one statement (``offered_languages``),
never office by office. The console and the CLI use the rest (office set-up, staff, idempotent retries,
opening and closing an office, whose two-person effects scheduling/office_proposals.py registers with
identity) and may also call ``service``. Scheduling's repository and models stay inside scheduling
(``ruff.toml`` of each folder and ``tests/test_import_graph.py`` refuse imports of them, and of any module but
this one, from another domain). The record types exported (``Appointment``, ``Office``, ``Service``,
``Staff``) are what the service hands out, named here only because callers annotate with them: callers read
their attributes and pass them back to a service function; they never query, add or change them. Whole modules
are not re-exported: a name another domain needs is added here as a function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.idempotency import request_hash, run_once
from safeslot.scheduling.models import Appointment, Closure, Office, Service, Staff, WeeklyHours
from safeslot.scheduling.office_changes import (
    BookingToMove,
    NewOffice,
    bookings_to_move,
    check_closable,
    check_new_office,
    close_office,
    open_office,
    open_office_by_slug,
)
from safeslot.scheduling.offices import office_item
from safeslot.scheduling.queue.retention import run as age_tickets
from safeslot.scheduling.retention import ended_before as appointments_ended_before
from safeslot.scheduling.retention import erase_contacts, purge_idempotency
from safeslot.scheduling.retention import purge as purge_appointments
from safeslot.scheduling.schemas import BookingIn
from safeslot.scheduling.sealing import pending_reseal, reseal_batch, seal_month_batch, sealed_key_ids
from safeslot.scheduling.service import (
    SubjectRecord,
    appointments_for_subject,
    book,
    format_code,
    get_by_code,
    get_office,
    list_offices,
    list_services,
    month_counts,
    normalise_code,
    offered_languages,
    office_in_scope,
    reopen_slots,
    search_slots,
    unknown_office,
    zone,
)

__all__ = [
    "Appointment",
    "BookingIn",
    "BookingToMove",
    "NewOffice",
    "Office",
    "OfficeSetup",
    "Service",
    "Staff",
    "SubjectRecord",
    "age_tickets",
    "appointment_by_code",
    "appointment_place",
    "appointments_between",
    "appointments_by_name_index",
    "appointments_ended_before",
    "appointments_for_subject",
    "book",
    "bookings_to_move",
    "check_closable",
    "check_new_office",
    "close_office",
    "erase_contacts",
    "format_code",
    "get_by_code",
    "get_office",
    "has_service",
    "list_offices",
    "list_services",
    "month_counts",
    "normalise_code",
    "offered_languages",
    "office_by_id",
    "office_in_scope",
    "office_setup",
    "open_office",
    "open_office_by_slug",
    "pending_reseal",
    "purge_appointments",
    "purge_idempotency",
    "reopen_slots",
    "request_hash",
    "reseal_batch",
    "run_once",
    "seal_month_batch",
    "sealed_key_ids",
    "search_slots",
    "staff_member",
    "unknown_office",
    "weekly_hours",
    "zone",
]


def office_by_id(session: Session, office_id: int | None) -> Office | None:
    """The office with this id (a staff account's ``office_id``); None when there is none."""
    return session.get(Office, office_id) if office_id is not None else None


def appointments_between(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime
) -> Sequence[Appointment]:
    """An office's appointments starting in [start, end), by start (a clerk's day list; privacy records the read)."""
    return repo.appointments_between(session, office_id, start, end)


def appointments_by_name_index(
    session: Session, index: str, office_id: int | None, start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Sequence[Appointment]:
    """Appointments whose name has this blind index, in one office (or all), starting in [start, end)
    (a name look-up; privacy decides who may make it and records the read)."""
    return repo.appointments_by_name_index(session, index, office_id, start, end)


def appointment_by_code(session: Session, code: str) -> Appointment | None:
    """The appointment with this confirmation code (stored form), or None."""
    return repo.appointment_by_code(session, code)


def appointment_place(session: Session, appointment: Appointment) -> tuple[Office, Service]:
    """Where an appointment is and what it is for."""
    office = session.get(Office, appointment.office_id)
    service = session.get(Service, appointment.service_id)
    assert office is not None and service is not None  # foreign keys: an appointment has both
    return office, service


def has_service(session: Session, office: Office, slug: str) -> bool:
    """Whether the office already has a service with this code."""
    return repo.service_by_slug(session, office.id, slug) is not None


def staff_member(session: Session, office: Office, staff_id: int) -> Staff:
    """A staff member of this office, active or former; another office's is as good as none (404)."""
    return office_item(session, Staff, staff_id, office, "staff member")


def weekly_hours(session: Session, office: Office) -> Sequence[WeeklyHours]:
    """The office's opening windows, by weekday (0 = Monday), then opening time."""
    return repo.hours(session, office.id)


@dataclass(frozen=True)
class OfficeSetup:
    """What a supervisor manages: everyone who works or worked here, the weekly hours, closures to come."""

    members: Sequence[Staff]
    hours: Sequence[WeeklyHours]  # by weekday, then opening time
    closures: Sequence[Closure]  # from today on, by day


def office_setup(session: Session, office: Office, today: dt.date) -> OfficeSetup:
    return OfficeSetup(
        members=repo.all_staff(session, office.id),
        hours=weekly_hours(session, office),
        closures=sorted(repo.closures(session, office.id, today, dt.date(9999, 12, 31)), key=lambda c: c.day),
    )
