"""Reading and signing the log (transparency/proofs.py): checkpoints over the stored tree, inclusion and
consistency proofs that verify against the roots a checkpoint signed, and the tiles and bundles readers fetch.
Appending is tested in test_appends.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from safeslot.transparency import appends, merkle, proofs, service, tiles
from safeslot.transparency.errors import BadLogRequest, BeyondLog, LogInconsistent
from safeslot.transparency.models import LogHead
from safeslot.transparency.note import Signer, open_checkpoint
from tests.conftest import ON_SQLITE
from tests.transparency.support import entries, triggers_disabled

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "safeslot.test/log"


def test_checkpoint_signs_size_and_root(session: Session) -> None:
    signer = Signer.generate(ORIGIN)
    service.append_raw(session, entries(10), now=NOW)
    cp = service.checkpoint(session, signer, NOW, origin=ORIGIN)
    opened, _ = open_checkpoint(cp.note, ORIGIN, signer.verifier())
    assert (opened.size, opened.root_hash) == (10, session.get(LogHead, 1).root)  # type: ignore[union-attr]
    assert service.checkpoint(session, signer, NOW, origin=ORIGIN).note == cp.note  # nothing new: same one


def test_checkpoint_refuses_to_sign_over_rewritten_history(owner_session: Session) -> None:
    session = owner_session  # an insider with the schema owner's rights rewrites a node
    signer = Signer.generate(ORIGIN)
    service.append_raw(session, entries(6), now=NOW)
    service.checkpoint(session, signer, NOW, origin=ORIGIN)
    service.append_raw(session, entries(3, 6), now=NOW)
    with triggers_disabled(session, "log_node"):
        # Someone rewrites the hash of leaves 0..3, which the signed checkpoint covers.
        session.execute(text("UPDATE log_node SET hash = :h WHERE level = 2 AND idx = 0"), {"h": b"\1" * 32})
    with pytest.raises(LogInconsistent):
        service.checkpoint(session, signer, NOW, origin=ORIGIN)
    assert service.published_size(session) == 6


def test_proofs_from_storage_verify_for_every_index(session: Session) -> None:
    signer = Signer.generate(ORIGIN)
    roots = {}
    for size in (1, 2, 3, 7, 8, 13, 33):
        service.append_raw(session, entries(size - service.status(session).size), now=NOW)
        roots[size] = service.checkpoint(session, signer, NOW, origin=ORIGIN).root
        for index in range(size):
            p = service.inclusion(session, index, size)
            merkle.verify_inclusion(index, size, p.leaf_hash, p.proof, roots[size])
    for old in roots:
        for new in roots:
            if old <= new:
                merkle.verify_consistency(old, new, service.consistency(session, old, new), roots[old], roots[new])


@ON_SQLITE
def test_readers_see_the_tree_only_up_to_the_last_checkpoint(session: Session) -> None:
    signer = Signer.generate(ORIGIN)
    service.append_raw(session, entries(3), now=NOW)
    proofs.checkpoint(session, signer, NOW, origin=ORIGIN)
    service.append_raw(session, entries(2, 3), now=NOW)  # appended, not yet signed
    assert proofs.published_size(session) == 3
    with pytest.raises(BeyondLog, match="published 3 entries"):
        proofs.inclusion(session, 3, 5)
    with pytest.raises(BeyondLog):
        proofs.entry(session, 3)
    with pytest.raises(BeyondLog):
        proofs.entry_bundle(session, 0, 4)
    with pytest.raises(BadLogRequest, match="below the size"):
        proofs.inclusion(session, 3)
    with pytest.raises(BadLogRequest, match="prove nothing"):
        proofs.consistency(session, 0, 3)
    assert proofs.consistency(session, 3) == []


@ON_SQLITE
def test_a_tile_and_an_entry_bundle_hold_what_the_checkpoint_signed(session: Session) -> None:
    signer = Signer.generate(ORIGIN)
    batch = entries(5)
    service.append_raw(session, batch, now=NOW)
    cp = proofs.checkpoint(session, signer, NOW, origin=ORIGIN)
    datas = [appends.canonical_json(e) for e in batch]
    leaves = [merkle.leaf_hash(d) for d in datas]
    assert proofs.tile(session, 0, 0, 5) == b"".join(leaves)
    assert tiles.split_bundle(proofs.entry_bundle(session, 0, 5), 0, 5) == datas
    assert proofs.entry(session, 4) == (datas[4], leaves[4])
    assert proofs.tree_root(session, 5) == cp.root == merkle.root_from_leaves(leaves)
    assert proofs.tree_root(session, 0) == merkle.EMPTY_ROOT
