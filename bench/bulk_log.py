"""Bulk-building a transparency log for the benches: the rows `service.append` writes, at COPY speed.

`service.append` is the only writer production needs (one batch per disclosure, under the sequencer
lock). A bench that wants ten million entries spends its time in Python, one entry after another:
canonical JSON and the personal-key scan, the leaf hash, the compact range. Here the same pure
functions of the log do the same work in parallel, on aligned chunks of ``2**level`` entries:

* each chunk (in a worker process) validates and encodes its entries with the log's own
  `service.canonical`, hashes them with `merkle.leaf_hash`, and builds its complete aligned subtree
  with a fresh `merkle.CompactRange` (every node of levels ``1..level`` inside the chunk: exactly the
  nodes an append of those leaves completes), as COPY text;
* the writer (one transaction, the sequencer row locked as `append` locks it) COPYs each chunk and
  joins the chunk's root to the tree's right edge with the same `CompactRange`, one level up
  (``CompactRange(size >> level, hashes)``: at a multiple of ``2**level`` the compact range of the
  tree and of its chunk roots are the same hashes), which completes the nodes above the chunk;
  a chunk that is not full, or a log whose size is not a multiple of the chunk, is appended leaf by
  leaf with `CompactRange.append`, as `append` does;
* the head's size and root are set, and the caller signs a checkpoint with `service.checkpoint`,
  which re-derives the root from the stored nodes and refuses to sign if they do not hash to it.

tests/transparency/test_bulk_log.py proves that a log built here and one built by `service.append`
hold identical entries, nodes, head and tiles, and that `safeslot log self-check` passes on it.
PostgreSQL only (COPY); not used by the application.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from safeslot.transparency import merkle
from safeslot.transparency import service as log

LEVEL = 15  # chunks of 32,768 entries (about 25 MB of COPY text each)


@dataclass(frozen=True)
class Chunk:
    first: int  # the log index of its first entry
    level: int
    entries: str  # COPY text of its log_entry rows
    leaves: list[bytes]
    nodes: str  # COPY text of its aligned subtree's nodes (levels 1..level); "" unless full and aligned
    root: bytes | None  # its aligned subtree's hash when full and aligned


def _bytea(b: bytes) -> str:
    return "\\\\x" + b.hex()  # COPY text: the backslash of bytea's hex form is escaped


def build_chunk(first: int, entries: Iterable[Mapping[str, Any]], now: dt.datetime, level: int = LEVEL) -> Chunk:
    """Encode, hash and tree one chunk appended at ``now`` (pure: no database; run it in a worker process)."""
    datas = [log.canonical(e) for e in entries]  # the log's own checks and canonical JSON
    leaves = [merkle.leaf_hash(d) for d in datas]
    stamp = now.astimezone(dt.UTC).isoformat()
    rows = "".join(f"{first + i}\t{_bytea(d)}\t{_bytea(h)}\t{stamp}\n"
                   for i, (d, h) in enumerate(zip(datas, leaves, strict=True)))
    size = 1 << level
    if len(leaves) != size or first % size:
        return Chunk(first, level, rows, leaves, "", None)
    local = merkle.CompactRange()
    nodes: list[str] = []
    for h in leaves:
        for lv, ix, node in local.append(h)[1:]:  # level 0 lives in log_entry.leaf_hash
            nodes.append(f"{lv}\t{ix + (first >> lv)}\t{_bytea(node)}\n")
    (root,) = local.hashes
    return Chunk(first, level, rows, leaves, "".join(nodes), root)


def head(session: Session) -> tuple[int, bytes]:
    """The sequencer row (size, root), locked until the transaction ends, as `service.append` locks it."""
    size, root = session.execute(text("SELECT size, root FROM log_head WHERE id = 1 FOR UPDATE")).one()
    return int(size), bytes(root)


def _compact(session: Session, size: int) -> merkle.CompactRange:
    """The stored right edge of the tree (one row per set bit of size)."""
    hashes = []
    for lv, ix in merkle.subtree_ranges(0, size):
        sql = ("SELECT leaf_hash FROM log_entry WHERE idx = :ix" if lv == 0
               else "SELECT hash FROM log_node WHERE level = :lv AND idx = :ix")
        hashes.append(bytes(session.execute(text(sql), {"lv": lv, "ix": ix}).scalar_one()))
    return merkle.CompactRange(size, hashes)


def write(session: Session, chunks: Iterable[Chunk], now: dt.datetime) -> tuple[int, bytes]:
    """COPY the chunks, in log order, in the caller's transaction; set the head (updated at ``now``);
    return (size, root)."""
    size, root = head(session)
    compact = _compact(session, size)
    if compact.root() != root:
        raise RuntimeError("the stored right edge of the tree does not match the head")
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur:
        for chunk in chunks:
            if chunk.first != compact.size:
                raise RuntimeError(f"chunk at {chunk.first} does not follow the log's {compact.size} entries")
            with cur.copy("COPY log_entry (idx, data, leaf_hash, created_at) FROM STDIN") as cp:
                cp.write(chunk.entries)
            above: list[tuple[int, int, bytes]] = []
            if chunk.root is not None and compact.size % (1 << chunk.level) == 0:
                with cur.copy("COPY log_node (level, idx, hash) FROM STDIN") as cp:
                    cp.write(chunk.nodes)
                top = merkle.CompactRange(compact.size >> chunk.level, compact.hashes)
                above = [(lv + chunk.level, ix, h) for lv, ix, h in top.append(chunk.root)[1:]]
                compact = merkle.CompactRange(top.size << chunk.level, top.hashes)
            else:
                for h in chunk.leaves:
                    above.extend(compact.append(h)[1:])
            if above:
                with cur.copy("COPY log_node (level, idx, hash) FROM STDIN") as cp:
                    cp.write("".join(f"{lv}\t{ix}\t{_bytea(h)}\n" for lv, ix, h in above))
    session.execute(text("UPDATE log_head SET size = :size, root = :root, updated_at = :now WHERE id = 1"),
                    {"size": compact.size, "root": compact.root(), "now": now})
    session.expire_all()  # a head object the session holds is stale now
    return compact.size, compact.root()
