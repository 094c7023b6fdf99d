"""Retention of appointments, called by privacy.retention.run with its settings.

Privacy decides the periods and keeps the monthly counts; scheduling owns the rows. So privacy
asks for a batch of visits that ended before a cutoff (only what the counts need: month, office,
service, status, language), counts them, then has them deleted here in the same transaction: a
rerun counts nothing twice. Contacts and idempotency answers go by their own cutoffs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from safeslot.scheduling.models import Appointment, IdempotencyRecord


@dataclass(frozen=True)
class Ended:
    """A visit past its keeping period, as the monthly counts see it: no name, no contact, no code."""

    id: int
    starts_at: dt.datetime
    office_id: int
    service_id: int
    status: str
    language: str | None


def ended_before(session: Session, cutoff: dt.datetime, batch_size: int) -> list[Ended]:
    """Up to ``batch_size`` appointments that ended before ``cutoff``, the earliest ended first (in the order of
    ``ix_appointment_end``: a batch reads its own rows, not every visit past the cutoff)."""
    rows = session.execute(
        select(Appointment.id, Appointment.starts_at, Appointment.office_id, Appointment.service_id,
               Appointment.status, Appointment.language)
        .where(Appointment.ends_at < cutoff).order_by(Appointment.ends_at, Appointment.id).limit(batch_size)
    ).all()
    return [Ended(*row) for row in rows]


def purge(session: Session, ids: Sequence[int]) -> None:
    """Delete these appointments (after the caller has counted them)."""
    session.execute(delete(Appointment).where(Appointment.id.in_(list(ids)))
                    .execution_options(synchronize_session=False))


def erase_contacts(session: Session, cutoff: dt.datetime) -> int:
    """Delete the contact of every visit that ended before ``cutoff`` and switch its reminders off."""
    result = session.execute(
        update(Appointment)
        .where(Appointment.ends_at < cutoff, Appointment.contact_enc.is_not(None))
        .values(contact_enc=None, reminders_opt_in=False)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_idempotency(session: Session, cutoff: dt.datetime) -> int:
    """Delete the stored answers to retried requests made before ``cutoff`` (they name a code and a time)."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
