"""Retention (invariant "collect the minimum", "contact details are deleted after the visit, statistics stay").

* ``contact_days`` after a visit ends, the contact (phone or e-mail) is deleted
  and reminders are switched off;
* ``appointment_days`` after it ends, the appointment is purged, after adding
  it to the monthly counts (office, service, status, language) that reports use.

Idempotency answers older than the appointment period go too: they name a
confirmation code and a time. Walk-in tickets follow the same periods
(scheduling/queue/retention.py): the name or initials go after ``contact_days``,
the ticket after ``appointment_days``, leaving daily counts. Privacy decides and counts;
scheduling's rows are changed by scheduling/retention.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.config import RetentionSettings
from safeslot.kit.crypto import KeyRing, month_bounds, months_between
from safeslot.privacy import repository as repo
from safeslot.privacy.models import MonthlyCount
from safeslot.privacy.rotation import keys_in_use
from safeslot.scheduling import interfaces as scheduling


@dataclass(frozen=True)
class RetentionResult:
    contacts_deleted: int
    appointments_purged: int
    idempotency_purged: int
    ticket_names_erased: int = 0
    tickets_purged: int = 0


def run(session: Session, settings: RetentionSettings, now: dt.datetime, batch_size: int = 1000) -> RetentionResult:
    """Purge first (so each count is made once), then delete the remaining expired contacts."""
    purge_cutoff = now - dt.timedelta(days=settings.appointment_days)
    purged = 0
    while True:
        rows = scheduling.appointments_ended_before(session, purge_cutoff, batch_size)
        if not rows:
            break
        counts: dict[tuple[str, int, int, str, str], int] = {}
        for row in rows:
            key = (row.starts_at.strftime("%Y-%m"), row.office_id, row.service_id, row.status, row.language or "")
            counts[key] = counts.get(key, 0) + 1
        for (month, office_id, service_id, status, language), n in counts.items():
            existing = repo.monthly_count(session, month, office_id, service_id, status, language)
            if existing is None:
                session.add(MonthlyCount(month=month, office_id=office_id, service_id=service_id, status=status,
                                         language=language, count=n))
            else:
                existing.count += n
        session.flush()
        scheduling.purge_appointments(session, [row.id for row in rows])
        purged += len(rows)
    contacts = scheduling.erase_contacts(session, now - dt.timedelta(days=settings.contact_days))
    idem = scheduling.purge_idempotency(session, purge_cutoff)
    tickets = scheduling.age_tickets(session, settings.contact_days, settings.appointment_days, now, batch_size)
    session.flush()
    return RetentionResult(contacts_deleted=int(contacts), appointments_purged=purged, idempotency_purged=int(idem),
                           ticket_names_erased=tickets.names_erased, tickets_purged=tickets.tickets_purged)


def months_to_key(settings: RetentionSettings, now: dt.datetime, ahead_days: int = 400) -> list[str]:
    """Months that need a data key: from the oldest month still kept to the furthest bookable one."""
    return months_between(now - dt.timedelta(days=settings.appointment_days), now + dt.timedelta(days=ahead_days))


def destroyable_months(session: Session, ring: KeyRing, settings: RetentionSettings, now: dt.datetime) -> list[str]:
    """Month keys whose whole month is past the appointment period and that no stored value uses any more."""
    cutoff = now - dt.timedelta(days=settings.appointment_days)
    used = keys_in_use(session)
    return sorted(m for m in ring.month_keys if month_bounds(m)[1] <= cutoff and f"m{m}" not in used)
