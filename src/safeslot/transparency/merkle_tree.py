"""The Merkle tree's hashing and proof generation (RFC 9162 sections 2.1.1, 2.1.3.1, 2.1.4.1).

Pure: no storage, no clock. Leaf and node hashes, the aligned subtrees storage keeps
(`subtree_ranges`, `range_hash`), the compact range an append extends (`CompactRange`), and the
inclusion and consistency proofs built from a ``get_subtree`` callback. The design (aligned
subtrees, the compact range, why a proof from size 0 is refused) is in merkle.py's docstring;
callers import from ``merkle``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 section 2.1.1: MTH({})

# (level, index) -> hash of the complete aligned subtree at that position.
GetAligned = Callable[[int, int], bytes]
# (start, end) -> MTH(D[start:end]) for a proof-shaped range (see range_hash).
GetSubtree = Callable[[int, int], bytes]
# (level, index, hash) of an aligned subtree created by an append.
AlignedNode = tuple[int, int, bytes]

_sha256 = hashlib.sha256


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
