"""The bench's bulk log builder (bench/bulk_log.py) writes exactly what `service.append` writes.

bench/scale.py loads ten million log entries with it; the figures it measures (tiles, the self-check,
the report) are only worth something if that log is the one the appender would have made. Same
entries, same order: the entries, the Merkle nodes, the head, every tile and the signed root must be
identical, and `safeslot log self-check`'s verification must pass on the bulk-built log. PostgreSQL
only (the builder writes with COPY).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bench import bulk_log
from sqlalchemy import text
from sqlalchemy.orm import Session

from safeslot.transparency import selfcheck
from safeslot.transparency import service as log
from safeslot.transparency.errors import EntryRejected
from safeslot.transparency.note import Signer
from safeslot.transparency.tiles import TILE_WIDTH

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "bulk.example/log"
LEVEL = 4  # chunks of 16 entries, so a small log has many chunks, full and partial, aligned and not


@pytest.fixture
def pg(backend: str, session: Session) -> Session:
    if backend != "postgresql":
        pytest.skip("the bulk builder writes with PostgreSQL's COPY")
    return session


def _entries(n: int, start: int = 0) -> list[dict[str, Any]]:
    kinds = ("disclosure.decision", "disclosure.request_refused", "policy.change")
    out: list[dict[str, Any]] = []
    for i in range(start, start + n):
        kind = kinds[i % 3]
        if kind == "disclosure.decision":
            out.append({"event": kind, "time": "2027-02-01T10:00:00Z", "request_id": i, "agency": "Agency A",
                        "people": 1 + i % 4, "categories": [{"category": "identity", "outcome": "allow"}]})
        elif kind == "disclosure.request_refused":
            out.append({"event": kind, "time": "2027-02-01T10:00:00Z", "agency": "Agency B",
                        "instrument_type": "consent"})
        else:
            out.append({"event": kind, "time": "2027-02-01T10:00:00Z", "change_id": i, "step": "proposed"})
    return out


def _chunks(entries: list[dict[str, Any]], first: int) -> list[bulk_log.Chunk]:
    """Chunks as bench/scale.py cuts them: on multiples of 2**LEVEL from the log's size."""
    out, pos = [], first
    while pos < first + len(entries):
        end = min(first + len(entries), (pos // (1 << LEVEL) + 1) << LEVEL)
        out.append(bulk_log.build_chunk(pos, entries[pos - first:end - first], NOW, LEVEL))
        pos = end
    return out


def _state(s: Session) -> dict[str, Any]:
    size, root = s.execute(text("SELECT size, root FROM log_head WHERE id = 1")).one()
    tiles = {}
    for level in (0, 1):
        count = size >> (8 * level)
        for index in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
            width = min(TILE_WIDTH, count - index * TILE_WIDTH)
            tiles[(level, index, width)] = b"".join(
                bytes(h) for (h,) in s.execute(text(
                    "SELECT leaf_hash FROM log_entry WHERE idx >= :a AND idx < :b ORDER BY idx" if level == 0 else
                    "SELECT hash FROM log_node WHERE level = 8 AND idx >= :a AND idx < :b ORDER BY idx"),
                    {"a": index * TILE_WIDTH, "b": index * TILE_WIDTH + width}))
    return {
        "head": (size, bytes(root)),
        "entries": [(i, bytes(d), bytes(h), c) for i, d, h, c in s.execute(text(
            "SELECT idx, data, leaf_hash, created_at FROM log_entry ORDER BY idx"))],
        "nodes": [(lv, ix, bytes(h)) for lv, ix, h in s.execute(text(
            "SELECT level, idx, hash FROM log_node ORDER BY level, idx"))],
        "tiles": tiles,
    }


def _by_append(s: Session, seed: list[dict[str, Any]], entries: list[dict[str, Any]]) -> dict[str, Any]:
    if seed:
        log.append_raw(s, seed, now=NOW)
    for i in range(0, len(entries), 97):  # batches that fit no chunk boundary
        log.append_raw(s, entries[i:i + 97], now=NOW)
    return _state(s)


def _by_bulk(s: Session, seed: list[dict[str, Any]], entries: list[dict[str, Any]]) -> dict[str, Any]:
    if seed:
        log.append_raw(s, seed, now=NOW)
    bulk_log.write(s, _chunks(entries, len(seed)), NOW)
    return _state(s)


@pytest.mark.parametrize("seeded", [0, 5, 16], ids=["empty log", "unaligned start", "aligned start"])
def test_bulk_and_append_write_identical_logs(pg: Session, seeded: int) -> None:
    seed, entries = _entries(seeded), _entries(600, start=seeded)  # 600: two full level-0 tiles and a partial
    outer = pg.begin_nested()
    appended = _by_append(pg, seed, entries)
    outer.rollback()
    outer = pg.begin_nested()
    bulk = _by_bulk(pg, seed, entries)
    assert bulk["head"][0] == seeded + 600
    assert len(bulk["nodes"]) == len(appended["nodes"]) > 0
    for part in ("head", "entries", "nodes", "tiles"):
        assert bulk[part] == appended[part], part
    # what readers are served: the same tiles through the log's own service once signed
    signer = Signer.generate(ORIGIN)
    cp = log.checkpoint(pg, signer, NOW, origin=ORIGIN)
    assert (cp.size, bytes(cp.root)) == appended["head"]
    assert log.tile(pg, 0, 1, TILE_WIDTH) == appended["tiles"][(0, 1, TILE_WIDTH)]
    outer.rollback()


def test_the_self_check_passes_on_a_bulk_built_log(pg: Session) -> None:
    signer = Signer.generate(ORIGIN)
    bulk_log.write(pg, _chunks(_entries(300), 0), NOW)
    log.checkpoint(pg, signer, NOW, origin=ORIGIN)
    bulk_log.write(pg, _chunks(_entries(333, start=300), 300), NOW)  # a second load extends the signed tree
    log.checkpoint(pg, signer, NOW, origin=ORIGIN)
    run = selfcheck.self_verify(pg, signer.verifier(), ORIGIN, NOW, method="cli")
    assert run.ok, run.detail
    assert run.size == 633


def test_a_chunk_that_does_not_follow_the_log_is_refused_and_writes_nothing(pg: Session) -> None:
    log.append_raw(pg, _entries(3), now=NOW)
    before = _state(pg)
    with pytest.raises(RuntimeError, match="does not follow"):
        bulk_log.write(pg, _chunks(_entries(20, start=3), 2), NOW)  # one index too early: would overwrite
    assert _state(pg) == before


def test_the_builder_refuses_what_the_log_refuses() -> None:
    with pytest.raises(EntryRejected, match="personal data"):
        bulk_log.build_chunk(0, [{"event": "disclosure.decision", "full_name": "Test Person 1"}], NOW, LEVEL)
    with pytest.raises(EntryRejected, match="Unknown log event"):
        bulk_log.build_chunk(0, [{"event": "nothing.here"}], NOW, LEVEL)
