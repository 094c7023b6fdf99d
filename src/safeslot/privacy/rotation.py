"""Key rotation: re-seal every sealed value under the ring's current key, in batches.

Resumable by construction: a batch takes only values whose key id is not the
current one, re-seals them and is committed by the caller. An interrupted run
leaves some values under the old key and some under the new, all readable
(both keys are in the ring); running again continues where it stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import LargeBinary, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from safeslot.identity import interfaces as identity
from safeslot.kit.crypto import MAGIC, KeyRing, month_kid
from safeslot.scheduling import interfaces as scheduling
from safeslot.scheduling.interfaces import Appointment


@dataclass(frozen=True)
class SealedTable:
    model: Any
    columns: tuple[tuple[InstrumentedAttribute[Any], str], ...]  # (column, AEAD context)


SEALED: tuple[SealedTable, ...] = (
    SealedTable(Appointment, scheduling.SEALED_COLUMNS),
    SealedTable(identity.SEALED_COLUMNS[0][0].class_, identity.SEALED_COLUMNS),
    # walk-in names (initials, or nothing): sealed under the month's data key at check-in
    SealedTable(scheduling.QUEUE_SEALED_COLUMNS[0][0].class_, scheduling.QUEUE_SEALED_COLUMNS),
)


def _prefix(kid: str) -> bytes:
    return MAGIC + bytes([len(kid)]) + kid.encode()


def _stale(table: SealedTable, kid: str) -> Any:
    """Values under an older master key. Values under a month's data key are left alone: retention owns them."""
    prefix = _prefix(kid)
    return or_(*(
        and_(
            col.is_not(None),
            func.substr(col, 1, len(prefix), type_=LargeBinary()) != prefix,
            func.substr(col, 4, 1, type_=LargeBinary()) != b"m",
        )
        for col, _ in table.columns
    ))


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    year, mon = (int(x) for x in month.split("-"))
    start = dt.datetime(year, mon, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def seal_by_month_batch(session: Session, ring: KeyRing, month: str, batch_size: int = 500) -> int:
    """Move up to ``batch_size`` appointments of this month (UTC) under the month's data key."""
    start, end = month_bounds(month)
    prefix = _prefix(month_kid(month))
    table = SEALED[0]
    rows: Sequence[Any] = session.scalars(
        select(Appointment)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end, or_(*(
            and_(col.is_not(None), func.substr(col, 1, len(prefix), type_=LargeBinary()) != prefix)
            for col, _ in table.columns
        )))
        .order_by(Appointment.id).limit(batch_size).with_for_update()
    ).all()
    for row in rows:
        for col, context in table.columns:
            value = getattr(row, col.key)
            if value is not None and ring.key_id_of(value) != month_kid(month):
                setattr(row, col.key, ring.seal(ring.open(value, context), context, month))
    session.flush()
    return len(rows)


def pending(session: Session, ring: KeyRing) -> int:
    """How many rows still hold a value sealed under another key than the current one."""
    return sum(
        int(session.scalar(select(func.count()).select_from(t.model).where(_stale(t, ring.current))) or 0)
        for t in SEALED
    )


def reseal_batch(session: Session, ring: KeyRing, batch_size: int = 500) -> int:
    """Re-seal up to ``batch_size`` rows under the current key; returns how many rows changed."""
    done = 0
    for table in SEALED:
        if done >= batch_size:
            break
        rows: Sequence[Any] = session.scalars(
            select(table.model).where(_stale(table, ring.current)).order_by(table.model.id)
            .limit(batch_size - done).with_for_update()
        ).all()
        for row in rows:
            for col, context in table.columns:
                value = getattr(row, col.key)
                if value is not None and ring.key_id_of(value) != ring.current:
                    setattr(row, col.key, ring.seal(ring.open(value, context), context))
        done += len(rows)
    session.flush()
    return done


def keys_in_use(session: Session) -> set[str]:
    """Key ids that some stored value still names (checked before a key is retired)."""
    used: set[str] = set()
    for table in SEALED:
        for col, _ in table.columns:
            head = func.substr(col, 1, 64, type_=LargeBinary())
            for (value,) in session.execute(select(head).where(col.is_not(None)).distinct()):
                if value:
                    used.add(KeyRing.key_id_of(bytes(value)))
    return used
