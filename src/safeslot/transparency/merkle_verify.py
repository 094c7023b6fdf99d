"""Verifying Merkle proofs (RFC 9162 sections 2.1.3.2 and 2.1.4.2; C2SP tlog-witness for size 0).

Pure: each check raises `ProofError` with the reason; `inclusion_is_valid` and
`consistency_is_valid` are bool wrappers. Why a consistency proof from size 0 is refused here and
accepted by `verify_witness_consistency` is in merkle.py's docstring; callers import from ``merkle``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from safeslot.transparency.merkle_tree import EMPTY_ROOT, HASH_SIZE

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A Merkle proof does not verify; the message says which check failed."""


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise ProofError(f"{what}[{i}] is {len(h)} bytes, not {HASH_SIZE}")


def _inclusion_length(index: int, size: int) -> tuple[int, int]:
    """(inner, border): proof hashes below and on the right border.

    ``inner`` is where the paths to ``index`` and ``size - 1`` diverge; above
    it every sibling is a left border subtree, one per set bit of what is left.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    _check_hashes("proof", proof)
    want = sum(_inclusion_length(index, size))
    if len(proof) != want:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, want {want}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            # On the right border: skip the levels where this node has no sibling.
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check; kept as the RFC's final test
        raise ProofError("inclusion proof is too short for the tree size")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise `ProofError` unless ``leaf`` is at ``index`` in the tree with ``root``."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the expected root")


def inclusion_is_valid(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """`verify_inclusion` as a bool."""
    try:
        verify_inclusion(index, size, leaf, proof, root)
    except ProofError:
        return False
    return True


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Raise `ProofError` unless the tree (size2, root2) extends (size1, root1).

    Sizes 0 follow transparency-dev: see the module docstring.
    """
    if size1 < 0 or size2 < size1:
        raise ProofError(f"size2 ({size2}) is smaller than size1 ({size1}): logs only grow")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if size1 == 0 and (root1 != EMPTY_ROOT or root2 != EMPTY_ROOT):
            raise ProofError("the root of the empty tree must be SHA-256 of the empty string")
        if root1 != root2:
            raise ProofError("trees of equal size have different roots")
        return
    if size1 == 0:
        raise ProofError(
            "a consistency proof from the empty tree proves nothing; "
            "a witness with no previous checkpoint uses verify_witness_consistency"
        )
    _check_hashes("proof", proof)
    # The proof is the inclusion proof of the last node of the biggest complete
    # subtree ending at size1, minus what the verifier already knows: that
    # node itself when size1 is a power of two (it is then root1).
    shift = (size1 & -size1).bit_length() - 1
    inner, border = _inclusion_length(size1 - 1, size2)
    seeded = size1 == 1 << shift
    want = (0 if seeded else 1) + inner - shift + border
    if len(proof) != want:
        raise ProofError(f"consistency proof has {len(proof)} hashes, want {want}")
    path = [root1, *proof] if seeded else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable after the length check; the RFC's own guard
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not reproduce the old root")
    if sr != root2:
        raise ProofError("consistency proof does not reproduce the new root")


def consistency_is_valid(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """`verify_consistency` as a bool."""
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except ProofError:
        return False
    return True


def verify_witness_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes | None,
    new_root: bytes,
) -> None:
    """The consistency check of C2SP tlog-witness add-checkpoint.

    A witness that never cosigned the log records old size 0 and no root; the
    spec then requires an empty proof and accepts any new checkpoint. Every
    other case is `verify_consistency`. (The witness answers a root mismatch at
    equal sizes with 409 rather than 422; it can tell the cases apart by size.)
    """
    if old_size == 0:
        if proof:
            raise ProofError("tlog-witness: the proof must be empty when the old size is 0")
        if new_size < 0:
            raise ProofError(f"invalid tree size {new_size}")
        if new_size == 0 and new_root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree must be SHA-256 of the empty string")
        return
    if old_root is None:
        raise ProofError(f"no root recorded for old size {old_size}")
    verify_consistency(old_size, new_size, proof, old_root, new_root)
