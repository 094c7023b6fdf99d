"""What the console, the CLI and other domains may ask scheduling beyond ``scheduling/service.py``
(the pattern of Warehouse's ``accounts/interfaces.py``; identity's is ``identity/interfaces.py``).

Scheduling's repository stays inside scheduling (``ruff.toml`` of each folder and
``tests/test_import_graph.py`` refuse imports of it, or of ``scheduling.models``, from outside).
The record types below are what the service hands out: callers read their attributes and pass
them back to a service function; they never query, add or change them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.models import Appointment, Closure, Office, Service, Staff, WeeklyHours
from safeslot.scheduling.offices import office_item
from safeslot.scheduling.service import reopen_slots, zone

__all__ = [
    "Appointment", "Closure", "Office", "OfficeSetup", "Service", "Staff", "WeeklyHours",
    "appointment_place", "has_service", "office_by_id", "office_setup", "reopen_slots", "staff_member", "weekly_hours",
    "zone",
]


def office_by_id(session: Session, office_id: int | None) -> Office | None:
    """The office with this id (a staff account's ``office_id``); None when there is none."""
    return session.get(Office, office_id) if office_id is not None else None


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
