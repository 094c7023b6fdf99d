"""A staff member's own working hours and absences, set by their office's supervisor.

Changing them keeps bookings valid exactly like a change of skills
(``administration.reassign``): the visits still to come that the person no longer
works for go to another qualified person who is free and on duty; those no one can
take are unassigned (their holds released) and listed for the supervisor with the
people to contact. Like the other staff changes (languages, services, leaving), this
is the office supervisor's own act (docs/decisions.md "Staff working hours").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import repository as repo
from safeslot.scheduling.administration import Reassignment, reassign
from safeslot.scheduling.duty import merge
from safeslot.scheduling.errors import HoursOverlap, OfficeItemNotFound
from safeslot.scheduling.models import Office, Staff, StaffAbsence, StaffHours
from safeslot.scheduling.offices import office_item

MAX_ABSENCE = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class StaffSchedule:
    """What the supervisor sees: office hours (``own`` false) or these windows, and absences to come."""

    member: Staff
    own: bool
    windows: tuple[tuple[int, dt.time, dt.time], ...]
    absences: tuple[StaffAbsence, ...]


def schedule(session: Session, office: Office, staff_id: int, today: dt.date) -> StaffSchedule:
    member = office_item(session, Staff, staff_id, office, "staff member")
    return StaffSchedule(member, member.own_hours,
                         tuple((h.weekday, h.opens, h.closes) for h in repo.staff_hours(session, member.id)),
                         tuple(repo.absences(session, member.id, today)))


def set_staff_hours(
    session: Session, office: Office, staff_id: int, windows: Sequence[tuple[int, dt.time, dt.time]] | None,
    now: dt.datetime,
) -> tuple[StaffSchedule, Reassignment]:
    """Replace a staff member's weekly hours (``None``: they work whenever the office is open again;
    an empty list: no hours, as for someone who takes no visits for now). Windows of one weekday may
    not overlap; touching ones are joined. Their visits still to come are re-checked at once."""
    member = office_item(session, Staff, staff_id, office, "staff member")
    repo.lock_staff(session, office.id)  # before the change: no booking reads the hours half-changed
    if windows is not None:
        try:
            merged = merge(windows)
        except ValueError as exc:
            if str(exc) == "overlap":
                raise HoursOverlap("Two of these windows overlap on one weekday; give each hour once.") from exc
            raise InvalidInput("Each window's start must be before its end.") from exc
    for row in repo.staff_hours(session, member.id):
        session.delete(row)
    member.own_hours = windows is not None
    if windows is not None:
        for weekday, opens, closes in merged:
            session.add(StaffHours(staff_id=member.id, weekday=weekday, opens=opens, closes=closes))
    session.flush()
    done = reassign(session, office, now, [member.id])
    return schedule(session, office, member.id, now.date()), done


def add_absence(
    session: Session, office: Office, staff_id: int, first: dt.date, last: dt.date, today: dt.date,
    now: dt.datetime,
) -> tuple[StaffAbsence, Reassignment]:
    """Whole days (office local, inclusive) the staff member does not work; their visits those days move."""
    member = office_item(session, Staff, staff_id, office, "staff member")
    repo.lock_staff(session, office.id)
    if last < first:
        raise InvalidInput("The last day is before the first; give the first day, then the last day.")
    if last < today:
        raise InvalidInput("Those days have passed; give days from today on.")
    if last - first > MAX_ABSENCE:
        raise InvalidInput("Give at most a year at a time; someone who no longer works here is marked inactive.")
    row = StaffAbsence(staff_id=member.id, first_day=first, last_day=last)
    session.add(row)
    session.flush()
    return row, reassign(session, office, now, [member.id])


def remove_absence(session: Session, office: Office, staff_id: int, absence_id: int) -> StaffAbsence:
    """The staff member works those days after all (bookings already moved stay with their new people)."""
    member = office_item(session, Staff, staff_id, office, "staff member")
    row = session.get(StaffAbsence, absence_id)
    if row is None or row.staff_id != member.id:
        raise OfficeItemNotFound("This staff member has no such absence; reload their page.")
    session.delete(row)
    session.flush()
    return row
