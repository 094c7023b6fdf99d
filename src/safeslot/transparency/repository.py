"""All transparency-log queries. Writes are inserts only (the tables are append-only).

Bulk writes: PostgreSQL gets binary ``COPY`` (psycopg 3 ``cursor.copy``) on
the session's own connection, so it stays inside the caller's transaction;
SQLite gets one ``executemany``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import insert, select
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
    if len(rows) < COPY_THRESHOLD:
        session.execute(
            insert(LogEntry), [{"idx": i, "data": d, "leaf_hash": h, "created_at": now} for i, d, h in rows]
        )
        return
    # Large batches on SQLite: one executemany on the driver, the time converted once.
    dialect = session.get_bind().dialect
    convert = LogEntry.__table__.c.created_at.type.bind_processor(dialect)
    created = convert(now) if convert else now
    _executemany(session, "INSERT INTO log_entry (idx, data, leaf_hash, created_at) VALUES (?, ?, ?, ?)",
                 [(i, d, h, created) for i, d, h in rows])


def insert_nodes(session: Session, rows: Sequence[tuple[int, int, bytes]]) -> None:
    if not rows:
        return
    if _is_postgresql(session) and len(rows) >= COPY_THRESHOLD:
        _copy(session, "COPY log_node (level, idx, hash) FROM STDIN (FORMAT BINARY)",
              ["int4", "int8", "bytea"], rows)
        return
    if len(rows) < COPY_THRESHOLD:
        session.execute(insert(LogNode), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in rows])
        return
    _executemany(session, "INSERT INTO log_node (level, idx, hash) VALUES (?, ?, ?)", rows)


def _executemany(session: Session, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
    session.flush()
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    dbapi.executemany(sql, rows)


def _copy(session: Session, sql: str, types: list[str], rows: Iterable[tuple[object, ...]]) -> None:
    session.flush()
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _raw(session: Session, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
    """A hot read path, straight to the driver (no statement compilation). ``?`` placeholders."""
    if _is_postgresql(session):
        sql = sql.replace("?", "%s")
    return list(session.connection().exec_driver_sql(sql, tuple(params)).tuples())


def aligned_hashes(session: Session, wanted: Iterable[Aligned]) -> dict[Aligned, bytes]:
    """Hashes of complete aligned subtrees; level 0 is the entries' leaf hashes. One query."""
    wanted = set(wanted)
    parts: list[str] = []
    params: list[int] = []
    leaves = [ix for lv, ix in wanted if lv == 0]
    if leaves:
        parts.append(f"SELECT 0, idx, leaf_hash FROM log_entry WHERE idx IN ({', '.join('?' * len(leaves))})")
        params.extend(leaves)
    nodes = [(lv, ix) for lv, ix in wanted if lv > 0]
    if nodes:
        cond = " OR ".join(["(level = ? AND idx = ?)"] * len(nodes))
        parts.append(f"SELECT level, idx, hash FROM log_node WHERE {cond}")
        params.extend(x for pair in nodes for x in pair)
    if not parts:
        return {}
    return {(lv, ix): bytes(h) for lv, ix, h in _raw(session, " UNION ALL ".join(parts), params)}


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


STREAM_SQL = "SELECT idx, data FROM log_entry WHERE idx >= %(start)s AND idx < %(end)s ORDER BY idx"
_stream_names = itertools.count(1)


def stream_entries(session: Session, start: int, end: int, chunk: int) -> Iterator[Sequence[tuple[int, bytes]]]:
    """(idx, data) of entries ``[start, end)`` in index order, ``chunk`` rows at a time, in one statement,
    never the whole range in memory.

    PostgreSQL: a server-side (named) cursor in binary format on the session's own connection, inside its
    transaction: the bytes travel as they are (text format doubles them as hex and costs the server
    and the client to encode and decode: measured 2.5x the CPU, docs/performance.md). SQLite: its own
    lazy cursor. Both give (int, bytes) rows.
    """
    params = {"start": start, "end": end}
    if not _is_postgresql(session):
        result = session.connection().exec_driver_sql(
            STREAM_SQL.replace("%(start)s", "?").replace("%(end)s", "?"), (start, end))
        try:
            yield from result.tuples().partitions(chunk)
        finally:
            result.close()
        return
    session.flush()
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor(name=f"safeslot_log_stream_{next(_stream_names)}", binary=True) as cur:
        cur.execute(STREAM_SQL, params)
        while rows := cur.fetchmany(chunk):
            yield rows


def entry(session: Session, index: int) -> LogEntry | None:
    return session.get(LogEntry, index)


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)).first()


def checkpoints(session: Session) -> list[LogCheckpoint]:
    """Every checkpoint the log ever signed (and so published), smallest first."""
    return list(session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size)))


def published_size(session: Session) -> int:
    rows = _raw(session, "SELECT max(size) FROM log_checkpoint", ())
    return int(rows[0][0] or 0)


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
