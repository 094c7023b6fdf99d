"""Whether an office is open at a moment: its weekly hours and closures, in its own time zone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.models import Office
from safeslot.scheduling.service import zone


def is_open(session: Session, office: Office, at: dt.datetime, *, early: dt.timedelta = dt.timedelta(0)) -> bool:
    """Open at ``at`` (or within ``early`` before an opening): not a closure day, inside a weekly window."""
    tz = zone(office.timezone)
    local = at.astimezone(tz)
    day = local.date()
    if repo.closures(session, office.id, day, day):
        return False
    for hours in repo.hours(session, office.id):
        if hours.weekday != day.weekday():
            continue
        opens = dt.datetime.combine(day, hours.opens, tzinfo=tz) - early
        closes = dt.datetime.combine(day, hours.closes, tzinfo=tz)
        if opens <= local < closes:
            return True
    return False
