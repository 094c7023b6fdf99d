"""Filings refused before the gate (disclosure/gate_refusals.py): counted per UTC hour and enumerated reason,
and each closed hour appended to the public log once, with the counts only — never who tried or with what.
Over HTTP: tests/disclosure/test_endpoints.py. SQLite only: the SQL is the same on both databases."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.disclosure import gate_refusals
from safeslot.transparency.models import LogEntry
from tests.conftest import NOW, ON_SQLITE


def _logged(session: Session) -> list[dict[str, Any]]:
    entries = [json.loads(d) for d in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]
    return [e for e in entries if e["event"] == "disclosure.refused_before_gate"]


def test_the_reasons_are_a_closed_list_and_the_hour_is_utc() -> None:
    assert gate_refusals.reason_for("credential-invalid") == gate_refusals.reason_for("csrf-refused")
    assert gate_refusals.reason_for("role-refused") == "wrong_role"
    assert gate_refusals.reason_for("something-new") == "other"  # never the slug or a message
    new_york = dt.timezone(dt.timedelta(hours=-5))
    assert gate_refusals.period_of(dt.datetime(2027, 3, 1, 9, 59, tzinfo=new_york)) == "2027-03-01T14"


@ON_SQLITE
def test_an_hour_is_logged_once_after_it_closes_with_its_counts_by_reason(session: Session) -> None:
    for slug in ("unauthenticated", "unauthenticated", "role-refused", "credential-invalid", "csrf-refused"):
        gate_refusals.count(session, slug, NOW)
    assert _logged(session) == []  # the hour is still open
    later = NOW + dt.timedelta(hours=1, minutes=5)
    gate_refusals.count(session, "unauthenticated", later)  # the first refusal of the next hour logs the last
    [entry] = _logged(session)
    assert (entry["period"], entry["counts"]) == ("2027-03-01T14", {"no_credentials": 2, "wrong_role": 1,
                                                                    "invalid_credentials": 2})
    assert gate_refusals.flush_closed(session, later) == 0  # never twice
    assert gate_refusals.flush_closed(session, later + dt.timedelta(hours=1)) == 1
    assert [e["counts"] for e in _logged(session)][1:] == [{"no_credentials": 1}]
