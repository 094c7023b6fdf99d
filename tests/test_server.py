"""The served protocols (server.py): a request head must arrive within its deadline, or the connection is
closed (uvicorn alone has none); an answer's head and body go out in one write and arrive whole on a kept-alive
connection. The deadline's setting is read through config.py (tests/test_config.py). SQLite only: the protocols
never touch the database."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from safeslot.server import TimedH11Protocol, TimedHttpToolsProtocol, header_timeout
from tests.conftest import ON_SQLITE
from tests.live import serve


@ON_SQLITE
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


@ON_SQLITE
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
