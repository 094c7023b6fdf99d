"""Idempotency keys (scheduling/idempotency.py): a retried request with the same key gets the first
answer without running again; the same key with another body, or a malformed key, is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from safeslot.identity.errors import SignInFailed  # a refusal that keeps its record (kit.errors.Recorded)
from safeslot.kit.errors import IdempotencyKeyReused, InvalidInput
from safeslot.scheduling import idempotency
from tests.conftest import ON_SQLITE

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)


class Counter:
    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> tuple[int, dict[str, Any]]:
        self.runs += 1
        return 201, {"code": f"ABCDE-{self.runs:05d}"}


@ON_SQLITE
def test_the_same_key_and_body_run_once_and_replay_the_first_answer(session: Session) -> None:
    run, body = Counter(), idempotency.request_hash({"office": "central", "name": "Test Person 1"})
    assert idempotency.run_once(session, "book", "key-1", body, NOW, run) == (201, {"code": "ABCDE-00001"}, False)
    assert idempotency.run_once(session, "book", "key-1", body, NOW, run) == (201, {"code": "ABCDE-00001"}, True)
    assert run.runs == 1
    assert idempotency.run_once(session, "cancel", "key-1", body, NOW, run)[2] is False  # another scope
    assert idempotency.run_once(session, "book", None, body, NOW, run)[2] is False  # no key: runs every time
    assert run.runs == 3


@ON_SQLITE
def test_the_same_key_with_another_body_is_refused(session: Session) -> None:
    run = Counter()
    idempotency.run_once(session, "book", "key-2", idempotency.request_hash({"a": 1}), NOW, run)
    with pytest.raises(IdempotencyKeyReused, match="different body"):
        idempotency.run_once(session, "book", "key-2", idempotency.request_hash({"a": 2}), NOW, run)
    assert run.runs == 1


def test_a_body_hash_ignores_key_order() -> None:
    assert idempotency.request_hash({"a": 1, "b": 2}) == idempotency.request_hash({"b": 2, "a": 1})
    assert idempotency.request_hash({"a": 1}) != idempotency.request_hash({"a": 2})


@ON_SQLITE
def test_a_refusal_that_keeps_its_record_frees_the_key_for_a_retry(session: Session) -> None:
    def refuse() -> tuple[int, dict[str, Any]]:
        raise SignInFailed("Test refusal")

    body = idempotency.request_hash({})
    with pytest.raises(SignInFailed):
        idempotency.run_once(session, "book", "key-3", body, NOW, refuse)
    assert idempotency.run_once(session, "book", "key-3", body, NOW, Counter())[:2] == (201, {"code": "ABCDE-00001"})


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there"])
def test_a_malformed_key_is_refused_before_anything_runs(key: str) -> None:
    with pytest.raises(InvalidInput, match="Idempotency-Key"):
        idempotency.check_key(key)
