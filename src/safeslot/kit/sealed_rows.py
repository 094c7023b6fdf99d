"""Re-sealing stored values under another key, in batches, for the domain that owns the rows.

A domain names its tables and their sealed columns (``SealedTable``) and offers, on its face, the
functions privacy's key rotation and retention call: how many values are under an older master
key (``pending``), re-seal a batch under the current one (``reseal``), move a month's values under
its data key (``seal_under_month``), which key ids stored values still name (``key_ids``). Those
functions call these with their own models, so no domain queries another's tables; this module knows
no domain, only the shape of a sealed value (``crypto.MAGIC``, the key id's length, the key id).

Resumable by construction: a batch takes only values whose key id is not the wanted one, re-seals them
and is committed by the caller. An interrupted run leaves some values under the old key and some under
the new, all readable (both keys are in the ring); running again continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from safeslot.kit.crypto import MAGIC, KeyRing, month_kid


@dataclass(frozen=True)
class SealedTable:
    """A table whose rows hold sealed values: its model (with an ``id``) and its (column, AEAD context) pairs."""

    model: Any
    columns: tuple[tuple[InstrumentedAttribute[Any], str], ...]


def _prefix(kid: str) -> bytes:
    return MAGIC + bytes([len(kid)]) + kid.encode()


def _stale(table: SealedTable, kid: str) -> ColumnElement[bool]:
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


def pending(session: Session, ring: KeyRing, tables: Sequence[SealedTable]) -> int:
    """How many rows still hold a value sealed under another master key than the current one."""
    return sum(int(session.scalar(select(func.count()).select_from(t.model).where(_stale(t, ring.current))) or 0)
               for t in tables)


def reseal(session: Session, ring: KeyRing, tables: Sequence[SealedTable], batch_size: int) -> int:
    """Re-seal up to ``batch_size`` rows (the tables in order) under the current key; how many rows changed."""
    done = 0
    for table in tables:
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


def seal_under_month(session: Session, ring: KeyRing, table: SealedTable, month: str, in_month: ColumnElement[bool],
                     batch_size: int) -> int:
    """Move up to ``batch_size`` rows of ``table`` that ``in_month`` selects under ``month``'s data key."""
    prefix = _prefix(month_kid(month))
    rows: Sequence[Any] = session.scalars(
        select(table.model)
        .where(in_month, or_(*(
            and_(col.is_not(None), func.substr(col, 1, len(prefix), type_=LargeBinary()) != prefix)
            for col, _ in table.columns
        )))
        .order_by(table.model.id).limit(batch_size).with_for_update()
    ).all()
    for row in rows:
        for col, context in table.columns:
            value = getattr(row, col.key)
            if value is not None and ring.key_id_of(value) != month_kid(month):
                setattr(row, col.key, ring.seal(ring.open(value, context), context, month))
    session.flush()
    return len(rows)


def key_ids(session: Session, tables: Sequence[SealedTable]) -> set[str]:
    """Key ids that some stored value still names (checked before a key is retired)."""
    used: set[str] = set()
    for table in tables:
        for col, _ in table.columns:
            head = func.substr(col, 1, 64, type_=LargeBinary())
            for (value,) in session.execute(select(head).where(col.is_not(None)).distinct()):
                if value:
                    used.add(KeyRing.key_id_of(bytes(value)))
    return used
