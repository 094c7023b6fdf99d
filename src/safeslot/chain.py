"""Hash chains for the records people rely on (invariant "the record cannot be rewritten from inside").

The staff access log, its alerts, the accounting of disclosures and the
privileged identity events are append-only tables (triggers refuse UPDATE and
DELETE on both databases) *and* hash chains: each row stores

* ``chain_seq``  its place in the table's chain, 1, 2, 3 … with no gaps;
* ``chain_prev`` the previous row's ``chain_hash`` (32 zero bytes for the first);
* ``chain_hash`` ``SHA-256("safeslot record chain v1\\n" ‖ table ‖ "\\n" ‖ prev ‖
  canonical JSON {"seq": seq, "row": content})``, where ``content`` is every
  column but the surrogate ``id`` and the chain columns, without nulls (so a
  later *nullable* column leaves old hashes alone), datetimes as UTC
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, bytes as base64, RFC 8785 canonical JSON.

The heads of every chain are committed in the public transparency log at each
checkpoint (a ``records.heads`` entry, `transparency.service.checkpoint`), so
deleting, editing or re-chaining a record that a checkpoint already covered is
detected by `safeslot log self-check`, which names the first broken record.
Only the head hashes are public, never how many records there are (the public
must not learn how often staff read people's records).

A table joins in two lines: the model inherits `Chained`, and a migration calls
`migration_install(op, "<table>")` (columns, back-fill, append-only triggers).

Writers need do nothing: a ``before_flush`` hook on every ``Session`` numbers
and hashes new rows. It serialises chain writers on the log's sequencer row
(``log_head``, ``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already serialises writers), so there is one lock for the log and every chain
and two writers cannot deadlock on them in opposite orders.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, LargeBinary, String, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column, object_mapper
from sqlalchemy.orm.attributes import instance_state

from safeslot.db import Base, UTCDateTime
from safeslot.kit.canonical import canonical_json

GENESIS = bytes(32)
CHAIN_COLUMNS = frozenset({"chain_seq", "chain_prev", "chain_hash"})
_DOMAIN = b"safeslot record chain v1\n"


class ChainError(Exception):
    """A chain does not verify; the message names the table and the first broken record."""


# --- pure core ---


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)  # an enum member hashes as its value, as the database stores it
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Mapping):
        return {str(k): _norm(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    raise TypeError(f"a chained column holds a {type(value).__name__}, which has no canonical form")


def content(row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of a row: every column but ``id`` and the chain columns, nulls left out."""
    return {k: _norm(v) for k, v in row.items() if k != "id" and k not in CHAIN_COLUMNS and v is not None}


def row_hash(table: str, seq: int, prev: bytes, row: Mapping[str, Any]) -> bytes:
    # RFC 8785 through the log's pure fast path (orjson where provably identical, rfc8785 otherwise).
    body = canonical_json({"seq": seq, "row": content(row)})
    return hashlib.sha256(_DOMAIN + table.encode() + b"\n" + prev + body).digest()


@dataclass
class Walk:
    """What walking one chain found: its length and head, and where committed heads sit in it."""

    table: str
    count: int = 0
    head: bytes = GENESIS
    found: dict[bytes, int] = field(default_factory=dict)  # committed head -> seq


def walk(table: str, rows: Iterable[Mapping[str, Any]], committed: Iterable[bytes] = ()) -> Walk:
    """Check every link of a chain, in ``chain_seq`` order; raise `ChainError` at the first broken record."""
    wanted = set(committed)
    w = Walk(table)
    for row in rows:
        seq, prev, own = row["chain_seq"], row["chain_prev"], row["chain_hash"]
        ident = f"{table} record #{w.count + 1}"
        if seq is None or prev is None or own is None:
            raise ChainError(f"{table} record id {row.get('id')} is not chained (written around the chain)")
        prev, own = bytes(prev), bytes(own)
        if seq != w.count + 1:
            if seq > w.count + 1:
                raise ChainError(f"{ident} is missing (deleted): the chain goes from #{w.count} to #{seq}")
            raise ChainError(f"{table} record #{seq} appears twice")
        if prev != w.head:
            raise ChainError(f"{ident} (id {row.get('id')}) does not follow record #{w.count}: "
                             "a record before it was removed or rewritten")
        if row_hash(table, seq, prev, row) != own:
            raise ChainError(f"{ident} (id {row.get('id')}) was edited: its content no longer matches its hash")
        w.count, w.head = seq, own
        if own in wanted:
            w.found[own] = seq
    return w


