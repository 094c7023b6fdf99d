"""The people invariant, checked over a whole database.

No person (server or interpreter) is in two overlapping visits that still hold
people (booked or checked-in), and every such visit's people are held for each
of its 15-minute units, in the holds table whose primary key is the guarantee.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.duty import local_visit, off_duty
from safeslot.scheduling.models import Appointment, Office, StaffHold
from safeslot.scheduling.rules import HOLDING, units, zone


def people_violations(session: Session) -> list[str]:
    """Every overlap of one person's visits, and every visit whose holds do not match it; empty when sound."""
    found: list[str] = []
    visits: dict[int, list[tuple[dt.datetime, dt.datetime, int]]] = {}
    holding = session.scalars(select(Appointment).where(Appointment.status.in_(HOLDING))).all()
    for a in holding:
        for who in {a.staff_id, a.interpreter_id} - {None}:
            assert who is not None
            visits.setdefault(who, []).append((a.starts_at, a.ends_at, a.id))
    for who, spans in visits.items():
        spans.sort()
        latest: tuple[dt.datetime, int] | None = None  # the visit so far that ends last
        for start, end, visit in spans:
            if latest is not None and start < latest[0]:
                found.append(f"staff {who} is in appointments {latest[1]} and {visit} at once")
            if latest is None or end > latest[0]:
                latest = (end, visit)
    held = Counter((h.appointment_id, h.staff_id, h.role, h.starts_at)
                   for h in session.scalars(select(StaffHold).where(StaffHold.appointment_id.is_not(None))))
    expected: Counter[tuple[int | None, int, str, dt.datetime]] = Counter()
    for a in holding:
        for who, role in ((a.staff_id, "serve"), (a.interpreter_id, "interpret")):
            if who is not None:
                expected.update((a.id, who, role, u) for u in units(a.starts_at, a.ends_at))
    for key in (expected - held):
        found.append(f"appointment {key[0]} does not hold staff {key[1]} ({key[2]}) at {key[3]:%Y-%m-%d %H:%M}")
    for key in (held - expected):
        found.append(f"staff {key[1]} is held for appointment {key[0]} at {key[3]:%Y-%m-%d %H:%M} without reason")
    return found


def duty_violations(session: Session) -> list[str]:
    """Every visit still holding people whose server or interpreter is not working then (their own hours
    or an absence, scheduling/duty.py); empty when sound."""
    found: list[str] = []
    holding = session.scalars(select(Appointment).where(Appointment.status.in_(HOLDING))).all()
    by_office: dict[int, list[Appointment]] = {}
    for a in holding:
        by_office.setdefault(a.office_id, []).append(a)
    for office_id, visits in by_office.items():
        office = session.get(Office, office_id)
        assert office is not None
        tz = zone(office.timezone)
        duties = repo.duties(session, office_id, dt.date.min, dt.date.max)
        for a in visits:
            visit = local_visit(a.starts_at, a.ends_at, tz)
            for who in off_duty(duties, {a.staff_id, a.interpreter_id} - {None}, visit):
                found.append(f"staff {who} is not working during appointment {a.id}")
    return found
