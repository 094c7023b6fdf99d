"""RFC 9162 Merkle hashing and proofs: conformance vectors and properties.

The reference functions below transcribe RFC 9162 sections 2.1.1, 2.1.3.1
and 2.1.4.1 literally (recursion over lists); the code under test must agree
with them and with the transparency-dev/merkle vectors in vectors/rfc6962.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeslot.transparency.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_is_valid,
    consistency_proof,
    inclusion_is_valid,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    root_from_leaves,
    subtree_getter,
    subtree_ranges,
    verify_consistency,
    verify_inclusion,
    verify_witness_consistency,
)

# Copied unchanged from their sources (vectors/README.md says which commit and licence).
TESTDATA = Path(__file__).resolve().parent / "vectors" / "rfc6962"

# --- RFC 9162 reference implementation (slow, literal) ---


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1 MTH over leaf hashes."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.3.1 PATH(m, D[n])."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 section 2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def path_shape(m: int, n: int) -> tuple[str, ...]:
    """Which side each PATH sibling is on, leaf first: all a proof binds."""
    if n == 1:
        return ()
    k = _split(n)
    return (*path_shape(m, k), "R") if m < k else (*path_shape(m - k, n - k), "L")


def proof_shape(m: int, n: int, b: bool = True) -> tuple[str, ...]:
    """The SUBPROOF recursion's sibling sides, plus whether it starts from a seed."""
    if m == n:
        return () if b else ("seed",)
    k = _split(n)
    if m <= k:
        return (*proof_shape(m, k, b), "R")
    return (*proof_shape(m - k, n - k, False), "L")


@dataclass(frozen=True)
class Tree:
    leaves: list[bytes]
    aligned: dict[tuple[int, int], bytes]  # every complete aligned subtree
    root: bytes

    def get_aligned(self, level: int, index: int) -> bytes:
        return self.aligned[(level, index)]


