"""All transparency-log queries. Writes are inserts only (the tables are append-only).

Bulk writes: PostgreSQL gets binary ``COPY`` (psycopg 3 ``cursor.copy``) on
the session's own connection, so it stays inside the caller's transaction;
SQLite gets one ``executemany``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from safeslot.transparency.models import LogCheckpoint, LogCosignature, LogEntry, LogHead, LogNode

Aligned = tuple[int, int]
COPY_THRESHOLD = 64  # below this many rows an INSERT is cheaper than setting up COPY


def lock_head(session: Session) -> LogHead:
    """The sequencer row, locked until the transaction ends (one appender at a time)."""
    return session.scalars(
        select(LogHead).where(LogHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).one()


def head(session: Session) -> LogHead:
    return session.scalars(select(LogHead).where(LogHead.id == 1)).one()


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_entries(session: Session, rows: Sequence[tuple[int, bytes, bytes]], now: dt.datetime) -> None:
    if not rows:
        return
    if _is_postgresql(session) and len(rows) >= COPY_THRESHOLD:
        _copy(session, "COPY log_entry (idx, data, leaf_hash, created_at) FROM STDIN (FORMAT BINARY)",
              ["int8", "bytea", "bytea", "timestamptz"], ((i, d, h, now) for i, d, h in rows))
        return
    session.execute(
        insert(LogEntry), [{"idx": i, "data": d, "leaf_hash": h, "created_at": now} for i, d, h in rows]
    )


def insert_nodes(session: Session, rows: Sequence[tuple[int, int, bytes]]) -> None:
    if not rows:
        return
    if _is_postgresql(session) and len(rows) >= COPY_THRESHOLD:
        _copy(session, "COPY log_node (level, idx, hash) FROM STDIN (FORMAT BINARY)",
              ["int4", "int8", "bytea"], rows)
        return
    session.execute(insert(LogNode), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in rows])


def _copy(session: Session, sql: str, types: list[str], rows: Iterable[tuple[object, ...]]) -> None:
    session.flush()
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def aligned_hashes(session: Session, wanted: Iterable[Aligned]) -> dict[Aligned, bytes]:
    """Hashes of complete aligned subtrees; level 0 is the entries' leaf hashes."""
    wanted = set(wanted)
    found: dict[Aligned, bytes] = {}
    leaves = [ix for lv, ix in wanted if lv == 0]
    if leaves:
        for ix, h in session.execute(select(LogEntry.idx, LogEntry.leaf_hash).where(LogEntry.idx.in_(leaves))):
            found[(0, ix)] = h
    nodes = [(lv, ix) for lv, ix in wanted if lv > 0]
    if nodes:
        cond = or_(*(and_(LogNode.level == lv, LogNode.idx == ix) for lv, ix in nodes))
        for lv, ix, h in session.execute(select(LogNode.level, LogNode.idx, LogNode.hash).where(cond)):
            found[(lv, ix)] = h
    return found


def hashes_at_level(session: Session, level: int, start: int, count: int) -> list[bytes]:
    """Hashes at tree ``level`` for indices ``[start, start + count)``, in order."""
    if level == 0:
        stmt = (
            select(LogEntry.leaf_hash)
            .where(LogEntry.idx >= start, LogEntry.idx < start + count)
            .order_by(LogEntry.idx)
        )
    else:
        stmt = (
            select(LogNode.hash)
            .where(LogNode.level == level, LogNode.idx >= start, LogNode.idx < start + count)
            .order_by(LogNode.idx)
        )
    return list(session.scalars(stmt))


def entries(session: Session, start: int, count: int) -> list[bytes]:
    stmt = select(LogEntry.data).where(LogEntry.idx >= start, LogEntry.idx < start + count).order_by(LogEntry.idx)
    return list(session.scalars(stmt))


def entry(session: Session, index: int) -> LogEntry | None:
    return session.get(LogEntry, index)


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)).first()


def add_checkpoint(session: Session, size: int, root: bytes, note: str, now: dt.datetime) -> LogCheckpoint:
    row = LogCheckpoint(size=size, root=root, note=note, signed_at=now)
    session.add(row)
    session.flush()
    return row


def cosignatures(session: Session, size: int) -> list[LogCosignature]:
    stmt = select(LogCosignature).where(LogCosignature.size == size).order_by(LogCosignature.witness)
    return list(session.scalars(stmt))


def last_cosigned_size(session: Session, witness: str) -> int:
    stmt = select(LogCosignature.size).where(LogCosignature.witness == witness).order_by(
        LogCosignature.size.desc()
    ).limit(1)
    return session.scalars(stmt).first() or 0


def add_cosignature(session: Session, size: int, witness: str, line: str, now: dt.datetime) -> None:
    session.add(LogCosignature(size=size, witness=witness, line=line, created_at=now))
    session.flush()
