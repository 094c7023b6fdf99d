"""The log's queries (transparency/repository.py): entries stream back in index order in chunks, exactly the
range asked for, as the bytes stored (the report build and the self-check read the whole log this way); the
stored tree's hashes are read back by level and by aligned subtree; the published size is the largest
checkpoint; a witness's last cosignature is found per witness. On both databases: the stream and the hash
reads are written per dialect."""

from __future__ import annotations

import datetime as dt

import rfc8785
from sqlalchemy.orm import Session

from safeslot.transparency import merkle, repository, service
from tests.transparency.support import entries

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)


def test_entries_stream_back_in_order_in_chunks_as_stored(session: Session) -> None:
    service.append_raw(session, entries(7), now=NOW)
    chunks = [list(c) for c in repository.stream_entries(session, 2, 7, 2)]
    assert [len(c) for c in chunks] == [2, 2, 1]
    rows = [(int(i), bytes(d)) for c in chunks for i, d in c]
    assert [i for i, _ in rows] == [2, 3, 4, 5, 6]
    assert [d for _, d in rows] == [rfc8785.dumps(e) for e in entries(7)[2:]] == repository.entries(session, 2, 5)
    assert list(repository.stream_entries(session, 7, 9, 2)) == []


def test_the_stored_tree_reads_back_by_level_and_by_aligned_subtree(session: Session) -> None:
    service.append_raw(session, entries(6), now=NOW)
    leaves = [merkle.leaf_hash(rfc8785.dumps(e)) for e in entries(6)]
    assert repository.hashes_at_level(session, 0, 1, 3) == leaves[1:4]
    assert repository.hashes_at_level(session, 1, 0, 3) == [merkle.node_hash(*leaves[i:i + 2]) for i in (0, 2, 4)]
    got = repository.aligned_hashes(session, [(0, 5), (2, 0), (1, 2)])
    assert got == {(0, 5): leaves[5], (1, 2): merkle.node_hash(leaves[4], leaves[5]),
                   (2, 0): merkle.root_from_leaves(leaves[:4])}
    assert repository.aligned_hashes(session, []) == {}


def test_the_published_size_and_each_witnesss_last_cosignature(session: Session) -> None:
    assert repository.published_size(session) == 0
    for size in (3, 8, 5):
        repository.add_checkpoint(session, size, bytes(32), f"note {size}", NOW)
    assert repository.published_size(session) == 8
    assert [c.size for c in repository.checkpoints(session)] == [3, 5, 8]
    repository.add_cosignature(session, 3, "witness.example/a", "— a sig", NOW)
    repository.add_cosignature(session, 8, "witness.example/b", "— b sig", NOW)
    assert repository.last_cosigned_size(session, "witness.example/a") == 3
    assert repository.last_cosigned_size(session, "witness.example/c") == 0
    assert [c.witness for c in repository.cosignatures(session, 8)] == ["witness.example/b"]