@lru_cache(maxsize=16)
def tree(size: int) -> Tree:
    leaves = [leaf_hash(b"entry %d" % i) for i in range(size)]
    aligned = {(0, i): h for i, h in enumerate(leaves)}
    level, width = 0, size
    # Level L+1 node N is the parent of level L nodes 2N and 2N+1 (by definition).
    while width > 1:
        for i in range(width // 2):
            aligned[(level + 1, i)] = node_hash(aligned[(level, 2 * i)], aligned[(level, 2 * i + 1)])
        level, width = level + 1, width // 2
    return Tree(leaves, aligned, mth(leaves))


def flip_bit(proof: list[bytes], item: int, bit: int) -> list[bytes]:
    mutated = list(proof)
    h = bytearray(mutated[item])
    h[bit // 8] ^= 1 << (bit % 8)
    mutated[item] = bytes(h)
    return mutated


# --- transparency-dev/merkle conformance vectors ---


def _vectors(kind: str) -> list[Any]:
    files = sorted((TESTDATA / kind).rglob("*.json"))
    # A missing checkout must fail loudly, never skip.
    if not files:
        return [pytest.param(None, id=f"{kind}-vectors-missing")]
    return [pytest.param(f, id=str(f.relative_to(TESTDATA))) for f in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(h) for h in value or []]


def test_all_conformance_vectors_are_present() -> None:
    # transparency-dev/merkle at 417fb0c ships 98 inclusion and 98 consistency cases.
    assert len(list((TESTDATA / "inclusion").rglob("*.json"))) == 98, TESTDATA
    assert len(list((TESTDATA / "consistency").rglob("*.json"))) == 98, TESTDATA


@pytest.mark.parametrize("path", _vectors("inclusion"))
def test_inclusion_vector(path: Path | None) -> None:
    assert path is not None, f"RFC 6962 test vectors missing under {TESTDATA}"
    case = json.loads(path.read_text())
    args = (case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), _proof(case["proof"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args, _b64(case["root"]))
    else:
        verify_inclusion(*args, _b64(case["root"]))


@pytest.mark.parametrize("path", _vectors("consistency"))
def test_consistency_vector(path: Path | None) -> None:
    assert path is not None, f"RFC 6962 test vectors missing under {TESTDATA}"
    case = json.loads(path.read_text())
    args = (case["size1"], case["size2"], _proof(case["proof"]))
    roots = (_b64(case["root1"]), _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args, *roots)
    else:
        verify_consistency(*args, *roots)


# RFC 6962 reference data (also in transparency-dev/merkle): the roots of the
# trees holding the first 1..8 of these leaves.
RFC6962_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                  "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_known_roots() -> None:
    leaves = [leaf_hash(bytes.fromhex(d)) for d in RFC6962_LEAVES]
    assert (
        root_from_leaves([])
        == EMPTY_ROOT
        == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    )
    for n, want in enumerate(RFC6962_ROOTS, start=1):
        assert root_from_leaves(leaves[:n]).hex() == want


# --- properties ---

sizes = st.integers(min_value=1, max_value=2000)


@settings(deadline=None)
@given(data=st.data(), size=sizes)
def test_inclusion_proofs_verify_and_bind_their_path(data: st.DataObject, size: int) -> None:
    t = tree(size)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, size, subtree_getter(t.get_aligned))
    assert proof == ref_path(index, t.leaves)
    leaf = t.leaves[index]
    assert root_from_leaves(t.leaves) == t.root
    verify_inclusion(index, size, leaf, proof, t.root)

    if proof:
        item = data.draw(st.integers(0, len(proof) - 1), label="item")
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not inclusion_is_valid(index, size, leaf, flip_bit(proof, item, bit), t.root)
    other_leaf = t.leaves[(index + 1) % size] if size > 1 else leaf_hash(b"other")
    assert not inclusion_is_valid(index, size, other_leaf, proof, t.root)
    if size > 1:  # another position in the same tree never shares the path
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
        assert not inclusion_is_valid(other, size, leaf, proof, t.root)

    # A proof binds the shape of the path, not the tree size: (0, 5) and (0, 6)
    # hash identically. It verifies for another (index, size) exactly when the
    # shapes agree; the checkpoint's signature is what authenticates the size.
    index2 = data.draw(st.integers(0, 2 * size + 1), label="index2")
    size2 = data.draw(st.integers(0, 2 * size + 2), label="size2")
    expected = index2 < size2 and path_shape(index2, size2) == path_shape(index, size)
    assert inclusion_is_valid(index2, size2, leaf, proof, t.root) == expected
    for wrong in (size * 2, size // 2):  # transparency-dev's own size probes
        assert not inclusion_is_valid(index, wrong, leaf, proof, t.root)


@settings(deadline=None)
@given(data=st.data(), size2=sizes)
def test_consistency_proofs_verify_and_bind_their_shape(data: st.DataObject, size2: int) -> None:
    t = tree(size2)
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = consistency_proof(size1, size2, subtree_getter(t.get_aligned))
    assert proof == ref_subproof(size1, t.leaves, True)
    root1 = mth(t.leaves[:size1])
    verify_consistency(size1, size2, proof, root1, t.root)

    if proof:
        item = data.draw(st.integers(0, len(proof) - 1), label="item")
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not consistency_is_valid(size1, size2, flip_bit(proof, item, bit), root1, t.root)
    if size1 < size2:
        assert not consistency_is_valid(size1, size2, proof, t.root, root1)
        assert not consistency_is_valid(size1, size2, proof[:-1], root1, t.root)
        assert not consistency_is_valid(size1, size2, [*proof, proof[0]], root1, t.root)

    # As with inclusion, sizes are bound only through the proof's shape.
    s1 = data.draw(st.integers(0, 2 * size2 + 1), label="s1")
    s2 = data.draw(st.integers(0, 2 * size2 + 2), label="s2")
    if s1 == s2:
        expected = not proof and root1 == t.root and s1 > 0
    else:
        expected = 0 < s1 < s2 and proof_shape(s1, s2) == proof_shape(size1, size2)
    assert consistency_is_valid(s1, s2, proof, root1, t.root) == expected


@settings(deadline=None)
@given(size=st.integers(0, 2000))
def test_appender_matches_reference(size: int) -> None:
    t = tree(size)
    compact = CompactRange()
    created: dict[tuple[int, int], bytes] = {}
    for leaf in t.leaves:
        for level, index, h in compact.append(leaf):
            created[(level, index)] = h
    # Every complete aligned subtree is reported exactly when it completes.
    assert created == t.aligned
    assert compact.root() == root_from_leaves(t.leaves) == t.root
    loaded = CompactRange.load(size, t.get_aligned)
    assert loaded == compact


@settings(deadline=None)
@given(data=st.data(), size=sizes)
def test_range_hash_matches_direct_computation(data: st.DataObject, size: int) -> None:
    t = tree(size)
    level = data.draw(st.integers(0, (size - 1).bit_length()), label="level")
    start = data.draw(st.integers(0, (size - 1) >> level), label="block") << level
    end = data.draw(st.integers(start + 1, min(size, start + (1 << level))), label="end")
    assert range_hash(start, end, t.get_aligned) == mth(t.leaves[start:end])
    assert range_hash(0, end, t.get_aligned) == mth(t.leaves[:end])


def test_range_hash_rejects_ranges_no_proof_uses() -> None:
    with pytest.raises(ValueError, match="not a subtree"):
        subtree_ranges(1, 4)  # length 3 must start on a multiple of 4
    with pytest.raises(ValueError, match="invalid range"):
        subtree_ranges(5, 4)
    assert subtree_ranges(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert range_hash(7, 7, tree(8).get_aligned) == EMPTY_ROOT


def test_compact_range_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="compact-range hashes"):
        CompactRange(3, [EMPTY_ROOT])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange().append(b"short")


def test_proofs_read_logarithmically_many_stored_hashes() -> None:
    # A virtual 1,000,000-leaf store: what matters is how many reads a proof costs.
    size = 1_000_000
    reads = 0

    def get_aligned(level: int, index: int) -> bytes:
        nonlocal reads
        reads += 1
        assert (index + 1) << level <= size, "read beyond the tree"
        return leaf_hash(b"%d/%d" % (level, index))

    get_subtree = subtree_getter(get_aligned)
    for index in (0, 1, 524_287, 524_288, 999_998, 999_999):
        reads = 0
        assert len(inclusion_proof(index, size, get_subtree)) <= 20
        assert reads <= 2 * 20
    for size1 in (1, 3, 524_288, 999_999):
        reads = 0
        consistency_proof(size1, size, get_subtree)
        assert reads <= 2 * 20
    reads = 0
    CompactRange.load(size, get_aligned)
    assert reads == size.bit_count()


def test_generation_rejects_impossible_requests() -> None:
    get = subtree_getter(tree(4).get_aligned)
    for index, size in ((4, 4), (-1, 4), (0, 0)):
        with pytest.raises(ValueError, match="outside"):
            inclusion_proof(index, size, get)
    with pytest.raises(ValueError, match="empty tree"):
        consistency_proof(0, 4, get)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(5, 4, get)
    assert consistency_proof(4, 4, get) == []


# --- size 0: the documented policy (module docstring of merkle.py) ---


def test_consistency_from_the_empty_tree() -> None:
    root = tree(5).root
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError, match="proves nothing"):
        verify_consistency(0, 5, [], EMPTY_ROOT, root)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, [], root, root)


def test_witness_accepts_a_first_checkpoint_without_proof() -> None:
    t = tree(5)
    verify_witness_consistency(0, 5, [], None, t.root)
    verify_witness_consistency(0, 0, [], None, EMPTY_ROOT)
    with pytest.raises(ProofError, match="must be empty"):
        verify_witness_consistency(0, 5, [t.root], None, t.root)
    with pytest.raises(ProofError, match="empty tree"):
        verify_witness_consistency(0, 0, [], None, t.root)
    with pytest.raises(ProofError, match="no root recorded"):
        verify_witness_consistency(3, 5, [], None, t.root)
    proof = consistency_proof(3, 5, subtree_getter(t.get_aligned))
    verify_witness_consistency(3, 5, proof, mth(t.leaves[:3]), t.root)
    with pytest.raises(ProofError):
        verify_witness_consistency(3, 5, proof, t.root, t.root)


def test_verification_errors_say_what_is_wrong() -> None:
    t = tree(6)
    proof = inclusion_proof(2, 6, subtree_getter(t.get_aligned))
    with pytest.raises(ProofError, match="outside a tree"):
        verify_inclusion(6, 6, t.leaves[2], proof, t.root)
    with pytest.raises(ProofError, match="want 3"):
        verify_inclusion(2, 6, t.leaves[2], proof[:2], t.root)
    with pytest.raises(ProofError, match="not 32"):
        verify_inclusion(2, 6, t.leaves[2], [*proof[:2], b"x"], t.root)
    with pytest.raises(ProofError, match="expected root"):
        verify_inclusion(2, 6, t.leaves[3], proof, t.root)
    with pytest.raises(ProofError, match="logs only grow"):
        verify_consistency(6, 5, [], t.root, t.root)
