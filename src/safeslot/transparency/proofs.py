"""Reading the log and signing it: proofs, tiles, entry bundles, checkpoints, status, the signing key.

Publication: readers (tiles, entries, proofs) see the tree only up to the
latest *signed checkpoint*. Entries appended since then become public with the
next checkpoint, which `checkpoint` signs only after proving, from storage,
that the new tree extends the last signed one (RFC 9162 consistency proof,
checked with the pure core). A checkpoint is never signed over history that
changed. The tile layout is `tiles.py`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy.orm import Session

from safeslot import chain
from safeslot.transparency import entries, merkle, repository
from safeslot.transparency.appends import append
from safeslot.transparency.errors import BadLogRequest, BeyondLog, LogInconsistent
from safeslot.transparency.merkle import ProofError
from safeslot.transparency.models import LogCheckpoint
from safeslot.transparency.note import Checkpoint, NoteSigner, sign_note
from safeslot.transparency.tiles import TILE_HEIGHT, TILE_WIDTH, bundle


def prefetched(session: Session, plan: Callable[[merkle.GetSubtree], list[bytes]]) -> list[bytes]:
    """Run a proof plan with every hash it needs fetched in (at most) two queries."""
    wanted: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        wanted.extend(merkle.subtree_ranges(start, end))
        return b"\0" * 32

    plan(record)
    found = repository.aligned_hashes(session, wanted)

    def get(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            raise LogInconsistent(
                f"Subtree (level {level}, index {index}) is missing from storage; stop the log and investigate."
            ) from None

    return plan(merkle.subtree_getter(get))


def tree_root(session: Session, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return prefetched(session, lambda get: [get(0, size)])[0]


def published_size(session: Session) -> int:
    return repository.published_size(session)


def _check_size(session: Session, size: int | None) -> int:
    published = published_size(session)
    if size is None:
        return published
    if size < 0:
        raise BadLogRequest("Tree sizes are not negative.")
    if size > published:
        raise BeyondLog(f"The log has published {published} entries; ask for a size up to {published}.")
    return size


@dataclass(frozen=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    proof: list[bytes]


def inclusion(session: Session, index: int, size: int | None = None) -> InclusionProof:
    size = _check_size(session, size)
    if not 0 <= index < size:
        raise BadLogRequest(f"Index {index} is not in a tree of size {size}; the index must be below the size.")
    proof = prefetched(session, lambda get: [*merkle.inclusion_proof(index, size, get), get(index, index + 1),
                                              get(0, size)])
    *path, leaf, root = proof
    return InclusionProof(index, size, leaf, root, path)


def consistency(session: Session, old: int, new: int | None = None) -> list[bytes]:
    new = _check_size(session, new)
    if not 0 < old <= new:
        raise BadLogRequest(
            f"No consistency proof from size {old} to {new}: the old size must be between 1 and the new size "
            "(every tree extends the empty tree, so a proof from size 0 would prove nothing)."
        )
    if old == new:
        return []
    return prefetched(session, lambda get: merkle.consistency_proof(old, new, get))


def tile(session: Session, level: int, index: int, width: int) -> bytes:
    """tlog-tiles: hashes at tree level ``8 * level``, indices ``[256 index, 256 index + width)``."""
    available = published_size(session) >> (TILE_HEIGHT * level)
    start = index * TILE_WIDTH
    if start + width > available:
        raise BeyondLog("This tile is not in the published tree; fetch the checkpoint first.")
    hashes = repository.hashes_at_level(session, TILE_HEIGHT * level, start, width)
    if len(hashes) != width:
        raise LogInconsistent("Stored hashes for this tile are missing; stop the log and investigate.")
    return b"".join(hashes)


def entry_bundle(session: Session, index: int, width: int) -> bytes:
    """tlog-tiles entry bundle: each entry prefixed by its big-endian uint16 length."""
    start = index * TILE_WIDTH
    if start + width > published_size(session):
        raise BeyondLog("This entry bundle is not in the published tree; fetch the checkpoint first.")
    datas = repository.entries(session, start, width)
    return bundle(datas)


def entry_chunks(session: Session, size: int, chunk: int = 10_000) -> Iterator[list[bytes]]:
    """The entries ``[0, size)`` of the published tree in log order, ``chunk`` at a time, in one
    streamed statement: the bytes the entry bundles hold, for a reader of the whole log on this
    database (the report), without a query per bundle. The caller hashes them into the tree
    itself; a missing entry is `LogInconsistent` here."""
    _check_size(session, size)
    expected = 0
    for rows in repository.stream_entries(session, 0, size, chunk):
        # ordered by the primary key, so first and last bound the chunk: no entry is missing inside
        if rows[0][0] != expected or rows[-1][0] != expected + len(rows) - 1:
            break
        expected += len(rows)
        yield list(map(itemgetter(1), rows))
    if expected != size:
        raise LogInconsistent(f"Entries from {expected} on are not all in storage; stop the log and investigate.")


def entry(session: Session, index: int) -> tuple[bytes, bytes]:
    """(canonical JSON bytes, leaf hash) of a published entry."""
    if index < 0:
        raise BadLogRequest("Entry indices start at 0.")
    _check_size(session, index + 1)
    row = repository.entry(session, index)
    if row is None:
        raise LogInconsistent(f"Entry {index} is missing from storage; stop the log and investigate.")
    return row.data, row.leaf_hash


def checkpoint(session: Session, signer: NoteSigner, now: dt.datetime, *, origin: str) -> LogCheckpoint:
    """Sign the current tree, after checking it extends the last signed checkpoint.

    ``signer`` is anything with the `NoteSigner` members (a name, a key ID, ``sign``): the file key of
    `load_signer`, or a key held in an HSM or a KMS that never leaves it.

    Returns the existing checkpoint when nothing was appended since. Raises
    `LogInconsistent`, and signs nothing, when storage no longer reproduces
    the last signed root.
    """
    last = repository.latest_checkpoint(session)
    current = repository.head(session)
    if last is not None and last.size == current.size and last.root == current.root and not chain.pending(session)[1]:
        return last  # nothing new: readers do not queue on the sequencer lock
    head = repository.lock_head(session)
    commit_record_heads(session, now)
    last = repository.latest_checkpoint(session)
    if last is not None and last.size == head.size and last.root == head.root:
        return last
    size = head.size
    root = tree_root(session, size)
    if root != head.root:
        raise LogInconsistent(
            f"The stored tree of size {size} does not hash to the head's root; refusing to sign."
        )
    if last is not None:
        if last.size > size:
            raise LogInconsistent(f"The log shrank from {last.size} to {size} entries; refusing to sign.")
        try:
            if last.size == size:
                merkle.verify_consistency(size, size, [], last.root, root)
            elif last.size > 0:  # every tree extends the empty one (see merkle.py)
                proof = prefetched(session, lambda get: merkle.consistency_proof(last.size, size, get))
                merkle.verify_consistency(last.size, size, proof, last.root, root)
        except ProofError as exc:
            raise LogInconsistent(
                f"The tree of size {size} does not extend the checkpoint of size {last.size} ({exc}); "
                "refusing to sign. Stop the log and investigate."
            ) from exc
    note = sign_note(Checkpoint(origin, size, root).to_text(), [signer])
    return repository.add_checkpoint(session, size, root, note, now)


def commit_record_heads(session: Session, now: dt.datetime) -> int | None:
    """Append a ``records.heads`` entry when a chained table grew since the last one (under the sequencer lock).

    It holds the head hash of every chained table (safeslot/chain.py), never a count. Returns its index.
    """
    current, new = chain.pending(session)
    if not new:
        return None
    entry = entries.RecordsHeads(time=now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 heads={t: h.hex() for t, h in sorted(current.items())})
    (index,) = append(session, [entry], now=now)
    chain.record_commit(session, new, index, now)
    return index


def checkpoint_note(session: Session) -> str | None:
    """The latest checkpoint with every stored witness cosignature appended."""
    latest = repository.latest_checkpoint(session)
    if latest is None:
        return None
    lines = "".join(c.line + "\n" for c in repository.cosignatures(session, latest.size))
    return latest.note + lines


@dataclass(frozen=True)
class Status:
    size: int
    root: bytes
    published_size: int
    last_checkpoint_at: dt.datetime | None
    cosigners: list[str]


def status(session: Session) -> Status:
    h = repository.head(session)
    latest = repository.latest_checkpoint(session)
    cosigners = [c.witness for c in repository.cosignatures(session, latest.size)] if latest else []
    return Status(h.size, h.root, latest.size if latest else 0, latest.signed_at if latest else None, cosigners)
