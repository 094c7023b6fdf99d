"""Merkle tree hashing and proofs for the transparency log (RFC 9162, section 2.1).

Pure functions: no storage, no clock. The storage layer supplies hashes through
callbacks, so every proof costs O(log n) reads.

Hashing (RFC 9162 section 2.1.1): a leaf is ``SHA-256(0x00 || entry)``, an
interior node ``SHA-256(0x01 || left || right)``, and the empty tree
``SHA-256("")``. The hash of n > 1 leaves splits them at k, the largest power
of two smaller than n.

Aligned subtrees. Storage keeps the hash of every *complete aligned subtree*:
level L, index N covers leaves ``[N * 2**L, (N + 1) * 2**L)``. Any range that a
proof can ask for starts on a multiple of a power of two at least as large as
the range, so it splits into aligned pieces of decreasing size (one per set bit
of its length); its hash folds those pieces right to left, exactly as the
RFC's recursive split does (`range_hash`). The "compact range" of a tree is
that decomposition of ``[0, size)``: appending a leaf merges the trailing
pieces and yields the newly completed aligned nodes for storage to persist
(`CompactRange.append`), so appends are O(log n) as well.

Proofs. Generation (RFC 9162 sections 2.1.3.1 and 2.1.4.1) walks the RFC's
recursion top-down with a loop and asks ``get_subtree(start, end)`` for each
sibling; `subtree_getter` builds that callback from an aligned-hash reader.
Verification (sections 2.1.3.2 and 2.1.4.2) raises `ProofError` with the
reason; `inclusion_is_valid` and `consistency_is_valid` are bool wrappers.
Proof hashes and leaf hashes must be 32 bytes; roots are compared as opaque
bytes (a root of the wrong length simply never matches).

Consistency from size 0. Every tree is an extension of the empty tree, so a
proof "from size 0" carries no information. `verify_consistency` follows
transparency-dev/merkle and its RFC 6962 test vectors (the
``consistency/additional`` cases): ``size1 == 0 < size2`` is rejected whatever the
proof, and ``size1 == size2 == 0`` passes only with an empty proof and both
roots equal to `EMPTY_ROOT`. C2SP tlog-witness (add-checkpoint) instead accepts
"old 0" with an empty proof, because a witness that never cosigned the log has
nothing to check against; that protocol rule lives in
`verify_witness_consistency`, which the witness calls, so the strict primitive
never silently accepts a meaningless proof.

Errors::

    ValueError
     └── ProofError   a proof, size, index or hash does not verify
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "ProofError",
    "consistency_is_valid",
    "consistency_proof",
    "inclusion_is_valid",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root_from_inclusion_proof",
    "root_from_leaves",
    "subtree_getter",
    "subtree_ranges",
    "verify_consistency",
    "verify_inclusion",
    "verify_witness_consistency",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 section 2.1.1: MTH({})

# (level, index) -> hash of the complete aligned subtree at that position.
GetAligned = Callable[[int, int], bytes]
# (start, end) -> MTH(D[start:end]) for a proof-shaped range (see range_hash).
GetSubtree = Callable[[int, int], bytes]
# (level, index, hash) of an aligned subtree created by an append.
AlignedNode = tuple[int, int, bytes]

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A Merkle proof does not verify; the message says which check failed."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 section 2.1.1: ``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 section 2.1.1: ``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves; `EMPTY_ROOT` for none. O(n)."""
    compact = CompactRange()
    for h in leaf_hashes:
        compact.append(h)
    return compact.root()


def subtree_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into complete aligned subtrees, left to right.

    Returns ``(level, index)`` pairs. The range must be one the RFC recursion
    can produce: ``start`` a multiple of the smallest power of two that is at
    least ``end - start``. ``subtree_ranges(0, size)`` is the compact range of
    a tree of that size.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid range [{start}, {end})")
    n = end - start
    if n and start % (1 << (n - 1).bit_length()):
        raise ValueError(f"range [{start}, {end}) is not a subtree of any Merkle tree")
    pieces = []
    pos = start
    # Set bits of n from the highest down: because start is aligned to a power
    # of two >= n, each piece starts on a multiple of its own size.
    for level in range(n.bit_length() - 1, -1, -1):
        if n >> level & 1:
            pieces.append((level, pos >> level))
            pos += 1 << level
    return pieces


