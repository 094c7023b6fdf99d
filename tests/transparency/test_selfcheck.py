"""The office's own verification of its log: the independent verifier, wired to what the office serves,
with every run kept (the auditor's "last verification")."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from safeslot.transparency import selfcheck, service
from safeslot.transparency.models import LogVerification
from safeslot.transparency.note import Signer
from tests.transparency.support import entries, triggers_disabled

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "log.example.gov/safeslot"

# These tests tamper with the log as an insider with the schema owner's rights would.
pytestmark = pytest.mark.as_owner


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def _publish(session: Session, signer: Signer, n: int, start: int = 0) -> None:
    service.append_raw(session, entries(n, start), now=NOW)
    service.checkpoint(session, signer, NOW, origin=ORIGIN)


def test_a_log_that_matches_its_checkpoint_verifies_across_several_tiles(session: Session, signer: Signer) -> None:
    _publish(session, signer, 300)  # a full tile and a partial one
    run = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    assert run.ok and run.size == 300 and "300 entries and 3 tiles" in run.detail  # 2 at level 0, 1 above
    _publish(session, signer, 5, start=300)  # the next run proves the log extends the one verified before
    later = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW + dt.timedelta(hours=1), method="cli")
    assert later.ok and later.size == 305
    assert [r.size for r in selfcheck.last(session)] == [305, 300]  # newest first


def test_an_edited_entry_is_caught_and_the_failed_run_is_kept(session: Session, signer: Signer) -> None:
    _publish(session, signer, 3)
    with triggers_disabled(session, "log_entry"):
        session.execute(text("UPDATE log_entry SET data = :d WHERE idx = 1"),
                        {"d": b'{"event":"disclosure.decision","people":0}'})
    run = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="console", staff_id=7)
    assert not run.ok and run.staff_id == 7
    assert "entry 1" in run.detail and "leaf hash" in run.detail


def test_a_checkpoint_signed_by_another_key_does_not_verify(session: Session, signer: Signer) -> None:
    _publish(session, Signer.generate(ORIGIN), 2)  # someone else's key signed what the office serves
    run = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    assert not run.ok and "checkpoint does not verify" in run.detail


def test_a_log_that_went_back_or_forked_since_the_last_verification_is_caught(
    session: Session, signer: Signer
) -> None:
    _publish(session, signer, 4)
    session.add(LogVerification(at=NOW, method="cli", size=9, root=bytes(32), ok=True, detail="seen before"))
    rollback = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    assert not rollback.ok and "rollback" in rollback.detail
    session.add(LogVerification(at=NOW, method="cli", size=4, root=bytes(32), ok=True, detail="seen before"))
    fork = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    assert not fork.ok and "fork" in fork.detail


def test_a_new_empty_log_verifies_and_says_it_is_empty(session: Session, signer: Signer) -> None:
    # `log self-check` once failed on a new, empty log
    run = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    assert run.ok and run.size == 0 and "empty" in run.detail
    service.checkpoint(session, signer, NOW, origin=ORIGIN)  # the empty tree, signed
    signed = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    assert signed.ok and signed.size == 0, signed.detail


def test_verification_records_cannot_be_removed(session: Session, signer: Signer) -> None:
    _publish(session, signer, 1)
    selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    session.flush()
    for statement in ("DELETE FROM log_verification", "UPDATE log_verification SET ok = false"):
        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(text(statement))
    assert session.scalar(select(func.count()).select_from(LogVerification)) == 1