def check_commitments(w: Walk, commits: Iterable[tuple[int, bytes]]) -> None:
    """Every head the log committed (``(log index, head)`` in log order) must be in the chain, in order."""
    last_seq, last_index = 0, None
    for index, h in commits:
        seq = w.found.get(h)
        if seq is None:
            after = f" after record #{last_seq} (committed at log entry {last_index})" if last_index is not None else ""
            raise ChainError(
                f"{w.table}: the chain head committed at log entry {index} is gone — records were deleted or "
                f"rewritten{after}; the table now ends at record #{w.count}"
            )
        if seq < last_seq:
            raise ChainError(f"{w.table}: log entry {index} commits record #{seq}, before #{last_seq} "
                             f"committed at entry {last_index} (the chain was cut back)")
        last_seq, last_index = seq, index


# --- storage ---


class Chained:
    """Mixin for an append-only, hash-chained table. Values are set by the flush hook."""

    chain_seq: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    chain_prev: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class ChainCommit(Base):
    """Every chain head committed in the log (append-only): which table, which head, which log entry."""

    __tablename__ = "record_chain_commit"
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    log_index: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def chained_tables() -> list[str]:
    """Every chained table the models declare, sorted (one place: `Chained` subclasses).

    The kernel's one upward import, and on purpose: a chain left out of a ``records.heads`` entry would go
    unwatched, so the model registry is loaded here, whoever calls, rather than trusted to be loaded.
    """
    import safeslot.models_all  # noqa: F401, TID251  (every model registered; tests/test_import_graph.py)

    names: set[str] = set()
    stack = list(Chained.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        table = getattr(cls, "__table__", None)
        if table is not None:
            names.add(table.name)
    return sorted(names)


def lock_sequencer(conn: Connection) -> None:
    """The log's sequencer row: one writer at a time for the log and every chain."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT id FROM log_head WHERE id = 1 FOR UPDATE"))


def last_link(conn: Connection, table: str) -> tuple[int, bytes]:
    row = conn.execute(
        sa.text(f"SELECT chain_seq, chain_hash FROM {table} ORDER BY chain_seq DESC LIMIT 1")
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), bytes(row[1]))


def heads(conn: Connection, tables: Iterable[str] | None = None) -> dict[str, bytes]:
    """The current head of every non-empty chain."""
    out: dict[str, bytes] = {}
    for t in chained_tables() if tables is None else tables:
        seq, h = last_link(conn, t)
        if seq:
            out[t] = h
    return out


def pending(session: Session) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(every current head, the heads no ``records.heads`` log entry holds yet); nothing to commit when the
    second is empty."""
    conn = session.connection()
    current = heads(conn)
    if not current:
        return {}, {}
    found = conn.execute(sa.select(ChainCommit.table_name, ChainCommit.chain_hash).where(
        sa.or_(*(sa.and_(ChainCommit.table_name == t, ChainCommit.chain_hash == h) for t, h in current.items()))
    ))
    committed = {(t, bytes(h)) for t, h in found}
    return current, {t: h for t, h in current.items() if (t, h) not in committed}


def record_commit(session: Session, new: Mapping[str, bytes], log_index: int, now: dt.datetime) -> None:
    if new:
        session.execute(sa.insert(ChainCommit), [
            {"table_name": t, "chain_hash": h, "log_index": log_index, "at": now} for t, h in new.items()
        ])


def rows(conn: Connection, table: str, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every row of a chained table in chain order, streamed in batches (keyset pagination)."""
    chained_tables()  # every model registered
    t = Base.metadata.tables[table]
    after = 0
    while True:
        got = conn.execute(sa.select(t).where(t.c.chain_seq > after).order_by(t.c.chain_seq).limit(batch)).mappings()
        n = 0
        for r in got:
            n += 1
            after = r["chain_seq"]
            yield dict(r)
        if n < batch:
            return


def walk_table(conn: Connection, table: str, committed: Iterable[bytes] = ()) -> Walk:
    return walk(table, rows(conn, table), committed)


# --- exports, for verifiers outside the office ---


def export_lines(conn: Connection, table: str) -> Iterator[dict[str, Any]]:
    """A chained table as JSON-ready lines: a header, then each record's hashed content and links.

    An auditor given the file checks it against the heads the public log committed
    (`safeslot log verify --records FILE`), with no access to the office's database.
    """
    yield {"table": table, "format": "safeslot record chain v1"}
    for row in rows(conn, table):
        yield {"id": row.get("id"), "seq": row["chain_seq"], "prev": bytes(row["chain_prev"]).hex(),
               "hash": bytes(row["chain_hash"]).hex(), "row": content(row)}


def walk_export(lines: Iterable[Mapping[str, Any]], committed: Iterable[bytes] = ()) -> Walk:
    """`walk` over an export made by `export_lines` (the content is already in canonical form)."""
    it = iter(lines)
    header = next(it, None)
    if not header or header.get("format") != "safeslot record chain v1" or not isinstance(header.get("table"), str):
        raise ChainError("not a safeslot record chain export (no header line)")
    table = header["table"]

    def records() -> Iterator[dict[str, Any]]:
        for line in it:
            try:
                yield {**line["row"], "id": line.get("id"), "chain_seq": int(line["seq"]),
                       "chain_prev": bytes.fromhex(line["prev"]), "chain_hash": bytes.fromhex(line["hash"])}
            except (KeyError, TypeError, ValueError) as exc:
                raise ChainError(f"{table}: a malformed line in the export ({type(exc).__name__})") from exc

    return walk(table, records(), committed)


# --- the flush hook ---


def _column_values(obj: Chained) -> dict[str, Any]:
    mapper = object_mapper(obj)
    values: dict[str, Any] = {}
    for key, column in mapper.columns.items():
        value = getattr(obj, key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg  # type: ignore[attr-defined]  # the INSERT would write it: hash it
            setattr(obj, key, value)
        elif value is None and column.server_default is not None and column.name not in CHAIN_COLUMNS:
            raise TypeError(f"{column.table.name}.{column.name}: chained columns need Python-side defaults")
        values[column.name] = value
    return values


@event.listens_for(Session, "before_flush")
def _chain_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    new = [o for o in session.new if isinstance(o, Chained)]
    if not new:
        return
    by_table: dict[str, list[Chained]] = defaultdict(list)
    for obj in sorted(new, key=lambda o: instance_state(o).insert_order or 0):
        by_table[object_mapper(obj).local_table.name].append(obj)  # type: ignore[attr-defined]
    conn = session.connection()
    lock_sequencer(conn)
    for table, objs in by_table.items():
        seq, prev = last_link(conn, table)
        for obj in objs:
            seq += 1
            values = _column_values(obj)
            own = row_hash(table, seq, prev, values)
            obj.chain_seq, obj.chain_prev, obj.chain_hash = seq, prev, own
            prev = own


# --- migrations ---


def migration_install(op: Any, table: str) -> None:
    """Make ``table`` a chained, append-only table: columns, back-fill in id order, triggers.

    ``op`` is Alembic's ``op``. Needs the ``log_append_only()`` function on
    PostgreSQL (migration 0003). No table rebuild on SQLite (a rebuild would
    trip foreign keys that point at the table): the columns stay nullable there
    and a trigger refuses a row written around the chain.
    """
    bind: Connection = op.get_bind()
    op.add_column(table, sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.add_column(table, sa.Column("chain_prev", sa.LargeBinary(32), nullable=True))
    op.add_column(table, sa.Column("chain_hash", sa.LargeBinary(32), nullable=True))
    reflected = sa.Table(table, sa.MetaData(), autoload_with=bind)
    prev = GENESIS
    found = bind.execute(sa.select(reflected).order_by(reflected.c.id)).mappings().all()
    for seq, r in enumerate(found, start=1):
        own = row_hash(table, seq, prev, dict(r))
        bind.execute(reflected.update().where(reflected.c.id == r["id"]).values(
            chain_seq=seq, chain_prev=prev, chain_hash=own))
        prev = own
    op.create_index(f"ix_{table}_chain_seq", table, ["chain_seq"], unique=True)
    if bind.dialect.name == "postgresql":
        for column in ("chain_seq", "chain_prev", "chain_hash"):
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
    else:
        op.execute(f"CREATE TRIGGER {table}_chained BEFORE INSERT ON {table} "
                   "WHEN NEW.chain_seq IS NULL OR NEW.chain_prev IS NULL OR NEW.chain_hash IS NULL "
                   "BEGIN SELECT RAISE(ABORT, 'chained table: write through the chain'); END")
    install_append_only(op, table)


def install_append_only(op: Any, table: str) -> None:
    """UPDATE, DELETE (and on PostgreSQL TRUNCATE) on ``table`` refused by the database.

    Idempotent: triggers of the same names (a table that was append-only before it joined
    the chains) are replaced.
    """
    remove_append_only(op, table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION log_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION log_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       "BEGIN SELECT RAISE(ABORT, 'append-only'); END")


def remove_append_only(op: Any, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def migration_uninstall(op: Any, table: str) -> None:
    remove_append_only(op, table)
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_chained")
    op.drop_index(f"ix_{table}_chain_seq", table_name=table)
    with op.batch_alter_table(table) as batch:
        batch.drop_column("chain_hash")
        batch.drop_column("chain_prev")
        batch.drop_column("chain_seq")
