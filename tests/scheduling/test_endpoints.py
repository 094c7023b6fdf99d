"""Booking through the HTTP API, as a person would: search, book, look up, move, cancel."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import endpoints
from safeslot.scheduling.models import Appointment, IdempotencyRecord, StaffHold
from tests.conftest import NOW, office_database
from tests.identity.helpers import staff_headers
from tests.scheduling.conftest import first_free

PROBLEM = "application/problem+json"


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Appointment)) or 0)


def test_search_book_lookup_cancel(client: TestClient, office: str, session: Session) -> None:
    start = first_free(client)
    r = client.post("/api/v1/appointments", json={"office": "central", "service": "apply",
                                                   "starts_at": start, "name": "A. B."})
    assert r.status_code == 201, r.text
    booked = r.json()
    code = booked["code"]
    assert len(code) == 11 and code[5] == "-"
    assert booked["starts_at"] == start
    # the code is read forgivingly: lower case, no hyphen
    looked = client.get(f"/api/v1/appointments/{code.replace('-', '').lower()}")
    assert looked.status_code == 200 and looked.json()["status"] == "booked"
    # one person is held for both 15-minute units of the 30-minute visit ...
    appointment = session.scalars(select(Appointment)).one()
    held = session.execute(select(StaffHold.staff_id, StaffHold.starts_at, StaffHold.role)).all()
    start_utc = dt.datetime.fromisoformat(start).astimezone(dt.UTC)
    assert sorted(held) == [(appointment.staff_id, start_utc, "serve"),
                            (appointment.staff_id, start_utc + dt.timedelta(minutes=15), "serve")]
    cancelled = client.post(f"/api/v1/appointments/{code}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["sequence"] == 1
    # ... and free again once it is cancelled
    assert session.scalar(select(func.count()).select_from(StaffHold)) == 0


def test_booking_answer_never_echoes_personal_data(client: TestClient, office: str) -> None:
    start = first_free(client)
    r = client.post("/api/v1/appointments", json={
        "office": "central", "service": "apply", "starts_at": start, "name": "Zed Example",
        "contact": {"kind": "phone", "value": "555-0100"}, "reminders_opt_in": True,
    })
    assert r.status_code == 201
    assert "Zed" not in r.text and "555-0100" not in r.text


def test_idempotent_retry_returns_first_answer_and_one_row(client: TestClient, office: str, session: Session) -> None:
    start = first_free(client)
    body = {"office": "central", "service": "card", "starts_at": first_free(client, "card"), "name": "J"}
    first = client.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "k-123"})
    second = client.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "k-123"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert _count(session) == 1
    # the same key with another body is a mistake, said clearly
    other = client.post("/api/v1/appointments", json={**body, "name": "K"}, headers={"Idempotency-Key": "k-123"})
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM
    assert _count(session) == 1
    assert start


def test_reschedule_is_idempotent_and_moves_capacity(client: TestClient, office: str, session: Session) -> None:
    slots = client.get("/api/v1/slots", params={"office": "central", "service": "apply",
                                                "from": "2027-03-02"}).json()
    code = client.post("/api/v1/appointments", json={"office": "central", "service": "apply",
                                                      "starts_at": slots[0]["starts_at"], "name": "R"}).json()["code"]
    for _ in range(2):
        r = client.post(f"/api/v1/appointments/{code}/reschedule", json={"starts_at": slots[1]["starts_at"]},
                        headers={"Idempotency-Key": "move-1"})
        assert r.status_code == 200 and r.json()["starts_at"] == slots[1]["starts_at"]
        assert r.json()["sequence"] == 1
    new_start = dt.datetime.fromisoformat(slots[1]["starts_at"]).astimezone(dt.UTC)
    held = session.scalars(select(StaffHold.starts_at).order_by(StaffHold.starts_at)).all()
    assert held == [new_start, new_start + dt.timedelta(minutes=15)]  # the person moved with the visit


def test_full_slot_is_409_with_three_nearest(client: TestClient, office: str) -> None:
    start = first_free(client, "interview")
    capacity = client.get("/api/v1/slots", params={"office": "central", "service": "interview",
                                                   "from": "2027-03-01"}).json()[0]["available"]
    for i in range(capacity):
        assert client.post("/api/v1/appointments", json={"office": "central", "service": "interview",
                                                          "starts_at": start, "name": f"P{i}"}).status_code == 201
    full = client.post("/api/v1/appointments", json={"office": "central", "service": "interview",
                                                      "starts_at": start, "name": "late"})
    assert full.status_code == 409
    problem = full.json()
    assert full.headers["content-type"] == PROBLEM
    assert problem["type"] == "/problems/slot-full"
    assert len(problem["nearest"]) == 3 and start not in problem["nearest"]


def test_interpreter_is_a_second_resource(client: TestClient, office: str, session: Session) -> None:
    # Vietnamese: Desk D and Desk F speak it -> two interpreters at a time
    slots = client.get("/api/v1/slots", params={"office": "central", "service": "card", "from": "2027-03-02",
                                                "language": "vi"}).json()
    start = slots[0]["starts_at"]
    assert slots[0]["interpreter"] == "vi"
    for i in range(2):
        r = client.post("/api/v1/appointments", json={"office": "central", "service": "card",
                                                       "starts_at": start, "name": f"V{i}", "language": "vi"})
        assert r.status_code == 201
    before = _count(session)
    r = client.post("/api/v1/appointments", json={"office": "central", "service": "card",
                                                   "starts_at": start, "name": "V3", "language": "vi"})
    assert r.status_code == 409 and r.json()["type"] == "/problems/interpreter-unavailable"
    assert _count(session) == before
    # each booking holds a desk and a Vietnamese interpreter; the failed attempt held no one
    roles = session.execute(select(StaffHold.role, StaffHold.staff_id)).all()
    assert sorted(r for r, _ in roles) == ["interpret", "interpret", "serve", "serve"]
    assert len({who for _, who in roles}) == 4
    # and the search no longer offers that time for Vietnamese
    again = client.get("/api/v1/slots", params={"office": "central", "service": "card", "from": "2027-03-02",
                                                "language": "vi"}).json()
    assert start not in [s["starts_at"] for s in again]


def test_no_idempotency_rows_for_failures(client: TestClient, office: str, session: Session) -> None:
    r = client.post("/api/v1/appointments", json={"office": "central", "service": "apply",
                                                   "starts_at": "2027-03-01T03:00:00-05:00", "name": "x"},
                    headers={"Idempotency-Key": "fail-1"})
    assert r.status_code == 422
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_staff_status_transitions(client: TestClient, office: str, session: Session, keyring: KeyRing) -> None:
    start = first_free(client)
    code = client.post("/api/v1/appointments", json={"office": "central", "service": "apply",
                                                      "starts_at": start, "name": "S"}).json()["code"]
    clerk = staff_headers(session, keyring, ["clerk"], "central")  # a clerk of this office (identity/authz.py)
    assert client.post(f"/api/v1/appointments/{code}/status", json={"status": "checked-in"}).status_code == 401
    bad = client.post(f"/api/v1/appointments/{code}/status", json={"status": "fulfilled"}, headers=clerk)
    assert bad.status_code == 409 and "checked-in" in bad.json()["detail"]
    assert client.post(f"/api/v1/appointments/{code}/status", json={"status": "checked-in"}, headers=clerk).json()[
        "status"] == "checked-in"
    assert client.post(f"/api/v1/appointments/{code}/status", json={"status": "fulfilled"}, headers=clerk).json()[
        "status"] == "fulfilled"
    assert client.post(f"/api/v1/appointments/{code}/cancel").status_code == 409


def test_slot_search_takes_one_thread_hand_off(client: TestClient, office: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A search opens its transaction, searches and closes in one trip to the thread pool (bench/slots.py):
    each trip waits for a thread and the GIL under load. Its answers are the endpoint's as before."""
    import anyio.to_thread

    trips = []
    real = anyio.to_thread.run_sync

    async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(args[0])
        return await real(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    r = client.get("/api/v1/slots", params={"office": "central", "service": "apply", "from": "2027-03-02"})
    assert r.status_code == 200 and r.json(), r.text
    assert len(trips) == 1
    first = r.json()[0]
    assert set(first) == {"starts_at", "ends_at", "starts_at_utc", "available", "interpreter"}
    assert first["starts_at_utc"].endswith("Z") and first["interpreter"] is None
    trips.clear()
    missing = client.get("/api/v1/slots", params={"office": "nowhere", "service": "apply", "from": "2027-03-02"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    backwards = client.get("/api/v1/slots", params={"office": "central", "service": "apply",
                                                    "from": "2027-03-09", "to": "2027-03-02"})
    assert backwards.status_code == 422 and "before" in backwards.json()["detail"]


def test_a_search_is_answered_while_a_booking_holds_the_write_lock(
    backend: str, fresh_url: str, settings: Settings, keyring: KeyRing
) -> None:
    """SQLite has one write lock, which every writing transaction takes at BEGIN (BEGIN IMMEDIATE). A search
    only reads, so it answers from a snapshot while a booking holds that lock, instead of queueing behind
    it (and failing with 503 once the busy timeout runs out)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    from safeslot.app import create_app

    engine = office_database(fresh_url, NOW.date())
    app = create_app(settings, engine=engine, clock=lambda: NOW, keyring=keyring)
    with engine.connect() as writer, TestClient(app, raise_server_exceptions=False) as client:
        writer.begin()  # BEGIN IMMEDIATE: the write lock, held for the whole search
        writer.execute(select(func.count()).select_from(StaffHold)).scalar()
        r = client.get("/api/v1/slots", params={"office": "central", "service": "apply", "from": "2027-03-02"})
        writer.rollback()
    engine.dispose()
    assert r.status_code == 200 and r.json(), r.text


def test_written_bytes_are_kept_by_their_very_object_and_the_oldest_go_past_the_budget() -> None:
    """A cached answer's days are written once each (endpoints._Written): found again only for the same object
    written the same way — never for an equal list, whose id may be an old one's — and the oldest go first."""
    written = endpoints._Written(budget=10)
    day, equal = [1], [1]
    written.put(day, ("past", 0), b"12345")
    assert written.get(day, ("past", 0)) == b"12345"
    assert written.get(equal, ("past", 0)) is None and written.get(day, ("past", 1)) is None
    written.put(equal, ("past", 0), b"678901")  # 11 bytes kept: over the budget, the oldest goes
    assert written.get(day, ("past", 0)) is None and written.get(equal, ("past", 0)) == b"678901"
    assert written.size == 6
