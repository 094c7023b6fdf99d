"""Office reports: how many visits an office had in a month, by service and status — for the whole
network (the org auditor) or for the offices of a supervisor's scope.

A month's figures are the appointments still held (scheduling's counts) plus what retention left of
the purged ones (``appointment_monthly_count``), so a month reads the same before and after the purge.
No name, code, time, language or accommodation appears: a report is counts of visits, never of a
person. Both sources use the UTC month of the visit's start, as retention does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.kit.errors import InvalidInput
from safeslot.privacy.models import MonthlyCount
from safeslot.scheduling import interfaces as scheduling

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
STATUSES = ("booked", "checked-in", "fulfilled", "noshow", "cancelled")


@dataclass
class OfficeMonth:
    office_id: int
    month: str
    # service id → status → visits
    by_service: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    @property
    def total(self) -> int:
        return sum(sum(s.values()) for s in self.by_service.values())

    def by_status(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for counts in self.by_service.values():
            for status, n in counts.items():
                out[status] += n
        return dict(out)


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    found = MONTH.match(month)
    if found is None:
        raise InvalidInput("Give the month as YYYY-MM, e.g. 2027-03.")
    year, number = int(found.group(1)), int(found.group(2))
    start = dt.datetime(year, number, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def offices_month(session: Session, month: str, office_ids: Collection[int] | None = None) -> dict[int, OfficeMonth]:
    """Each office's visits of the month (None: every office of the network, read end to end: pass the
    offices' ids so the (office, start) index is used, as the network report does)."""
    start, end = month_bounds(month)
    found: dict[int, OfficeMonth] = {}

    def add(office_id: int, service_id: int, status: str, n: int) -> None:
        found.setdefault(office_id, OfficeMonth(office_id, month)).by_service[service_id][status] += n

    for c in scheduling.month_counts(session, start, end, office_ids):
        add(c.office_id, c.service_id, c.status, c.count)
    stmt = (select(MonthlyCount.office_id, MonthlyCount.service_id, MonthlyCount.status, func.sum(MonthlyCount.count))
            .where(MonthlyCount.month == month)
            .group_by(MonthlyCount.office_id, MonthlyCount.service_id, MonthlyCount.status))
    if office_ids is not None:
        stmt = stmt.where(MonthlyCount.office_id.in_(list(office_ids)))
    for office_id, service_id, status, n in session.execute(stmt).tuples():
        add(office_id, service_id, status, int(n))
    return found
