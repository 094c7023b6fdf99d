"""The Merkle tree's arithmetic (transparency/merkle_tree.py), against RFC 9162 section 2.1 written out
naively here: the root a reader recomputes is the root the log signs, for every size; a tree's compact range
splits as the RFC recursion does; proofs built from the log's aligned subtrees verify. The RFC 6962 test
vectors and the stored tree are in test_merkle.py and test_proofs.py."""

from __future__ import annotations

import hashlib

import pytest

from safeslot.transparency import merkle_tree
from safeslot.transparency.merkle_verify import ProofError, verify_consistency, verify_inclusion

LEAVES = [merkle_tree.leaf_hash(f"entry {i}".encode()) for i in range(40)]


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1, as written: split at the largest power of two smaller than n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << (len(leaves) - 1).bit_length() - 1
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def test_leaves_and_nodes_are_hashed_with_their_domain_prefix() -> None:
    assert merkle_tree.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle_tree.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert hashlib.sha256(b"").digest() == merkle_tree.EMPTY_ROOT


def test_the_root_grown_one_leaf_at_a_time_is_the_rfc_root_for_every_size() -> None:
    compact = merkle_tree.CompactRange()
    assert compact.root() == _mth([])
    for size in range(1, len(LEAVES) + 1):
        compact.append(LEAVES[size - 1])
        assert compact.root() == _mth(LEAVES[:size]) == merkle_tree.root_from_leaves(LEAVES[:size]), size


def test_a_tree_splits_into_its_aligned_subtrees_left_to_right() -> None:
    assert merkle_tree.subtree_ranges(0, 13) == [(3, 0), (2, 2), (0, 12)]  # 8 + 4 + 1 leaves
    assert merkle_tree.subtree_ranges(8, 12) == [(2, 2)]
    assert merkle_tree.subtree_ranges(5, 5) == []
    with pytest.raises(ValueError, match="not a subtree"):
        merkle_tree.subtree_ranges(3, 7)  # no RFC recursion produces it
    with pytest.raises(ValueError, match="invalid range"):
        merkle_tree.subtree_ranges(4, 2)


def _aligned(level: int, index: int) -> bytes:
    return _mth(LEAVES[index << level:(index + 1) << level])


def test_proofs_from_aligned_subtrees_verify_against_the_rfc_root() -> None:
    get = merkle_tree.subtree_getter(_aligned)
    for size in (1, 2, 3, 7, 8, 13, 40):
        root = _mth(LEAVES[:size])
        assert merkle_tree.range_hash(0, size, _aligned) == root
        for index in range(size):
            verify_inclusion(index, size, LEAVES[index], merkle_tree.inclusion_proof(index, size, get), root)
        for old in range(1, size + 1):
            verify_consistency(old, size, merkle_tree.consistency_proof(old, size, get), _mth(LEAVES[:old]), root)
    wrong = merkle_tree.inclusion_proof(3, 13, get)
    with pytest.raises(ProofError, match="expected root"):
        verify_inclusion(4, 13, LEAVES[3], wrong, _mth(LEAVES[:13]))  # a proof for another place fails
