"""Every record people rely on is chained into the log (invariant "the record cannot be rewritten from inside").

The staff access log, its alerts and the accounting of disclosures are hash
chains whose heads each checkpoint commits in the public log; deleting, editing
or re-chaining one record, or cutting the log back below a published checkpoint,
makes the self-check fail and name what broke. Tampering is done as an insider
with the schema owner's rights (``owner_session``); the app's role cannot
(tests/test_least_privilege.py).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from safeslot import chain
from safeslot.disclosure.models import AccountingEntry
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessRecord
from safeslot.transparency import selfcheck, service
from safeslot.transparency.models import LogEntry
from safeslot.transparency.note import Signer
from tests.identity.helpers import make_staff
from tests.transparency.support import chained_records as _records
from tests.transparency.support import entries, triggers_disabled

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "log.example.gov/safeslot"


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def _publish(session: Session, signer: Signer, n: int = 3) -> None:
    service.append_raw(session, entries(n), now=NOW)
    service.checkpoint(session, signer, NOW, origin=ORIGIN)


def _check(session: Session, signer: Signer) -> tuple[bool, str]:
    run = selfcheck.self_verify(session, signer.verifier(), ORIGIN, NOW, method="cli")
    return run.ok, run.detail


def _heads_entries(session: Session) -> list[dict[str, object]]:
    found = [json.loads(d) for d in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]
    return [e for e in found if e["event"] == "records.heads"]


def test_the_records_people_rely_on_are_chained() -> None:
    assert set(chain.chained_tables()) == {"access_record", "access_alert", "disclosure_accounting",
                                           "identity_privileged_event"}


def test_new_records_are_numbered_and_linked_without_the_writer_doing_anything(
    session: Session, keyring: KeyRing
) -> None:
    _records(session, keyring)
    reads = session.scalars(select(AccessRecord).order_by(AccessRecord.chain_seq)).all()
    assert [r.chain_seq for r in reads] == [1, 2, 3]
    assert reads[0].chain_prev == chain.GENESIS
    assert [r.chain_prev for r in reads[1:]] == [r.chain_hash for r in reads[:-1]]
    for table in ("access_record", "access_alert", "disclosure_accounting"):
        w = chain.walk_table(session.connection(), table)
        assert w.count == {"access_record": 3, "access_alert": 1, "disclosure_accounting": 2}[table]


def test_each_checkpoint_commits_the_heads_and_never_a_count(
    session: Session, keyring: KeyRing, signer: Signer
) -> None:
    _records(session, keyring)
    _publish(session, signer)
    (first,) = _heads_entries(session)
    heads = first["heads"]
    # the staff account made for the reads is itself a privileged identity event: that chain too
    assert isinstance(heads, dict) and set(heads) == {"access_record", "access_alert", "disclosure_accounting",
                                                      "identity_privileged_event"}
    assert all(isinstance(h, str) and len(h) == 64 for h in heads.values())  # hashes only: no counts, no ids
    assert set(first) == {"event", "time", "heads"}
    service.checkpoint(session, signer, NOW, origin=ORIGIN)
    assert len(_heads_entries(session)) == 1  # nothing new: nothing committed, nothing signed
    _records(session, keyring, reads=1, accountings=0)
    cp = service.checkpoint(session, signer, NOW, origin=ORIGIN)
    assert len(_heads_entries(session)) == 2 and cp.size == service.status(session).size
    ok, detail = _check(session, signer)
    assert ok, detail
    assert "chained records intact (access_alert 2, access_record 4, disclosure_accounting 2, " \
           "identity_privileged_event " in detail


def test_deleting_one_access_log_row_is_named(owner_session: Session, keyring: KeyRing, signer: Signer) -> None:
    session = owner_session
    _records(session, keyring)
    _publish(session, signer)
    assert _check(session, signer)[0]
    with triggers_disabled(session, "access_record"):
        session.execute(text("DELETE FROM access_record WHERE chain_seq = 2"))
    ok, detail = _check(session, signer)
    assert not ok and "access_record record #2 is missing" in detail


def test_editing_one_accounting_entry_is_named(owner_session: Session, keyring: KeyRing, signer: Signer) -> None:
    session = owner_session
    _records(session, keyring)
    _publish(session, signer)
    row_id = session.scalar(select(AccountingEntry.id).where(AccountingEntry.chain_seq == 1))
    with triggers_disabled(session, "disclosure_accounting"):
        session.execute(text("UPDATE disclosure_accounting SET recipient = 'Nobody' WHERE chain_seq = 1"))
    ok, detail = _check(session, signer)
    assert not ok and f"disclosure_accounting record #1 (id {row_id}) was edited" in detail


def test_deleting_one_accounting_entry_is_named(owner_session: Session, keyring: KeyRing, signer: Signer) -> None:
    session = owner_session
    _records(session, keyring)
    _publish(session, signer)
    with triggers_disabled(session, "disclosure_accounting"):
        session.execute(text("DELETE FROM disclosure_accounting WHERE chain_seq = 1"))
    ok, detail = _check(session, signer)
    assert not ok and "disclosure_accounting record #1 is missing" in detail


def test_deleting_the_newest_records_after_a_checkpoint_is_caught_by_the_committed_head(
    owner_session: Session, keyring: KeyRing, signer: Signer
) -> None:
    session = owner_session
    _records(session, keyring)
    _publish(session, signer)
    committed_at = session.scalar(select(chain.ChainCommit.log_index).where(
        chain.ChainCommit.table_name == "access_record"))
    with triggers_disabled(session, "access_record"):
        session.execute(text("DELETE FROM access_record WHERE chain_seq = 3"))  # the tail: links still hold
    ok, detail = _check(session, signer)
    assert not ok
    assert f"access_record: the chain head committed at log entry {committed_at} is gone" in detail
    assert "now ends at record #2" in detail


def test_a_rewritten_and_rechained_table_is_caught(owner_session: Session, keyring: KeyRing, signer: Signer) -> None:
    session = owner_session
    _records(session, keyring)
    _publish(session, signer)
    # The insider edits a read and recomputes every hash after it: each link holds again.
    with triggers_disabled(session, "access_record"):
        session.execute(text("UPDATE access_record SET purpose = 'audit' WHERE chain_seq = 2"))
        prev = chain.GENESIS
        for row in list(chain.rows(session.connection(), "access_record")):
            own = chain.row_hash("access_record", row["chain_seq"], prev, row)
            session.execute(text("UPDATE access_record SET chain_prev = :p, chain_hash = :h WHERE id = :i"),
                            {"p": prev, "h": own, "i": row["id"]})
            prev = own
    ok, detail = _check(session, signer)
    assert not ok and "access_record: the chain head committed at log entry" in detail and "is gone" in detail


def test_a_log_cut_back_below_a_published_checkpoint_fails(owner_session: Session, signer: Signer) -> None:
    session = owner_session
    _publish(session, signer, 5)
    _publish(session, signer, 4)  # a checkpoint of size 9 is published
    assert _check(session, signer)[0]
    # The insider removes entries 5..8 and rewinds the sequencer, leaving a consistent tree of 5.
    with triggers_disabled(session, "log_entry", "log_node"):
        session.execute(text("DELETE FROM log_entry WHERE idx >= 5"))
        session.execute(text("DELETE FROM log_node WHERE (idx + 1) * (1 << level) > 5"))
    session.execute(text("UPDATE log_head SET size = 5, root = :r"), {"r": service.tree_root(session, 5)})
    ok, detail = _check(session, signer)
    assert not ok
    assert "the log holds 5 entries, fewer than the checkpoint of size 9" in detail and "rollback" in detail


def test_every_published_checkpoint_is_compared_not_only_the_latest(owner_session: Session, signer: Signer) -> None:
    session = owner_session
    _publish(session, signer, 5)
    _publish(session, signer, 4)
    # An old published checkpoint whose root this history never had (a fork the office once signed).
    from safeslot.transparency import repository

    cp = repository.checkpoints(session)[0]
    with triggers_disabled(session, "log_checkpoint"):
        session.execute(text("UPDATE log_checkpoint SET root = :r WHERE size = :s"), {"r": b"\7" * 32, "s": cp.size})
    session.expire_all()
    ok, detail = _check(session, signer)
    assert not ok and f"the checkpoint of size {cp.size} published" in detail and "fork" in detail


def test_a_row_written_around_the_chain_is_refused(session: Session, keyring: KeyRing) -> None:
    staff, _ = make_staff(session, keyring, ["auditor"])
    with pytest.raises((IntegrityError, DBAPIError)), session.begin_nested():
        session.execute(insert(AccessRecord.__table__).values(  # Core: the flush hook never sees it
            staff_id=staff.id, record_type="appointment", record_id="1", purpose="front_desk", at=NOW))


def test_chained_records_cannot_be_changed_by_the_app(session: Session, keyring: KeyRing) -> None:
    _records(session, keyring)
    for statement in ("DELETE FROM access_record", "UPDATE access_alert SET detail = 'x'",
                      "DELETE FROM disclosure_accounting", "UPDATE disclosure_accounting SET recipient = 'x'"):
        with pytest.raises(DBAPIError, match=r"append-only|permission denied"), session.begin_nested():
            session.execute(text(statement))


# --- the pure core ---


def _chain(n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        row: dict[str, object] = {"id": seq + 40, "purpose": "front_desk", "record_id": str(seq), "at": NOW}
        own = chain.row_hash("t", seq, prev, row)
        rows.append({**row, "chain_seq": seq, "chain_prev": prev, "chain_hash": own})
        prev = own
    return rows


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 30), data=st.data())
def test_any_single_deletion_or_edit_is_named_exactly(n: int, data: st.DataObject) -> None:
    rows = _chain(n)
    assert chain.walk("t", rows).count == n
    k = data.draw(st.integers(0, n - 2))  # not the tail: the links after it must show the gap
    deleted = rows[:k] + rows[k + 1:]
    with pytest.raises(chain.ChainError, match=rf"t record #{k + 1} is missing"):
        chain.walk("t", deleted)
    edited = [dict(r) for r in rows]
    edited[k]["purpose"] = "audit"
    with pytest.raises(chain.ChainError, match=rf"t record #{k + 1} \(id {k + 41}\) was edited"):
        chain.walk("t", edited)


def test_a_new_nullable_column_leaves_old_hashes_alone() -> None:
    row = {"purpose": "front_desk", "at": NOW}
    assert chain.row_hash("t", 1, chain.GENESIS, row) == chain.row_hash("t", 1, chain.GENESIS, {**row, "new": None})
    naive = {"purpose": "front_desk", "at": NOW.replace(tzinfo=None)}  # SQLite hands back naive UTC
    assert chain.row_hash("t", 1, chain.GENESIS, row) == chain.row_hash("t", 1, chain.GENESIS, naive)


@pytest.mark.slow
def test_concurrent_writers_keep_one_unbroken_chain(fresh_url: str, keyring: KeyRing) -> None:
    import threading

    from safeslot.db import build_engine, build_sessionmaker, transaction

    engine = build_engine(fresh_url, pool_size=6)
    maker = build_sessionmaker(engine)
    with transaction(maker) as s:
        staff, _ = make_staff(s, keyring, ["auditor"])
        staff_id = staff.id
    errors: list[BaseException] = []

    def reader(w: int) -> None:
        try:
            for b in range(8):
                with transaction(maker) as s:
                    s.add_all([AccessRecord(staff_id=staff_id, record_type="appointment", record_id=f"{w}-{b}-{i}",
                                            purpose="front_desk", at=NOW) for i in range(5)])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def appender() -> None:
        try:
            for b in range(8):
                with transaction(maker) as s:
                    service.append_raw(s, entries(3, 100 * b), now=NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(w,)) for w in range(4)] + [threading.Thread(target=appender)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with engine.connect() as conn:
        w = chain.walk_table(conn, "access_record")
    engine.dispose()
    assert w.count == 4 * 8 * 5  # dense, linked, every hash right: one chain, not forks of it


def test_a_deleted_privileged_identity_event_is_named(owner_session: Session, keyring: KeyRing, signer: Signer) -> None:
    session = owner_session
    _records(session, keyring)  # making the staff account is a privileged event
    _publish(session, signer)
    assert _check(session, signer)[0]
    with triggers_disabled(session, "identity_privileged_event"):
        session.execute(text("DELETE FROM identity_privileged_event WHERE chain_seq = 1"))
    ok, detail = _check(session, signer)
    assert not ok and "identity_privileged_event record #1 is missing" in detail
