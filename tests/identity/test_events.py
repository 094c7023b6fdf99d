"""Privileged identity events (identity/events.py): each kept in the table and appended to the public log
with accounts named by pseudonyms only the server's secret links back; counted for auditors."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from safeslot.identity import events
from tests.conftest import NOW, ON_SQLITE

KEY = events.pseudonym_key("test-secret-key-1")


def test_a_pseudonym_is_stable_per_account_and_secret_and_says_nothing_of_the_id() -> None:
    assert events.pseudonym(KEY, 7) == events.pseudonym(KEY, 7) != events.pseudonym(KEY, 8)
    assert events.pseudonym(events.pseudonym_key("test-secret-key-2"), 7) != events.pseudonym(KEY, 7)
    assert len(events.pseudonym(KEY, 7) or "") == 24 and events.pseudonym(KEY, None) is None


@ON_SQLITE
def test_an_event_is_logged_by_pseudonym_and_counted(session: Session) -> None:
    row = events.record(session, KEY, "role_granted", NOW, account_id=7, role="auditor", proposer_id=1,
                        approver_id=2, proposal_id=3)
    entry = json.loads(row.entry)
    assert entry["event"] == "identity.role_granted" and entry["account"] == events.pseudonym(KEY, 7)
    assert entry["approver"] == events.pseudonym(KEY, 2) and row.log_index is not None
    assert events.counts(session) == {"identity.role_granted": 1}
    assert events.recent(session) == [row]


@ON_SQLITE
def test_a_field_a_privileged_event_may_not_hold_is_refused(session: Session) -> None:
    with pytest.raises(ValidationError):
        events.record(session, KEY, "role_granted", NOW, account_id=7, username="test-person-1")
    assert events.counts(session) == {}
