"""Bad input gets a clear 4xx problem+json and writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.scheduling.models import Appointment, IdempotencyRecord, SlotCapacity, StaffHold
from tests.scheduling.conftest import first_free

PROBLEM = "application/problem+json"
GOOD = {"office": "central", "service": "apply", "name": "B. Example"}


def _state(session: Session) -> tuple[int, ...]:
    return (
        int(session.scalar(select(func.count()).select_from(Appointment)) or 0),
        int(session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0),
        int(session.scalar(select(func.coalesce(func.sum(SlotCapacity.booked), 0))) or 0),
        int(session.scalar(select(func.count()).select_from(StaffHold)) or 0),
    )


def _is_clear_problem(r: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = r.json()
    assert problem["status"] == status and problem["title"] and len(problem["detail"]) > 20
    if slug is not None:
        assert problem["type"] == f"/problems/{slug}"
    return problem


@pytest.fixture
def start(client: TestClient, office: str) -> str:
    return first_free(client)


def test_malformed_json_is_400(client: TestClient, session: Session, start: str) -> None:
    before = _state(session)
    r = client.post("/api/v1/appointments", content=b'{"office": "central", "name": ',
                    headers={"content-type": "application/json", "Idempotency-Key": "bad-1"})
    _is_clear_problem(r, 400, "malformed-json")
    for body in (b'{"office": "central", "name": "\xff\xfe"}', b"[" * 100_000):  # not UTF-8; nested too deep
        r = client.post("/api/v1/appointments", content=body, headers={"content-type": "application/json"})
        _is_clear_problem(r, 400, "malformed-json")
    assert _state(session) == before


WRONG_TYPES: list[tuple[dict[str, Any], str]] = [
    ({"name": 123}, "name"),
    ({"name": ""}, "name"),
    ({"starts_at": "next tuesday"}, "starts_at"),
    ({"starts_at": "2027-03-09T10:00:00"}, "starts_at"),  # no UTC offset
    ({"office": ["central"]}, "office"),
    ({"reminders_opt_in": "perhaps"}, "reminders_opt_in"),
    ({"language": "Spanish!"}, "language"),
    ({"contact": {"kind": "pigeon", "value": "555-0100"}}, "contact.kind"),
    ({"extra": "field"}, "extra"),
    # control characters and bidirectional overrides: no place in a name, a contact or an accommodation
    ({"name": "Test\x1b[2JPerson"}, "name"),
    ({"name": "Test Person \u202eA"}, "name"),
    ({"name": "Test\tPerson"}, "name"),
    ({"contact": {"kind": "email", "value": "a@example.org\r\nBcc: b@example.org"}, "reminders_opt_in": True},
     "contact.value"),
    ({"accommodation": "a ramp\x07"}, "accommodation"),
]


def test_wrong_types_name_the_field(client: TestClient, session: Session, start: str) -> None:
    before = _state(session)
    for change, field in WRONG_TYPES:
        r = client.post("/api/v1/appointments", json={**GOOD, "starts_at": start, **change},
                        headers={"Idempotency-Key": f"bad-{field}"})
        problem = _is_clear_problem(r, 422, "invalid-input")
        assert field in {e["field"] for e in problem["errors"]}
        assert field in problem["detail"]
        assert "Spanish!" not in r.text and "555-0100" not in r.text  # values are never echoed
    assert _state(session) == before


OUT_OF_RANGE = [
    "2027-02-28T10:00:00-05:00",  # yesterday
    "2020-01-06T10:00:00-05:00",  # years ago
    "2031-03-03T10:00:00-05:00",  # years away
    "9999-12-31T23:00:00-05:00",  # past the end of the calendar in UTC
    "0001-01-01T00:00:00+05:00",  # before its start
]
SEARCH_OUT_OF_RANGE = [
    ("2020-01-01", "2020-01-07"), ("2031-01-01", None), ("9999-12-31", None), ("0001-01-01", "0001-01-02"),
]


def test_dates_in_the_past_or_years_away(client: TestClient, session: Session, start: str) -> None:
    before = _state(session)
    for when in OUT_OF_RANGE:
        r = client.post("/api/v1/appointments", json={**GOOD, "starts_at": when})
        _is_clear_problem(r, 422, "time-out-of-range")
    for first, last in SEARCH_OUT_OF_RANGE:
        params = {"office": "central", "service": "apply", "from": first, **({"to": last} if last else {})}
        _is_clear_problem(client.get("/api/v1/slots", params=params), 422, "time-out-of-range")
    assert _state(session) == before


def test_ten_mib_body_is_413(client: TestClient, session: Session, start: str) -> None:
    before = _state(session)
    body = b'{"office": "central", "service": "apply", "name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    r = client.post("/api/v1/appointments", content=body, headers={"content-type": "application/json"})
    _is_clear_problem(r, 413, "payload-too-large")
    assert _state(session) == before


def test_a_time_between_slots_is_refused_with_alternatives(client: TestClient, session: Session, start: str) -> None:
    before = _state(session)
    odd = (dt.datetime.fromisoformat(start) + dt.timedelta(minutes=7)).isoformat()
    problem = _is_clear_problem(client.post("/api/v1/appointments", json={**GOOD, "starts_at": odd}), 422,
                                "no-such-slot")
    assert len(problem["nearest"]) == 3
    assert _state(session) == before


UNKNOWN_CODE: list[tuple[str, str, dict[str, str] | None]] = [
    ("GET", "/api/v1/appointments/ZZZZZ-ZZZZZ", None),
    ("GET", "/api/v1/appointments/not-a-code-at-all", None),
    ("POST", "/api/v1/appointments/ZZZZZ-ZZZZZ/cancel", None),
    ("POST", "/api/v1/appointments/ZZZZZ-ZZZZZ/reschedule", {"starts_at": "2027-03-09T10:00:00-05:00"}),
]


def test_unknown_office_service_or_code_is_404(client: TestClient, session: Session, start: str) -> None:
    before = _state(session)
    for change, slug in [({"office": "nowhere"}, "office-not-found"), ({"service": "juggling"}, "service-not-found")]:
        r = client.post("/api/v1/appointments", json={**GOOD, "starts_at": start, **change})
        _is_clear_problem(r, 404, slug)
        params = {"office": "central", "service": "apply", "from": "2027-03-02", **change}
        _is_clear_problem(client.get("/api/v1/slots", params=params), 404, slug)
    for method, path, body in UNKNOWN_CODE:
        _is_clear_problem(client.request(method, path, json=body), 404, "appointment-not-found")
    assert _state(session) == before


def test_contact_without_reminder_consent_is_refused(client: TestClient, session: Session, start: str) -> None:
    before = _state(session)
    r = client.post("/api/v1/appointments", json={**GOOD, "starts_at": start,
                                                  "contact": {"kind": "phone", "value": "555-0100"}})
    _is_clear_problem(r, 422, "invalid-input")
    assert _state(session) == before


def test_several_idempotency_keys_are_refused(client: TestClient, session: Session, start: str) -> None:
    """Which of two keys a retry would be matched by is not for the server to guess (the fast path and the
    endpoint once took different ones: tests/scheduling/test_plan.py sends this down both paths)."""
    before = _state(session)
    r = client.post("/api/v1/appointments", json={**GOOD, "starts_at": start},
                    headers=[("Idempotency-Key", "key-1"), ("Idempotency-Key", "key-2")])
    assert "one Idempotency-Key" in _is_clear_problem(r, 422, "invalid-input")["detail"]
    booked = client.post("/api/v1/appointments", json={**GOOD, "starts_at": start}, headers={"Idempotency-Key": "k"})
    assert booked.status_code == 201
    moved = (dt.datetime.fromisoformat(start) + dt.timedelta(hours=1)).isoformat()
    r = client.post(f"/api/v1/appointments/{booked.json()['code']}/reschedule", json={"starts_at": moved},
                    headers=[("Idempotency-Key", "m-1"), ("Idempotency-Key", "m-1")])
    _is_clear_problem(r, 422, "invalid-input")
    assert _state(session)[0] == before[0] + 1
