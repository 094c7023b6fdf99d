"""The transparency log's rules: validated appends, signed checkpoints, proofs and tiles.

`append` is what the disclosure gate calls *inside its own transaction*
(invariant "no disclosure without a record"): if it raises, the caller's transaction fails and
nothing is released. It never commits.

Sequencing: `append` and `checkpoint` lock the single ``log_head`` row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every transaction already
holds the write lock from ``BEGIN IMMEDIATE``), so there is one writer at a
time and indices are dense.

Publication: readers (tiles, entries, proofs) see the tree only up to the
latest *signed checkpoint*. Entries appended since then become public with the
next checkpoint, which `checkpoint` signs only after proving, from storage,
that the new tree extends the last signed one (RFC 9162 consistency proof,
checked with the pure core). A checkpoint is never signed over history that
changed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import rfc8785
from sqlalchemy import text
from sqlalchemy.orm import Session

from safeslot import chain
from safeslot.transparency import canonical as canonical_form
from safeslot.transparency import entries, merkle, repository
from safeslot.transparency.errors import BadLogRequest, BeyondLog, EntryRejected, LogInconsistent, LogKeyMissing
from safeslot.transparency.merkle import CompactRange, ProofError
from safeslot.transparency.models import MAX_ENTRY_BYTES, LogCheckpoint
from safeslot.transparency.note import (
    Checkpoint,
    CosignatureVerifier,
    NoteError,
    Signer,
    open_note,
    sign_note,
)
from safeslot.transparency.tiles import TILE_HEIGHT, TILE_WIDTH, bundle

# The event types the log accepts: derived from the entry models (transparency/entries.py).
EVENTS: frozenset[str] = entries.EVENTS

# Keys that can only carry personal data. Entries hold commitments instead
# (`commitment`); an entry with any of these keys, at any depth, is refused.
# Deliberately narrow: an agency's "name" or "address" is not personal data.
PERSONAL_KEYS: frozenset[str] = frozenset(
    {
        "person_id", "person_name", "first_name", "last_name", "full_name", "given_name", "family_name",
        "email", "phone", "phone_number", "date_of_birth", "dob", "birth_date", "ssn",
        "confirmation_code", "initials", "home_address",
    }
)


def is_known_event(event: str) -> bool:
    return event in EVENTS


def commitment(salt: bytes, person_id: str, request_id: str) -> str:
    """The person's commitment: hex ``SHA-256(salt ‖ person id ‖ request id)`` (UTF-8 ids).

    The person receives the salt with their accounting entry and can then find
    the entry about them; without the salt nobody can link it to them.
    """
    if len(salt) < 16:
        raise ValueError("the salt must be at least 16 random bytes")
    return hashlib.sha256(salt + person_id.encode() + request_id.encode()).hexdigest()


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def _personal_keys(value: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if str(k).lower() in PERSONAL_KEYS:
                found.append(here)
            found.extend(_personal_keys(v, here))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_personal_keys(v, f"{path}[{i}]"))
    return found


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON (the fast path is proven identical; see transparency/canonical.py)."""
    return canonical_form.canonical_json(value)


def canonical(entry: entries.EntryBase | Mapping[str, Any]) -> bytes:
    """Validate an entry and return its RFC 8785 canonical JSON bytes.

    The application's writers pass typed entries (transparency/entries.py: unknown fields and
    free text were refused when the model was built). A plain JSON object (tools, tests,
    benchmarks writing raw entries) gets the checks every entry gets: a known event, no
    personal keys, canonical JSON, the size limit.
    """
    if isinstance(entry, entries.EntryBase):
        value = entries.as_json(entry)
    elif isinstance(entry, Mapping):
        value = entry if type(entry) is dict else dict(entry)
        event = value.get("event")
        if not isinstance(event, str) or not is_known_event(event):
            raise EntryRejected(f"Unknown log event type; use one of: {', '.join(sorted(EVENTS))}.")
    else:
        raise EntryRejected("A log entry must be a JSON object with an 'event' field.")
    plain, personal = canonical_form.scan(value, PERSONAL_KEYS)
    if personal or not plain:
        found = _personal_keys(value)  # the general walk, which also says where
        if found:
            raise EntryRejected(
                "Log entries must not hold personal data; replace these fields with commitments: "
                + ", ".join(found[:5])
            )
    data: bytes | None = None
    if plain:
        try:
            data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            data = None  # e.g. a lone surrogate: let rfc8785 name the problem
    try:
        if data is None:
            data = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EntryRejected(
            f"The entry cannot be written as RFC 8785 canonical JSON ({type(exc).__name__}); "
            "use strings, finite numbers, booleans, null, lists and objects."
        ) from exc
    if len(data) > MAX_ENTRY_BYTES:
        raise EntryRejected(f"The entry is {len(data)} bytes; a log entry holds at most {MAX_ENTRY_BYTES}.")
    return data


def _db_now(session: Session) -> dt.datetime:
    # The database's clock, used only when the caller passes none.
    value = session.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _load_compact(session: Session, size: int) -> CompactRange:
    wanted = merkle.subtree_ranges(0, size)
    found = repository.aligned_hashes(session, wanted)
    try:
        return CompactRange(size, [found[p] for p in wanted])
    except KeyError as exc:
        raise LogInconsistent(
            f"The stored tree of size {size} misses subtree {exc.args[0]}; stop the log and restore from backup."
        ) from exc


