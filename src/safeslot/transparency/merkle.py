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

# The tree and proof generation live in merkle_tree.py, verification in merkle_verify.py; callers
# import every name from here.
from safeslot.transparency.merkle_tree import (
    EMPTY_ROOT,
    HASH_SIZE,
    AlignedNode,
    CompactRange,
    GetAligned,
    GetSubtree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    root_from_leaves,
    subtree_getter,
    subtree_ranges,
)
from safeslot.transparency.merkle_verify import (
    ProofError,
    consistency_is_valid,
    inclusion_is_valid,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
    verify_witness_consistency,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AlignedNode",
    "CompactRange",
    "GetAligned",
    "GetSubtree",
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
