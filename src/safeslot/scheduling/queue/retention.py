"""Retention of tickets, called by privacy.retention.run with the appointments' settings.

* ``contact_days`` after the visit, a walk-in's name (or initials) is erased: it is
  needed only to greet the person at the desk;
* ``appointment_days`` after it, the ticket is purged, after adding it to the
  daily counts (office, service, kind, language, outcome, wait band) that stay.
A rerun counts nothing twice: a ticket is counted in the same transaction that
deletes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.scheduling.queue import repository as repo
from safeslot.scheduling.queue import rules
from safeslot.scheduling.queue.models import QueueDailyCount
from safeslot.scheduling.queue.views import finished


@dataclass(frozen=True)
class TicketRetention:
    names_erased: int
    tickets_purged: int


def run(session: Session, name_days: int, keep_days: int, now: dt.datetime, batch_size: int = 1000) -> TicketRetention:
    # Days are compared in UTC: at most a few hours' difference from the office's own day.
    today = now.astimezone(dt.UTC).date()
    purge_before = today - dt.timedelta(days=keep_days)
    purged = 0
    while True:
        tickets = repo.expired(session, purge_before, batch_size)
        if not tickets:
            break
        by_day: dict[tuple[dt.date, int], list[rules.Finished]] = {}
        for t in tickets:
            by_day.setdefault((t.day, t.office_id), []).append(finished(t))
        for (day, office_id), rows in by_day.items():
            for (service_id, kind, language, outcome, band), n in rules.tally(rows).items():
                row = repo.daily_count(session, day, office_id, service_id, kind, language, outcome, band)
                if row is None:
                    session.add(QueueDailyCount(day=day, office_id=office_id, service_id=service_id, kind=kind,
                                                language=language, outcome=outcome, wait_band=band, count=n))
                else:
                    row.count += n
        session.flush()
        repo.delete_tickets(session, [t.id for t in tickets], purge_before)
        purged += len(tickets)
    erased = repo.erase_names(session, today - dt.timedelta(days=name_days))
    session.flush()
    return TicketRetention(names_erased=erased, tickets_purged=purged)