def append(
    session: Session, batch: Sequence[entries.EntryBase | Mapping[str, Any]], *, now: dt.datetime | None = None
) -> list[int]:
    """Append entries in one batch; return their indices. Runs in the caller's transaction."""
    datas = [canonical(e) for e in batch]
    if not datas:
        return []
    now = now or _db_now(session)
    head = repository.lock_head(session)
    compact = _load_compact(session, head.size)
    if compact.root() != head.root:
        raise LogInconsistent(
            "The stored right edge of the tree does not match the head; stop the log and investigate."
        )
    first = head.size
    leaf = merkle.leaf_hash
    rows: list[tuple[int, bytes, bytes]] = []
    nodes: list[tuple[int, int, bytes]] = []
    for i, data in enumerate(datas):
        h = leaf(data)
        rows.append((first + i, data, h))
        nodes.extend(compact.append(h)[1:])  # level 0 lives in log_entry.leaf_hash
    repository.insert_entries(session, rows, now)
    repository.insert_nodes(session, nodes)
    head.size = compact.size
    head.root = compact.root()
    head.updated_at = now
    session.flush()
    return list(range(first, first + len(datas)))


# --- reading: proofs, tiles, entries ---


def _prefetched(session: Session, plan: Callable[[merkle.GetSubtree], list[bytes]]) -> list[bytes]:
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
    return _prefetched(session, lambda get: [get(0, size)])[0]


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
    proof = _prefetched(session, lambda get: [*merkle.inclusion_proof(index, size, get), get(index, index + 1),
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
    return _prefetched(session, lambda get: merkle.consistency_proof(old, new, get))


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


def entry(session: Session, index: int) -> tuple[bytes, bytes]:
    """(canonical JSON bytes, leaf hash) of a published entry."""
    if index < 0:
        raise BadLogRequest("Entry indices start at 0.")
    _check_size(session, index + 1)
    row = repository.entry(session, index)
    if row is None:
        raise LogInconsistent(f"Entry {index} is missing from storage; stop the log and investigate.")
    return row.data, row.leaf_hash


# --- checkpoints and witnesses ---


def checkpoint(session: Session, signer: Signer, now: dt.datetime, *, origin: str) -> LogCheckpoint:
    """Sign the current tree, after checking it extends the last signed checkpoint.

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
                proof = _prefetched(session, lambda get: merkle.consistency_proof(last.size, size, get))
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
class Witness:
    url: str
    verifier: CosignatureVerifier

    @classmethod
    def parse(cls, spec: str) -> Witness:
        """A settings entry: ``"<URL> <vkey>"``."""
        url, _, vkey = spec.strip().partition(" ")
        return cls(url.rstrip("/"), CosignatureVerifier.parse(vkey.strip()))


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def submit_to_witnesses(
    session: Session, cp: LogCheckpoint, witnesses: Iterable[Witness], now: dt.datetime, http: httpx.Client
) -> dict[str, str]:
    """tlog-witness add-checkpoint to each witness; store verified cosignatures.

    Returns ``{witness name: outcome}``. A witness that is down or refuses does
    not stop the log: the checkpoint is served with the cosignatures it got.
    """
    outcomes: dict[str, str] = {}
    have = {c.witness for c in repository.cosignatures(session, cp.size)}
    for w in witnesses:
        if w.verifier.name in have:
            outcomes[w.verifier.name] = "cosigned"
            continue
        old = repository.last_cosigned_size(session, w.verifier.name)
        if old > cp.size:
            old = 0
        outcome = "error"
        for _attempt in range(2):
            proof = [] if old in (0, cp.size) else consistency_for_witness(session, old, cp.size)
            body = f"old {old}\n" + "".join(_b64(p) + "\n" for p in proof) + "\n" + cp.note
            try:
                resp = http.post(f"{w.url}/add-checkpoint", content=body.encode(), timeout=5.0)
            except httpx.HTTPError as exc:
                outcome = f"unreachable ({type(exc).__name__})"
                break
            if resp.status_code == 409 and resp.headers.get("content-type", "").startswith("text/x.tlog.size"):
                try:
                    known = int(resp.text.strip())
                except ValueError:
                    outcome = "409 with a malformed size"
                    break
                if known == old or known > cp.size:
                    outcome = f"refused: the witness holds size {known}"
                    break
                old = known
                continue
            if resp.status_code != 200:
                outcome = f"refused with HTTP {resp.status_code}"
                break
            try:
                _, sigs = open_note(cp.note + resp.text, [w.verifier])
            except NoteError:
                outcome = "answered without a valid cosignature"
                break
            line = sigs[0].to_line().rstrip("\n")
            repository.add_cosignature(session, cp.size, w.verifier.name, line, now)
            outcome = "cosigned"
            break
        outcomes[w.verifier.name] = outcome
    return outcomes


def consistency_for_witness(session: Session, old: int, new: int) -> list[bytes]:
    return _prefetched(session, lambda get: merkle.consistency_proof(old, new, get))


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


# --- keys ---


def write_key_file(path: Path, secret: str) -> None:
    """Write a secret key readable by its owner only (0600); never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")


def load_signer(path: Path, origin: str, *, create: bool) -> Signer:
    """The log's signing key; generated on first use only when ``create`` (demo/dev/test)."""
    if path.exists():
        return Signer.parse(path.read_text())
    if not create:
        raise LogKeyMissing(
            f"No log signing key at {path}. Run `safeslot log keygen` and set SAFESLOT_LOG__SIGNING_KEY_FILE."
        )
    signer = Signer.generate(origin)
    write_key_file(path, signer.to_skey())
    return signer


def entry_json(data: bytes) -> Any:
    return json.loads(data)
