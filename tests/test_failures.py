"""Failing gracefully: values the database cannot hold are 4xx at the edge, an
unavailable database is 503 with Retry-After, /healthz names what is wrong, unusable database
URLs fail at start, and slow or half-sent requests time out."""

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

from safeslot import health
from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from safeslot.server import TimedH11Protocol, TimedHttpToolsProtocol, header_timeout
from tests.conftest import NOW
from tests.identity.helpers import staff_headers
from tests.live import serve

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


def test_healthz_names_each_part_and_what_is_wrong(
    app_factory: Callable[..., TestClient]
) -> None:
    client = app_factory()
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json()["checks"] == {"database": "ok", "disk": "ok"}
    health.register(client.app, "writers", lambda app: "2 of 4 booking writers are reconnecting")  # type: ignore[arg-type]
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["type"] == "/problems/unhealthy"
    assert r.json()["checks"]["writers"] == "2 of 4 booking writers are reconnecting"
    assert "writers" in r.json()["detail"]


def test_a_sqlite_folder_that_takes_no_writes_is_named(
    app_factory: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the disk check is SQLite's folder")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(30, "Read-only file system")

    client = app_factory()
    monkeypatch.setattr(health.tempfile, "NamedTemporaryFile", refuse)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["checks"]["disk"] == "the database folder is not writable"


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


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [TimedH11Protocol, TimedHttpToolsProtocol])
def test_a_half_sent_request_head_is_cut_off(
    protocol: type, monkeypatch: pytest.MonkeyPatch, app_factory: Callable[..., TestClient]
) -> None:
    monkeypatch.setenv("SAFESLOT_SERVER__HEADER_TIMEOUT_SECONDS", "1")
    header_timeout.cache_clear()
    try:
        with serve(app_factory().app, http=protocol) as url:
            host, port = url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=10) as slow:
                slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
                started = time.monotonic()
                assert slow.recv(1024) == b""  # closed by the server
                assert time.monotonic() - started < 5
            # a whole head is served (its first answer builds the app's route table: slow on a busy machine)
            with socket.create_connection((host, int(port)), timeout=60) as fine:
                fine.sendall(b"GET /problems/slot-full HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert fine.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        header_timeout.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [TimedH11Protocol, TimedHttpToolsProtocol])
def test_answers_joined_into_one_write_arrive_whole_on_a_kept_alive_connection(
    protocol: type, app_factory: Callable[..., TestClient]
) -> None:
    """The served protocols send an answer's head and body in one write (server.OneWrite): small and large
    answers, one after another on the same connection, each arrive whole, and a closing answer too."""
    import httpx

    with serve(app_factory().app, http=protocol) as url, httpx.Client(base_url=url, timeout=60) as http:
        for path in ("/healthz", "/openapi.json", "/problems/slot-full", "/healthz", "/openapi.json"):
            r = http.get(path)
            assert r.status_code == 200 and r.num_bytes_downloaded == int(r.headers["content-length"])
        spec = http.get("/openapi.json", headers={"accept-encoding": "identity"}).json()
        assert "/api/v1/appointments" in spec["paths"]
        last = http.get("/healthz", headers={"connection": "close"})
        assert last.status_code == 200


def test_dates_stay_in_range_on_the_public_pages(client: TestClient, office: str) -> None:
    r = client.get("/book/slots", params={"office": office, "service": "apply", "day": "9999-12-31"})
    assert r.status_code < 500
