"""What reminders read and change of appointments (``notifications.reminders.Appointments``).

Notifications imports no domain: the shells hand this module to it (``cli/outbox_kinds.register_all``
installs reminders with it; the stop page passes it to ``stop_by_token``).

Only booked appointments whose person opted in and still has a contact are
returned; the contact stays sealed (the caller opens it at send time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from safeslot.scheduling.models import Appointment, Office


@dataclass(frozen=True)
class ReminderTarget:
    appointment_id: int
    office_id: int
    office_name: str
    office_address: str
    office_timezone: str
    starts_at: dt.datetime
    created_at: dt.datetime
    language: str | None  # the interpreter language asked for, if any
    contact_enc: bytes


def _query() -> Select[tuple[Appointment, Office]]:
    return (select(Appointment, Office).join(Office, Office.id == Appointment.office_id)
            .where(Appointment.status == "booked", Appointment.reminders_opt_in.is_(True),
                   Appointment.contact_enc.is_not(None)))


def _target(appointment: Appointment, office: Office) -> ReminderTarget:
    assert appointment.contact_enc is not None
    return ReminderTarget(appointment.id, office.id, office.name, office.address, office.timezone,
                          appointment.starts_at, appointment.created_at, appointment.language, appointment.contact_enc)


def upcoming(session: Session, now: dt.datetime, horizon: dt.timedelta) -> list[ReminderTarget]:
    """Opted-in booked appointments starting after ``now`` and within ``horizon``."""
    rows = session.execute(_query().where(Appointment.starts_at > now, Appointment.starts_at <= now + horizon)
                           .order_by(Appointment.starts_at, Appointment.id))
    return [_target(a, o) for a, o in rows]


def target(session: Session, appointment_id: int) -> ReminderTarget | None:
    """The appointment as a reminder target now, or None (cancelled, opted out, contact deleted, gone)."""
    row = session.execute(_query().where(Appointment.id == appointment_id)).first()
    return _target(row[0], row[1]) if row is not None else None


def contact_of(session: Session, appointment_id: int) -> bytes | None:
    """The sealed contact of an appointment, whatever its state (for a STOP from its reminder)."""
    return session.scalar(select(Appointment.contact_enc).where(Appointment.id == appointment_id))


def stop_reminders(session: Session, appointment_id: int) -> None:
    """The person asked for no more messages about this appointment."""
    session.execute(update(Appointment).where(Appointment.id == appointment_id).values(reminders_opt_in=False)
                    .execution_options(synchronize_session=False))
