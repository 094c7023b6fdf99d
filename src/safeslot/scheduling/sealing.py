"""Scheduling's sealed values under the key ring: what privacy's key rotation and retention ask of them.

Privacy decides when (``safeslot keys rotate``, ``keys seal-months``, retention destroying a month's
key); scheduling re-seals its own rows here, with the kernel's ``kit/sealed_rows.py``, so no other
domain builds a query on appointments or walk-in tickets. Offered on ``interfaces.py``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeslot.kit import sealed_rows
from safeslot.kit.crypto import KeyRing, month_bounds
from safeslot.kit.sealed_rows import SealedTable
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.queue import service as queue_service
from safeslot.scheduling.queue.models import QueueTicket

# An appointment's values sealed with the key ring (column, AEAD context), under their month's data key from
# booking (or moved there by ``seal_month_batch``); a walk-in's name (initials, or nothing) from check-in.
APPOINTMENTS = SealedTable(Appointment, (
    (Appointment.name_enc, "appointment.name"),
    (Appointment.contact_enc, "appointment.contact"),
    (Appointment.accommodation_enc, "appointment.accommodation"),
))
TICKETS = SealedTable(QueueTicket, queue_service.SEALED_COLUMNS)
TABLES = (APPOINTMENTS, TICKETS)


def pending_reseal(session: Session, ring: KeyRing) -> int:
    """How many appointments and tickets still hold a value under an older master key."""
    return sealed_rows.pending(session, ring, TABLES)


def reseal_batch(session: Session, ring: KeyRing, batch_size: int = 500) -> int:
    """Re-seal up to ``batch_size`` appointments and tickets under the current key; how many changed."""
    return sealed_rows.reseal(session, ring, TABLES, batch_size)


def seal_month_batch(session: Session, ring: KeyRing, month: str, batch_size: int = 500) -> int:
    """Move up to ``batch_size`` appointments starting in this month (UTC) under the month's data key."""
    start, end = month_bounds(month)
    return sealed_rows.seal_under_month(session, ring, APPOINTMENTS, month,
                                        (Appointment.starts_at >= start) & (Appointment.starts_at < end), batch_size)


def sealed_key_ids(session: Session) -> set[str]:
    """Key ids that an appointment's or a ticket's stored value still names."""
    return sealed_rows.key_ids(session, TABLES)
