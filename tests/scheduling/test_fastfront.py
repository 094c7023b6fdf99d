"""The booking fast path's front sits outside the whole ASGI stack: it must answer as the stack would.

Headers and metrics of its answers, the body limit and its deadline, the rate limits (each request counted
once, whether the front answers or hands it to the stack), the NUL rule: each is tried here against a real
server with the fast path running (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.kit.metrics import REGISTRY
from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment
from tests.conftest import LENIENT_LIMITS, NOW
from tests.scheduling.conftest import fast_path_database
from tests.scheduling.live import LiveServer

pytestmark = pytest.mark.slow

TZ = service.zone("America/New_York")
T = dt.datetime(2027, 3, 9, 10, 0, tzinfo=TZ)
PATH = "/api/v1/appointments"
SHOWN = ("content-type", "cache-control", "x-content-type-options", "content-encoding", "vary", "retry-after")


def _booking(minutes: int, name: str = "Test Person A", **extra: Any) -> dict[str, Any]:
    return {"office": "central", "service": "apply", "starts_at": (T + dt.timedelta(minutes=minutes)).isoformat(),
            "name": name, **extra}


@pytest.fixture
def db(fresh_url: str, backend: str) -> Iterator[Engine]:
    with fast_path_database(fresh_url, backend, T.date() - dt.timedelta(days=1), 1) as engine:
        yield engine


def _appointments(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Appointment)) or 0)


def _requests_counted(status: int) -> float:
    value = REGISTRY.get_sample_value("safeslot_http_requests_total",
                                      {"route": PATH, "method": "POST", "status": str(status)})
    return value or 0.0


def _until_full(client: httpx.Client | TestClient, minutes: int) -> tuple[httpx.Response, int]:
    """Book one start until it is full: the refusal, and how many were made before it."""
    for made in range(12):
        answer = client.post(PATH, json=_booking(minutes, f"Test Person {made}"))
        if answer.status_code != 201:
            return answer, made
    raise AssertionError("the start never filled")


def _shown(headers: httpx.Headers) -> dict[str, str]:
    return {name: headers[name] for name in SHOWN if name in headers}


def test_the_front_answers_with_the_stacks_headers_and_is_counted_in_the_metrics(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    settings = Settings(environment=Environment.test, database={"url": fresh_url},
                        crypto={"key_file": tmp_path / "keys.json"}, log={"signing_key_file": tmp_path / "log.key"},
                        rate_limits=LENIENT_LIMITS)
    # No lifespan: the fast path does not run, the stack and its endpoint answer.
    stack = TestClient(create_app(settings, engine=db, clock=lambda: NOW, keyring=keyring))
    made_by_stack = stack.post(PATH, json=_booking(0), headers={"Accept-Encoding": "gzip"})
    full_by_stack, _ = _until_full(stack, 15)
    assert (made_by_stack.status_code, full_by_stack.status_code) == (201, 409)

    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=30) as client:
        before = _requests_counted(201), _requests_counted(409)
        made = client.post(PATH, json=_booking(30), headers={"Accept-Encoding": "gzip"})
        full, made_before = _until_full(client, 45)
        assert live.app.state.fast_booking.answered == made_before + 2  # the front's, not the endpoint's
        assert (_requests_counted(201) - before[0], _requests_counted(409) - before[1]) == (made_before + 1, 1)
    assert (made.status_code, full.status_code) == (201, 409)
    assert _shown(made.headers) == _shown(made_by_stack.headers)
    assert _shown(full.headers) == _shown(full_by_stack.headers)
    assert made.headers["x-content-type-options"] == "nosniff" and made.headers["cache-control"] == "no-store"


def _read_until_closed(sock: socket.socket) -> str:
    """The whole answer: the server may send the head and the body in separate writes, then closes."""
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received.decode()


def test_a_body_over_the_limit_or_too_slow_is_refused_and_nothing_is_written(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW,
                    server={"max_body_bytes": 1024, "body_timeout_seconds": 1}) as live:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            big = client.post(PATH, json=_booking(0, "Test Person " + "B" * 1024))
            fine = client.post(PATH, json=_booking(0))
        host, port = live.url.removeprefix("http://").split(":")
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: 100\r\n\r\n{{\"office\":".encode())
            slow = _read_until_closed(sock)
        waited = time.monotonic() - started
    assert big.status_code == 413 and big.json()["type"] == "/problems/payload-too-large"
    assert fine.status_code == 201
    assert slow.startswith("HTTP/1.1 408") and "/problems/request-timeout" in slow
    assert waited < 8  # the body's deadline (1 s), not the client's patience
    assert _appointments(db) == 1


def test_rate_limits_hold_on_the_fast_path_and_count_each_request_once(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    limits = {**LENIENT_LIMITS, "per_address": "5/minute", "booking_per_address": "3/minute"}
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW, rate_limits=limits) as live, \
            httpx.Client(base_url=live.url, timeout=30) as client:
        made = [client.post(PATH, json=_booking(15 * i, f"Test Person {i}")).status_code for i in range(3)]
        assert live.app.state.fast_booking.answered == 3
        too_many = client.post(PATH, json=_booking(60))
        fifth = client.post(PATH, json=_booking(75))
        sixth = client.get("/api/v1/offices")
    assert made == [201, 201, 201]
    assert too_many.status_code == 429 and too_many.headers["retry-after"]
    assert too_many.json()["type"] == "/problems/rate-limited"
    assert too_many.headers["x-content-type-options"] == "nosniff"
    assert fifth.status_code == 429  # refused bookings are not counted as bookings, but as requests
    assert sixth.status_code == 429  # five requests counted, not more, not fewer
    assert _appointments(db) == 3


def test_a_request_handed_to_the_stack_is_counted_once_per_address(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    limits = {**LENIENT_LIMITS, "per_address": "4/minute"}
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW, rate_limits=limits) as live, \
            httpx.Client(base_url=live.url, timeout=30) as client:
        unknown = [client.post(PATH, json={**_booking(0), "service": "no-such-service"}).status_code
                   for _ in range(4)]
        fifth = client.post(PATH, json=_booking(0))
    assert unknown == [404, 404, 404, 404]  # counted twice, the third would have been refused
    assert fifth.status_code == 429
    assert _appointments(db) == 0


def test_a_nul_in_the_body_is_refused_by_the_edge_rule(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, \
            httpx.Client(base_url=live.url, timeout=30) as client:
        refused = client.post(PATH, json=_booking(0, "Test\u0000Person"))
    assert refused.status_code == 422 and refused.json()["type"] == "/problems/invalid-input"
    assert _appointments(db) == 0


def test_the_writers_are_shared_out_among_a_servers_processes(
    db: Engine, fresh_url: str, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`safeslot serve --workers 2` tells each process it is one of two (SAFESLOT_SERVER__WORKERS), and each
    then runs half the writers: the server commits in batches as large as one process would."""
    import uvicorn

    from safeslot.cli import common as cli_common
    from safeslot.cli.main import serve

    monkeypatch.setenv("SAFESLOT_DATABASE__URL", fresh_url)
    monkeypatch.setenv("SAFESLOT_ENVIRONMENT", "demo")  # the schema owner may serve in demo mode only
    monkeypatch.setenv("SAFESLOT_SERVER__WORKERS", "1")  # restored (unset) after the test, whatever serve sets
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    cli_common.settings.cache_clear()
    try:
        serve(host=None, port=None, workers=2)
    finally:
        cli_common.settings.cache_clear()
    workers = Settings().server.workers  # what a worker process reads from the environment it inherits
    assert workers == 2

    seen = {}
    for processes in (1, workers):
        with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW, server={"workers": processes}) as live, \
                httpx.Client(base_url=live.url, timeout=30) as client:
            health = client.get("/healthz").json()["booking_writers"]
            made = client.post(PATH, json=_booking(15 * processes))
        seen[processes] = (health["writers"], made.status_code)
    assert seen == {1: (4, 201), 2: (2, 201)}