def range_hash(start: int, end: int, get_aligned: GetAligned) -> bytes:
    """MTH(D[start:end]) from stored aligned-subtree hashes, in O(log n) reads.

    The pieces from `subtree_ranges` are folded right to left, which is what
    RFC 9162's split at the largest power of two smaller than n produces.
    """
    pieces = subtree_ranges(start, end)
    if not pieces:
        return EMPTY_ROOT
    level, index = pieces[-1]
    h = get_aligned(level, index)
    for level, index in reversed(pieces[:-1]):
        h = _sha256(b"\x01" + get_aligned(level, index) + h).digest()
    return h


def subtree_getter(get_aligned: GetAligned) -> GetSubtree:
    """Adapt an aligned-hash reader to the ``get_subtree`` proof callback."""

    def get_subtree(start: int, end: int) -> bytes:
        return range_hash(start, end, get_aligned)

    return get_subtree


@dataclass
class CompactRange:
    """The right edge of a tree: aligned subtree hashes covering ``[0, size)``.

    ``hashes`` lists one hash per set bit of ``size``, largest subtree first
    (the same order as ``subtree_ranges(0, size)``).
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise ValueError(
                f"a tree of size {self.size} has {max(self.size, 0).bit_count()} "
                f"compact-range hashes, not {len(self.hashes)}"
            )

    @classmethod
    def load(cls, size: int, get_aligned: GetAligned) -> CompactRange:
        """Read the compact range of a stored tree: one read per set bit of size."""
        return cls(size, [get_aligned(lv, ix) for lv, ix in subtree_ranges(0, size)])

    def append(self, leaf: bytes) -> list[AlignedNode]:
        """Add a leaf hash; return every aligned subtree that became complete.

        The first item is the leaf itself ``(0, old_size, leaf)``; each further
        item is a parent completed by merging with the trailing compact-range
        hash. Persisting them is all storage must do to stay O(log n).
        """
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        index = self.size
        created: list[AlignedNode] = [(0, index, leaf)]
        h = leaf
        level = 0
        hashes = self.hashes
        # Each trailing 1 bit of the old size is a left sibling now completed.
        while index & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            level += 1
            index >>= 1
            created.append((level, index, h))
        hashes.append(h)
        self.size += 1
        return created

    def root(self) -> bytes:
        """MTH of the whole tree: fold the compact range right to left."""
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = _sha256(b"\x01" + left + h).digest()
        return h


# --- proof generation (RFC 9162 sections 2.1.3.1 and 2.1.4.1) ---


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(index: int, size: int, get_subtree: GetSubtree) -> list[bytes]:
    """PATH(index, D[0:size]): sibling hashes from the leaf up to the root.

    Makes one ``get_subtree`` call per proof hash; at most one of them (the
    right edge where the path leaves the tree's border) is not a single
    aligned subtree.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    siblings: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            start += k
    # The recursion yields the root's children first; the proof lists leaf first.
    return [get_subtree(s, e) for s, e in reversed(siblings)]


def consistency_proof(size1: int, size2: int, get_subtree: GetSubtree) -> list[bytes]:
    """PROOF(size1, D[0:size2]) per RFC 9162 section 2.1.4.1, bottom first."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == 0:
        # See the module docstring: a proof from the empty tree is meaningless.
        raise ValueError("no consistency proof exists from the empty tree")
    nodes: list[tuple[int, int]] = []
    start, end, m = 0, size2, size1
    known = True  # SUBPROOF's b: the subtree's hash is one the verifier already has.
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            nodes.append((start + k, end))
            end = start + k
        else:
            nodes.append((start, start + k))
            start += k
            m -= k
            known = False
    if not known:
        nodes.append((start, end))
    return [get_subtree(s, e) for s, e in reversed(nodes)]


# --- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ---


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
