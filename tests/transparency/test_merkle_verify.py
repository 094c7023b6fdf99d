"""Checking Merkle proofs (transparency/merkle_verify.py), as a reader or a witness does: every honest
proof verifies, and a changed leaf, proof hash, size or root is refused with the check that failed.
Proofs are made from a list of leaves here (merkle_tree.py); test_merkle.py has the RFC's vectors."""

from __future__ import annotations

import pytest

from safeslot.transparency.merkle_tree import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaves,
)
from safeslot.transparency.merkle_verify import (
    ProofError,
    consistency_is_valid,
    inclusion_is_valid,
    verify_consistency,
    verify_inclusion,
    verify_witness_consistency,
)

LEAVES = [leaf_hash(b"entry %d" % i) for i in range(13)]


def _subtree(start: int, end: int) -> bytes:
    return root_from_leaves(LEAVES[start:end])


def _root(size: int) -> bytes:
    return root_from_leaves(LEAVES[:size])


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_every_leaf_is_proved_in_every_tree_that_holds_it_and_nowhere_else() -> None:
    for size in range(1, len(LEAVES) + 1):
        for index in range(size):
            proof = inclusion_proof(index, size, _subtree)
            verify_inclusion(index, size, LEAVES[index], proof, _root(size))
            assert not inclusion_is_valid(index, size, _flip(LEAVES[index]), proof, _root(size))
            if index + 1 < size:
                assert not inclusion_is_valid(index + 1, size, LEAVES[index], proof, _root(size))


def test_an_edited_or_misshapen_inclusion_proof_names_what_is_wrong() -> None:
    proof = inclusion_proof(5, 13, _subtree)
    with pytest.raises(ProofError):
        verify_inclusion(5, 13, LEAVES[5], [_flip(proof[0]), *proof[1:]], _root(13))
    with pytest.raises(ProofError, match="not 32"):
        verify_inclusion(5, 13, LEAVES[5], [proof[0][:31], *proof[1:]], _root(13))
    with pytest.raises(ProofError):
        verify_inclusion(5, 13, LEAVES[5], proof[:-1], _root(13))
    with pytest.raises(ProofError):
        verify_inclusion(13, 13, LEAVES[5], proof, _root(13))  # the index must be below the size


def test_every_larger_tree_is_proved_to_extend_every_smaller_one() -> None:
    for old in range(1, len(LEAVES) + 1):
        for new in range(old, len(LEAVES) + 1):
            proof = consistency_proof(old, new, _subtree)
            verify_consistency(old, new, proof, _root(old), _root(new))
            if proof:
                assert not consistency_is_valid(old, new, proof, _flip(_root(old)), _root(new))
                assert not consistency_is_valid(old, new, [_flip(proof[0]), *proof[1:]], _root(old), _root(new))


def test_a_log_that_shrank_or_forked_fails_consistency() -> None:
    with pytest.raises(ProofError, match="logs only grow"):
        verify_consistency(8, 7, [], _root(8), _root(7))
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(7, 7, [], _root(7), _flip(_root(7)))
    with pytest.raises(ProofError, match="proves nothing"):
        verify_consistency(0, 7, [], EMPTY_ROOT, _root(7))
    proof = consistency_proof(5, 9, _subtree)
    with pytest.raises(ProofError, match="hashes, want"):
        verify_consistency(5, 9, [*proof, proof[0]], _root(5), _root(9))


def test_a_witness_that_never_cosigned_accepts_any_tree_with_an_empty_proof() -> None:
    verify_witness_consistency(0, 13, [], None, _root(13))
    with pytest.raises(ProofError, match="must be empty"):
        verify_witness_consistency(0, 13, [LEAVES[0]], None, _root(13))
    with pytest.raises(ProofError, match="no root recorded"):
        verify_witness_consistency(5, 13, consistency_proof(5, 13, _subtree), None, _root(13))
    verify_witness_consistency(5, 13, consistency_proof(5, 13, _subtree), _root(5), _root(13))
