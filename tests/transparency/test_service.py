"""The log's façade (transparency/service.py), as the console, the CLI and the tools call it: readers see
the log only up to its last signed checkpoint, and an entry there comes with a proof that checks against
that checkpoint's root; an entry holding a person's data, or of an unknown kind, is refused and nothing
is appended. The rules themselves are tested by module (test_appends.py, test_proofs.py, test_witnesses.py).

SQLite only: the SQL is the same on both databases (test_appends.py and test_proofs.py keep PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.transparency import merkle, service
from safeslot.transparency.errors import BeyondLog, EntryRejected
from safeslot.transparency.note import Signer, open_checkpoint
from tests.conftest import ON_SQLITE
from tests.transparency.support import entries

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "safeslot.test/log"


@ON_SQLITE
def test_readers_see_up_to_the_signed_checkpoint_and_each_entry_proves_its_place(session: Session) -> None:
    signer = Signer.generate(ORIGIN)
    service.append_raw(session, entries(5), now=NOW)
    assert service.published_size(session) == 0 and service.checkpoint_note(session) is None
    signed = service.checkpoint(session, signer, NOW, origin=ORIGIN)
    service.append_raw(session, entries(2, 5), now=NOW)  # appended, not yet signed
    assert (service.status(session).size, service.published_size(session)) == (7, 5)
    note = service.checkpoint_note(session)
    assert note is not None
    opened, _ = open_checkpoint(note, ORIGIN, signer.verifier())
    assert (opened.size, opened.root_hash) == (5, signed.root)
    for index in range(5):
        proof = service.inclusion(session, index)
        assert proof.size == 5
        merkle.verify_inclusion(index, 5, proof.leaf_hash, proof.proof, opened.root_hash)
    with pytest.raises(BeyondLog, match="published 5"):
        service.inclusion(session, 0, 7)


@ON_SQLITE
def test_an_entry_with_personal_data_or_of_an_unknown_kind_is_refused_and_nothing_is_appended(
    session: Session,
) -> None:
    service.append_raw(session, entries(1), now=NOW)
    with pytest.raises(EntryRejected, match="personal data"):
        service.append_raw(session, [{"event": "disclosure.decision", "request_id": "req-9",
                                      "full_name": "Test Person M"}], now=NOW)
    with pytest.raises(EntryRejected, match="Unknown log event"):
        service.append_raw(session, [{"event": "made.up", "request_id": "req-9"}], now=NOW)
    assert not service.is_known_event("made.up") and service.is_known_event("disclosure.decision")
    assert service.status(session).size == 1
