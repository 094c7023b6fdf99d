"""Storage: validated, canonical, append-only, batched, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.transparency import appends, merkle, service
from safeslot.transparency.errors import EntryRejected
from safeslot.transparency.models import LogCheckpoint, LogEntry, LogHead, LogNode
from safeslot.transparency.note import Signer
from tests.transparency.support import entries

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "safeslot.test/log"


def test_append_assigns_dense_indices_and_the_rfc9162_root(session: Session) -> None:
    batch = entries(5)
    assert service.append_raw(session, batch, now=NOW) == [0, 1, 2, 3, 4]
    assert service.append_raw(session, entries(3, 5), now=NOW) == [5, 6, 7]
    head = session.get(LogHead, 1)
    assert head is not None and head.size == 8
    datas = [rfc8785.dumps(e) for e in [*batch, *entries(3, 5)]]
    assert head.root == merkle.root_from_leaves([merkle.leaf_hash(d) for d in datas])
    assert session.scalars(select(LogEntry.data).order_by(LogEntry.idx)).all() == datas


def test_entries_are_stored_as_canonical_json(session: Session) -> None:
    service.append_raw(session, [{"people": 2, "event": "policy.change", "b": 1.0, "a": "é"}], now=NOW)
    stored = session.scalars(select(LogEntry.data)).one()
    assert stored == '{"a":"é","b":1,"event":"policy.change","people":2}'.encode()


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"request_id": "r1"}, "Unknown log event"),
        ({"event": "disclosure.gossip"}, "Unknown log event"),
        ({"event": "legal_hold."}, "Unknown log event"),
        ({"event": "disclosure.release", "subjects": [{"full_name": "Test Person M"}]}, "personal data"),
        ({"event": "disclosure.release", "Email": "person-m@example.org"}, "personal data"),
        ({"event": "disclosure.release", "ratio": float("nan")}, "canonical JSON"),
        ({"event": "disclosure.release", "pad": "x" * 65_536}, "at most 65535"),
    ],
)
def test_invalid_entries_are_refused(session: Session, entry: dict[str, object], why: str) -> None:
    with pytest.raises(EntryRejected, match=why):
        service.append_raw(session, [entry], now=NOW)


def test_a_refused_entry_refuses_the_whole_batch(session: Session) -> None:
    with pytest.raises(EntryRejected):
        service.append_raw(session, [*entries(3), {"event": "nope"}], now=NOW)
    assert session.get(LogHead, 1).size == 0  # type: ignore[union-attr]
    assert session.scalars(select(LogEntry)).all() == []


def test_known_events_and_the_size_limit_boundary(session: Session) -> None:
    pad = 65_535 - len(rfc8785.dumps({"event": "legal_hold.lifted", "pad": ""}))
    assert service.append_raw(session, [{"event": "legal_hold.lifted", "pad": "x" * pad}], now=NOW) == [0]
    assert service.append_raw(session, [{"event": "sharing_agreement.suspended"}], now=NOW) == [1]


def test_commitment_is_sha256_of_salt_person_and_request() -> None:
    salt = bytes(range(32))
    assert service.commitment(salt, "person-17", "req-4") == hashlib.sha256(salt + b"person-17req-4").hexdigest()
    assert service.commitment(salt, "person-17", "req-4") != service.commitment(salt, "person-18", "req-4")
    with pytest.raises(ValueError, match="salt"):
        service.commitment(b"short", "person-17", "req-4")


def test_a_failing_caller_transaction_takes_the_append_with_it(session: Session) -> None:
    nested = session.begin_nested()
    service.append_raw(session, entries(2), now=NOW)
    nested.rollback()  # the disclosure gate failed after appending: nothing stays
    assert session.get(LogHead, 1, populate_existing=True).size == 0  # type: ignore[union-attr]
    assert session.scalars(select(LogEntry)).all() == []


@pytest.mark.parametrize(
    "statement",
    [
        update(LogEntry).values(data=b"{}"),
        delete(LogEntry),
        update(LogNode).values(hash=b"\0" * 32),
        delete(LogNode),
        update(LogCheckpoint).values(note="forged"),
        delete(LogCheckpoint),
    ],
    ids=["update-entry", "delete-entry", "update-node", "delete-node", "update-checkpoint", "delete-checkpoint"],
)
def test_the_database_refuses_to_rewrite_history(owner_session: Session, statement: object) -> None:
    # Even the schema owner's statements hit the triggers (the app's role is refused earlier still:
    # tests/test_least_privilege.py).
    session = owner_session
    service.append_raw(session, entries(4), now=NOW)
    service.checkpoint(session, Signer.generate(ORIGIN), NOW, origin=ORIGIN)
    nested = session.begin_nested()
    with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
        session.execute(statement)  # type: ignore[call-overload]
    nested.rollback()
    assert session.scalar(select(LogEntry.data).where(LogEntry.idx == 0)) == rfc8785.dumps(entries(1)[0])


def test_one_sequencer_under_concurrent_appenders(fresh_url: str) -> None:
    engine = build_engine(fresh_url)
    maker = build_sessionmaker(engine)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for b in range(4):
                with transaction(maker) as s:
                    service.append_raw(s, entries(25, 1000 * w + 100 * b), now=NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(maker) as s:
        idx = s.scalars(select(LogEntry.idx).order_by(LogEntry.idx)).all()
        datas = s.scalars(select(LogEntry.data).order_by(LogEntry.idx)).all()
        head = s.get(LogHead, 1)
        assert idx == list(range(400))
        assert head is not None and head.root == merkle.root_from_leaves([merkle.leaf_hash(d) for d in datas])
    engine.dispose()


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), _json, max_size=5))
def test_the_fast_canonical_json_is_exactly_rfc8785(value: dict[str, object]) -> None:
    try:
        want = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        with pytest.raises((rfc8785.CanonicalizationError, ValueError, TypeError)):
            service.canonical_json(value)
        return
    assert service.canonical_json(value) == want
    entry = {**value, "event": "policy.change"}
    if appends.personal_keys(entry):  # e.g. Hypothesis found a nested "SSN"
        with pytest.raises(EntryRejected, match="personal data"):
            service.canonical(entry)
    else:
        assert service.canonical(entry) == rfc8785.dumps(entry)
