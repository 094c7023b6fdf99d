"""Access transparency for the person: when staff looked at their appointment.

With the confirmation code and the name (as for the accounting of disclosures), a person sees
the staff reads of that appointment that happened outside booking, check-in and the visit
itself: a look-up by name (with the reason the clerk gave), the appointment seen in the list of
a coming day, an auditor's read. Each is told by role and office, never by a staff member's
name, one line per day and kind.

Not shown: reads on the day of the visit through the day list or a check-in look-up (the visit
itself); reminders; and reads while reviewing a disclosure request. Those last ones would
reveal a request the law may keep from the person while a court's non-disclosure order runs or
under 5 U.S.C. 552a(c)(3); the disclosure itself appears in the accounting when the law allows.
A wrong code or name gives an empty list, exactly as an appointment nobody looked at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import NotFound
from safeslot.privacy import repository as repo
from safeslot.scheduling import interfaces as scheduling

SHOWN_PURPOSES = frozenset({"name_lookup", "front_desk", "audit", "subject_access"})


@dataclass(frozen=True)
class StaffLook:
    """Staff looked at the appointment: on which local day, in which role, from which office, how."""

    day: dt.date
    role: str  # clerk, supervisor, auditor … ("staff" for reads recorded before roles were kept)
    office: str | None  # the office's name
    how: str  # name_lookup, upcoming_list, other
    reason: str | None  # a name look-up's reason (privacy/reads.py LOOKUP_REASONS)
    times: int


def looks_at(session: Session, ring: KeyRing, code: str, name: str) -> list[StaffLook]:
    """The staff looks a person may see at the appointment with this code and name, oldest first."""
    try:
        appointment = scheduling.get_by_code(session, scheduling.normalise_code(code))
    except NotFound:
        return []
    if not name.strip() or ring.blind_index(name) != appointment.name_index:
        return []
    offices = {o.id: o for o in scheduling.list_offices(session)}
    home = offices.get(appointment.office_id)
    tz = scheduling.zone(home.timezone if home else "UTC")
    visit_day = appointment.starts_at.astimezone(tz).date()
    grouped: dict[tuple[dt.date, str, str | None, str, str | None], int] = {}
    for read in repo.reads_of(session, "appointment", str(appointment.id)):
        if read.purpose not in SHOWN_PURPOSES:
            continue
        day = read.at.astimezone(tz).date()
        if read.purpose == "front_desk":
            if day >= visit_day:
                continue  # the day's list on the day of the visit: the visit itself
            how = "upcoming_list"
        elif read.purpose == "name_lookup":
            if read.reason == "check_in" and day == visit_day:
                continue  # finding the person who arrived without their code: check-in
            how = "name_lookup"
        else:
            how = "other"
        office = offices.get(read.office_id) if read.office_id is not None else None
        key = (day, read.role or "staff", office.name if office else None, how,
               read.reason if how == "name_lookup" else None)
        grouped[key] = grouped.get(key, 0) + 1
    return [StaffLook(day, role, office, how, reason, times)
            for (day, role, office, how, reason), times in sorted(grouped.items(), key=lambda kv: kv[0][0])]
