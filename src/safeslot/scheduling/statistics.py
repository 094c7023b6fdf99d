"""Counts of appointments by office, service and status for a month (no names, codes or times).

Privacy's office reports read these through ``scheduling.interfaces`` (``month_counts``); after retention
purges a visit, privacy's monthly counts (privacy/statistics.py) hold what is left of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.scheduling.models import Appointment


@dataclass(frozen=True)
class Count:
    office_id: int
    service_id: int
    status: str
    count: int


def month_counts(session: Session, start: dt.datetime, end: dt.datetime,
                 office_ids: Collection[int] | None = None) -> list[Count]:
    """Appointments starting in [start, end) grouped by office, service and status (None: every office)."""
    stmt = (select(Appointment.office_id, Appointment.service_id, Appointment.status, func.count())
            .where(Appointment.starts_at >= start, Appointment.starts_at < end)
            .group_by(Appointment.office_id, Appointment.service_id, Appointment.status))
    if office_ids is not None:
        stmt = stmt.where(Appointment.office_id.in_(list(office_ids)))
    return [Count(o, s, st, n) for o, s, st, n in session.execute(stmt).tuples()]
