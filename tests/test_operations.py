"""Operations endpoints: /healthz (database reachable, migrations current) and /metrics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text, update
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo
from safeslot.scheduling.models import SlotCapacity
from tests.conftest import NOW
from tests.identity.helpers import staff_headers
from tests.scheduling.conftest import first_free


def test_healthz_ok_on_a_migrated_database(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["migrations"]


@pytest.fixture
def empty_url(backend: str, pg_admin_url: str | None, tmp_path: Path) -> Iterator[str]:
    """A database that exists but was never migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if pg_admin_url is None:
        pytest.skip("no PostgreSQL")
    name = f"safeslot_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_healthz_is_503_while_migrations_are_pending(empty_url: str, settings: Settings, keyring: KeyRing) -> None:
    engine = build_engine(empty_url)
    try:
        client = TestClient(create_app(settings, engine=engine, keyring=keyring), raise_server_exceptions=False)
        r = client.get("/healthz")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/migrations-pending"
        assert "safeslot db upgrade" in r.json()["detail"]
    finally:
        engine.dispose()


def _samples(client: TestClient) -> dict[str, float]:
    r = client.get("/metrics")  # with the auditor's token the test set (tests/test_leaks.py: not public)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}"] = s.value
    return out


def test_metrics_count_bookings_conflicts_and_requests(
    client: TestClient, session: Session, keyring: KeyRing
) -> None:
    demo.load(session, NOW.date(), weeks=1)
    session.flush()
    client.headers.update(staff_headers(session, keyring, ["auditor"], None))
    start = first_free(client, "card")
    before = _samples(client)
    body = {"office": "central", "service": "card", "starts_at": start, "name": "M. Example"}
    assert client.post("/api/v1/appointments", json=body).status_code == 201
    session.execute(update(SlotCapacity).values(capacity=SlotCapacity.booked))  # everything full now
    assert client.post("/api/v1/appointments", json=body).status_code == 409
    after = _samples(client)

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert delta("safeslot_bookings_total{}") == 1
    assert delta("safeslot_booking_conflicts_total{reason=slot}") == 1
    route = "method=POST,route=/api/v1/appointments"
    assert delta(f"safeslot_http_requests_total{{{route},status=201}}") == 1
    assert delta(f"safeslot_http_requests_total{{{route},status=409}}") == 1
    assert delta(f"safeslot_http_request_seconds_count{{{route}}}") == 2
    # request paths are counted by template, never by raw path (codes are personal references)
    client.get("/api/v1/appointments/ZZZZZ-ZZZZZ")
    assert not any("ZZZZZ" in name for name in _samples(client))
