"""One booking plan for both paths: the same requests down the sync path and the PostgreSQL fast path
give the same answers and the same rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment, IdempotencyRecord, Service, StaffHold
from tests.conftest import LENIENT_LIMITS, NOW
from tests.scheduling.conftest import fast_path_database
from tests.scheduling.live import LiveServer

pytestmark = pytest.mark.slow

TZ = service.zone("America/New_York")
T = dt.datetime(2027, 3, 9, 10, 0, tzinfo=TZ)


def _at(minutes: int) -> str:
    return (T + dt.timedelta(minutes=minutes)).isoformat()


def _req(slug: str, minutes: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"office": "central", "service": slug, "starts_at": _at(minutes), "name": name, **extra}


# (body, Idempotency-Key): bookings, a full start, an interpreter refused, a replay, a reused key,
# a contact without consent, a time off the grid, an accommodation and a contact with consent.
REQUESTS: list[tuple[Any, str | tuple[str, ...] | None]] = [
    *[(_req("apply", 0, f"Test Person {i}"), f"a{i}") for i in range(5)],
    (_req("interview", 15, "Test Person I", language="es"), None),
    (_req("interview", 15, "Test Person J", language="es-MX"), "i2"),
    *[(_req("card", 30, f"Test Person V{i}", language="vi"), None) for i in range(3)],
    (_req("apply", 0, "Test Person 0"), "a0"),
    (_req("apply", 60, "Test Person Z"), "a0"),
    (_req("card", 45, "Test Person C", contact={"kind": "phone", "value": "555-0100"}), None),
    (_req("card", 47, "Test Person D"), None),
    (_req("card", 60, "Test Person E", accommodation="wheelchair",
          contact={"kind": "email", "value": "e@example.org"}, reminders_opt_in=True), "c1"),
    (_req("card", 60, "Test Person F", language="en"), None),
    (_req("card", 75, "Test\u202ePerson G"), None),  # a bidirectional override in the name: refused by both
    (_req("card", 75, "Test Person H"), ("h1", "h2")),  # two Idempotency-Keys: refused by both
    (_req("card", 75, "Test Person H"), "h1"),  # then one of them: a new booking on both, replayed by neither
    ("{not json", None),
]


@pytest.fixture
def db(fresh_url: str, backend: str) -> Iterator[Engine]:
    with fast_path_database(fresh_url, backend, T.date() - dt.timedelta(days=1), 1) as engine:
        yield engine


def _send(client: httpx.Client | TestClient) -> list[tuple[int, Any]]:
    out = []
    for body, key in REQUESTS:
        keys = (key,) if isinstance(key, str) else key or ()
        headers = [("Idempotency-Key", k) for k in keys]
        if isinstance(body, str):
            r = client.post("/api/v1/appointments", content=body,
                            headers=[*headers, ("Content-Type", "application/json")])
        else:
            r = client.post("/api/v1/appointments", json=body, headers=headers)
        answer = r.json()
        if r.status_code in (200, 201):
            answer["code"] = "…"
        out.append((r.status_code, answer, r.headers.get("Idempotent-Replayed"), r.headers["content-type"]))
    return out


def _rows(engine: Engine, ring: KeyRing) -> list[tuple[Any, ...]]:
    with Session(engine) as s:
        slugs = dict(s.execute(select(Service.id, Service.slug)).all())
        rows = []
        for a in s.scalars(select(Appointment)):
            holds = sorted(s.execute(select(StaffHold.staff_id, StaffHold.starts_at, StaffHold.role)
                                     .where(StaffHold.appointment_id == a.id)).all())
            rows.append((
                a.starts_at, a.ends_at, slugs[a.service_id], a.status, a.language, a.staff_id, a.interpreter_id,
                ring.open(a.name_enc, "appointment.name"), a.name_index,
                ring.open(a.accommodation_enc, "appointment.accommodation") if a.accommodation_enc else None,
                ring.open(a.contact_enc, "appointment.contact") if a.contact_enc else None,
                a.reminders_opt_in, a.sequence, a.created_at, a.slot_id, tuple(holds),
            ))
        return sorted(rows, key=lambda r: (r[0], r[7]))


def _records(engine: Engine) -> list[tuple[Any, ...]]:
    """The stored first answers to Idempotency-Keys, as a replay sends them, the code masked (each path draws
    its own)."""
    with Session(engine) as s:
        out = []
        for r in s.scalars(select(IdempotencyRecord)):
            code = json.loads(r.body).get("code")
            body = r.body.replace(code, "…") if isinstance(code, str) else r.body
            out.append((r.scope, r.key, r.request_hash, r.status_code, body, r.created_at))
        return sorted(out)


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM staff_hold; DELETE FROM appointment; DELETE FROM idempotency_record"))


def test_the_same_requests_down_both_paths_give_the_same_answers_and_rows(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    settings = Settings(environment=Environment.test, database={"url": fresh_url},
                        crypto={"key_file": tmp_path / "keys.json"}, log={"signing_key_file": tmp_path / "log.key"},
                        rate_limits=LENIENT_LIMITS)  # many bookings from one address
    # No lifespan: the fast path never starts, every booking takes the sync endpoint (committing for real).
    sync_app = create_app(settings, engine=db, clock=lambda: NOW, keyring=keyring)
    assert sync_app.state.fast_booking.loop is None
    sync_answers = _send(TestClient(sync_app, raise_server_exceptions=False))
    sync_rows, sync_records = _rows(db, keyring), _records(db)
    _wipe(db)

    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live:
        assert live.app.state.fast_booking.loop is not None
        with httpx.Client(base_url=live.url, timeout=30) as client:
            fast_answers = _send(client)
        # bookings, full starts, the refused interpreter and the replay were answered by the fast path itself
        answered = sum(status in (201, 409) and answer.get("type") != "/problems/idempotency-key-reused"
                       for status, answer, *_ in fast_answers)
        assert live.app.state.fast_booking.answered == answered
    fast_rows, fast_records = _rows(db, keyring), _records(db)

    kinds = {(status, answer.get("type")) for status, answer, *_ in sync_answers}
    assert kinds >= {(201, None), (409, "/problems/slot-full"), (409, "/problems/interpreter-unavailable"),
                     (409, "/problems/idempotency-key-reused"), (422, "/problems/invalid-input"),
                     (422, "/problems/no-such-slot"), (400, "/problems/malformed-json")}, sync_answers
    assert sum(replayed == "true" for *_, replayed, _ in sync_answers) == 1
    assert fast_answers == sync_answers
    assert len(fast_rows) == sum(status == 201 for status, *_ in sync_answers) - 1  # one was a replay
    assert fast_rows == sync_rows
    booked_with_a_key = {key for (_, key), (status, *_) in zip(REQUESTS, sync_answers, strict=True)
                         if status == 201 and isinstance(key, str)}
    assert {key for _, key, *_ in sync_records} == booked_with_a_key  # refusals keep no answer
    assert fast_records == sync_records  # what a retry with the same key is sent, byte for byte but the code
