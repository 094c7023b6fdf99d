"""Failing gracefully: values the database cannot hold are 4xx at the edge, an
unavailable database is 503 with Retry-After, unusable database URLs fail at start, and a
half-sent body times out. /healthz is tested in test_health.py, the served protocols' head
deadline in test_server.py."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from tests.conftest import NOW
from tests.identity.helpers import staff_headers

PROBLEM = "application/problem+json"
BIG = (str(2**31), str(2**63), str(2**70))


@pytest.fixture
def office_weeks() -> int:
    return 1


def _refused_politely(r: Any) -> None:
    assert 400 <= r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text)
    assert r.headers["content-type"] == PROBLEM


def test_ids_past_the_integer_range_are_4xx(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    privacy = staff_headers(session, keyring, ["privacy_officer"], None)
    supervisor = staff_headers(session, keyring, ["supervisor"])
    session.flush()
    for number in BIG:
        _refused_politely(client.get(f"/api/v1/disclosure-requests/{number}", headers=privacy))
        _refused_politely(client.get(f"/api/v1/disclosure-requests/{number}/subjects", headers=privacy))
        _refused_politely(client.patch(f"/api/v1/offices/{office}/staff/{number}", headers=supervisor,
                                       json={"active": False}))
        _refused_politely(client.delete(f"/api/v1/offices/{office}/hours/{number}", headers=supervisor))
        _refused_politely(client.get(f"/log/entry/{number}"))


def test_far_dates_and_nul_characters_are_4xx(client: TestClient, office: str) -> None:
    for params in ({"from": "9999-12-31"}, {"from": "9999-12-25", "to": "9999-12-31"}, {"from": "0001-01-01"}):
        _refused_politely(client.get("/api/v1/slots", params={"office": office, "service": "apply", **params}))
    nul = "cent\x00ral"
    _refused_politely(client.get("/api/v1/slots", params={"office": nul, "service": "apply", "from": "2027-03-02"}))
    _refused_politely(client.get("/api/v1/offices/cent%00ral"))
    _refused_politely(client.get("/api/v1/appointments/ABCDE%00FGHJ"))
    _refused_politely(client.post("/api/v1/appointments/ABCDE%00FGHJ/cancel"))
    _refused_politely(client.post("/api/v1/accounting/lookup", json={"code": "ABCDEFGHJK", "name": "Test\x00A"}))
    _refused_politely(client.post("/api/v1/appointments", json={
        "office": office, "service": "apply", "starts_at": "2027-03-02T09:00:00-05:00", "name": "Test\u0000A"}))
    page = client.post("/manage", data={"code": "ABCDE\x00FGHJ", "name": "x"})
    assert page.status_code == 422


def test_an_unreachable_database_is_503_with_retry_after(settings: Settings, keyring: KeyRing) -> None:
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = build_engine(f"postgresql://postgres@127.0.0.1:{port}/nothing")
    try:
        client = TestClient(create_app(settings, engine=engine, keyring=keyring, clock=lambda: NOW),
                            raise_server_exceptions=True)  # nothing may escape as an exception either
        for r in (client.get("/api/v1/offices"), client.post("/api/v1/appointments", json={
                "office": "central", "service": "apply", "starts_at": "2027-03-02T09:00:00-05:00", "name": "A"}),
                  client.get("/api/v1/disclosure-requests", headers={"Authorization": "Bearer sst_x"})):
            assert r.status_code == 503 and r.headers["content-type"] == PROBLEM, r.text
            assert r.headers["retry-after"] == "5" and r.json()["type"] == "/problems/database-unavailable"
        page = client.get("/manage/ABCDEFGHJK")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        health_ = client.get("/healthz")
        assert health_.status_code == 503 and health_.json()["checks"]["database"].startswith("unreachable")
        assert health_.headers["retry-after"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:5432/x", "postgres://postgres@db/x"])
def test_a_standard_postgresql_url_uses_psycopg(url: str) -> None:
    assert Settings(environment="test", database={"url": url}).database.url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(("url", "says"), [
    ("not a url", "cannot be read"), ("mysql://root@db/x", "SQLite or PostgreSQL"),
    ("postgresql+psycopg2://db/x", "not installed"),
])
def test_an_unusable_database_url_fails_at_start_saying_what_to_change(url: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings(environment="test", database={"url": url})


def test_a_half_sent_body_times_out_with_408(settings: Settings, keyring: KeyRing, tmp_path: Path,
                                             app_factory: Callable[..., TestClient]) -> None:
    quick = settings.model_copy(update={"server": settings.server.model_copy(update={"body_timeout_seconds": 0.5})})
    app = app_factory(settings=quick).app
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not sent:
            sent.append({})
            return {"type": "http.request", "body": b'{"office": "cen', "more_body": True}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/v1/appointments", "raw_path": b"/api/v1/appointments",
             "query_string": b"", "root_path": "", "client": ("192.0.2.1", 1), "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")]}
    started = time.monotonic()
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    assert statuses == [408] and time.monotonic() - started < 5


def test_dates_stay_in_range_on_the_public_pages(client: TestClient, office: str) -> None:
    r = client.get("/book/slots", params={"office": office, "service": "apply", "day": "9999-12-31"})
    assert r.status_code < 500
