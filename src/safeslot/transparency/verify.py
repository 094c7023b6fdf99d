"""An independent verifier for a safeslot log, speaking only C2SP tlog-tiles over HTTP.

It shares nothing with the server but the pure core (`merkle`, `note`,
`canonical`, the tile layout in `tiles` and the entry types in `entries`): no database
tables, no service. Anyone can run it against a public log:

1. fetch ``<url>/checkpoint`` and check the log's Ed25519 signature;
2. if a state file holds a checkpoint seen before, check the new one extends it
   (same root at the same size, an RFC 9162 consistency proof otherwise);
3. fetch every entry bundle and every tile, check that every entry is RFC 8785
   canonical JSON and hashes to the leaf hash the log serves, that each tile
   hash at level L+1 is the hash of the full tile below it, and that all the
   leaves hash to the signed root;
4. save the checkpoint to the state file.

Any mismatch raises `VerificationError` naming the index and what differs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import ValidationError

from safeslot.kit.canonical import is_canonical_object
from safeslot.transparency import entries, merkle
from safeslot.transparency.note import Checkpoint, CosignatureVerifier, NoteError, Verifier, open_checkpoint
from safeslot.transparency.tiles import TILE_WIDTH, BundleError, encode_index, split_bundle, tile_path, tiles


class VerificationError(Exception):
    """The log does not verify; the message names the index and what differs."""


@dataclass
class Result:
    size: int
    root: bytes
    entries_checked: int
    tiles_checked: int
    cosigned_by: list[str]
    # (log index, {table: head}) of every records.heads entry, in log order: the chain heads the
    # office committed (safeslot/chain.py); check a table's chain against them with `chain.walk`.
    record_heads: list[tuple[int, dict[str, bytes]]] = field(default_factory=list)


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def _read_state(path: Path | None) -> dict[str, object] | None:
    if path is None or not path.exists():
        return None
    state = json.loads(path.read_text())
    assert isinstance(state, dict)
    return state


def _write_state(path: Path, checkpoint: Checkpoint, note: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"origin": checkpoint.origin, "size": checkpoint.size,
                               "root": _b64(checkpoint.root_hash), "checkpoint": note}, indent=2))
    tmp.replace(path)


def _get(client: httpx.Client, url: str) -> bytes:
    try:
        resp = client.get(url)
    except httpx.HTTPError as exc:
        raise VerificationError(f"could not fetch {url}: {type(exc).__name__}") from exc
    if resp.status_code != 200:
        raise VerificationError(f"{url} answered HTTP {resp.status_code}")
    return resp.content


def _bundle_entries(bundle: bytes, first: int, width: int) -> Iterator[tuple[int, bytes]]:
    try:
        return enumerate(split_bundle(bundle, first, width), first)
    except BundleError as exc:
        raise VerificationError(str(exc)) from exc


def _check_entry(index: int, data: bytes) -> dict[str, object]:
    try:
        value, canonical = is_canonical_object(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerificationError(f"entry {index}: not valid JSON") from exc
    if not isinstance(value, dict) or not isinstance(value.get("event"), str):
        raise VerificationError(f"entry {index}: not a JSON object with an event")
    if not canonical:
        raise VerificationError(f"entry {index}: not RFC 8785 canonical JSON")
    return value


def _record_heads(index: int, value: dict[str, object]) -> dict[str, bytes]:
    """A ``records.heads`` entry, read through its model (transparency/entries.py): ``{"heads":
    {table: 64 lowercase hex digits}}`` (safeslot/chain.py)."""
    try:
        heads = entries.RecordsHeads.model_validate(value).heads
    except ValidationError as exc:
        raise VerificationError(f"entry {index}: a records.heads entry with heads not as logged "
                                f"({exc.error_count()} problems; each head is 64 lowercase hex digits)") from None
    return {table: bytes.fromhex(h) for table, h in heads.items()}


def _check_consistency(client: httpx.Client, base: str, state: dict[str, object], cp: Checkpoint) -> None:
    if state.get("origin") != cp.origin:
        raise VerificationError(f"the state file is for log {state.get('origin')!r}, not {cp.origin!r}")
    old_size = int(str(state["size"]))
    old_root = base64.b64decode(str(state["root"]))
    if cp.size < old_size:
        raise VerificationError(
            f"the log served a checkpoint of size {cp.size}, older than size {old_size} seen before (rollback)"
        )
    if cp.size == old_size:
        if cp.root_hash != old_root:
            raise VerificationError(f"size {cp.size}: the root differs from the one seen before (fork)")
        return
    if old_size == 0:
        return  # every tree extends the empty tree
    body = json.loads(_get(client, f"{base}/proof/consistency?old={old_size}&new={cp.size}"))
    proof = [base64.b64decode(p) for p in body.get("proof", [])]
    try:
        merkle.verify_consistency(old_size, cp.size, proof, old_root, cp.root_hash)
    except merkle.ProofError as exc:
        raise VerificationError(
            f"the checkpoint of size {cp.size} does not extend the one of size {old_size} seen before "
            f"(fork): {exc}"
        ) from exc


def verify_log(
    client: httpx.Client,
    url: str,
    vkey: str,
    *,
    origin: str | None = None,
    state_file: Path | None = None,
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
    previous: dict[str, object] | None = None,
    published: Sequence[str] = (),
) -> Result:
    """Verify the log at ``url`` (its prefix, e.g. ``https://office.example/log``).

    ``witnesses`` are cosignature verifier keys; at least ``quorum`` of them
    (default: all) must have cosigned the checkpoint. ``previous`` is a
    checkpoint seen before (``origin``, ``size``, ``root`` in base64), as the
    state file holds it, for callers that keep it elsewhere. ``published`` are
    signed checkpoint notes of this log collected elsewhere (a witness, a
    newspaper, a court filing): the log must be at least as large as each and
    extend it, else it rolled back or forked.
    """
    base = url.rstrip("/")
    try:
        verifier = Verifier.parse(vkey)
        cosigners = [CosignatureVerifier.parse(w) for w in witnesses]
    except NoteError as exc:
        raise VerificationError(f"a verifier key is not valid: {exc}") from exc
    note = _get(client, f"{base}/checkpoint").decode("utf-8", errors="replace")
    try:
        cp, sigs = open_checkpoint(note, origin or verifier.name, verifier, cosigners)
    except NoteError as exc:
        raise VerificationError(f"the checkpoint does not verify: {exc}") from exc
    cosigned = sorted({s.name for s in sigs} & {c.name for c in cosigners})
    need = len(cosigners) if quorum is None else quorum
    if len(cosigned) < need:
        raise VerificationError(
            f"the checkpoint of size {cp.size} is cosigned by {len(cosigned)} of the witnesses given "
            f"({', '.join(cosigned) or 'none'}), fewer than the {need} required"
        )

    state = _read_state(state_file) if state_file is not None else previous
    if state is not None:
        _check_consistency(client, base, state, cp)
    for i, text in enumerate(published):
        try:
            old, _ = open_checkpoint(text, origin or verifier.name, verifier)
        except NoteError as exc:
            raise VerificationError(f"published checkpoint {i + 1} is not signed by this log: {exc}") from exc
        _check_consistency(client, base, {"origin": old.origin, "size": old.size, "root": _b64(old.root_hash)}, cp)

    size = cp.size
    # Level 0: entries against the served leaf hashes.
    level_hashes: list[bytes] = []
    record_heads: list[tuple[int, dict[str, bytes]]] = []
    fetched = 0
    for n, width in tiles(size):
        served = _get(client, f"{base}/{tile_path(0, n, width)}")
        bundle = _get(client, f"{base}/{tile_path(None, n, width)}")
        fetched += 1
        if len(served) != 32 * width:
            raise VerificationError(f"tile 0/{encode_index(n)}: {len(served)} bytes, want {32 * width}")
        for index, data in _bundle_entries(bundle, n * TILE_WIDTH, width):
            value = _check_entry(index, data)
            if value["event"] == "records.heads":
                record_heads.append((index, _record_heads(index, value)))
            h = merkle.leaf_hash(data)
            j = index - n * TILE_WIDTH
            if served[32 * j : 32 * j + 32] != h:
                raise VerificationError(
                    f"entry {index}: its hash differs from the leaf hash in tile 0/{encode_index(n)}"
                )
            level_hashes.append(h)
    root = merkle.root_from_leaves(level_hashes)
    if root != cp.root_hash:
        raise VerificationError(f"the {size} entries hash to {_b64(root)}, not the signed root {_b64(cp.root_hash)}")

    # Higher levels: each hash is the root of a full tile one level below.
    level = 0
    while len(level_hashes) >= TILE_WIDTH:
        level += 1
        parents = [
            merkle.root_from_leaves(level_hashes[i : i + TILE_WIDTH])
            for i in range(0, len(level_hashes) - TILE_WIDTH + 1, TILE_WIDTH)
        ]
        span = TILE_WIDTH**level
        for n, width in tiles(len(parents)):
            served = _get(client, f"{base}/{tile_path(level, n, width)}")
            fetched += 1
            for j in range(width):
                k = n * TILE_WIDTH + j
                if served[32 * j : 32 * j + 32] != parents[k]:
                    raise VerificationError(
                        f"entries {k * span}..{(k + 1) * span - 1}: hash {j} of tile "
                        f"{level}/{encode_index(n)} differs from the hash of the tile below"
                    )
        level_hashes = parents

    if state_file is not None:
        _write_state(state_file, cp, note)
    return Result(size=size, root=cp.root_hash, entries_checked=size, tiles_checked=fetched, cosigned_by=cosigned,
                  record_heads=record_heads)
