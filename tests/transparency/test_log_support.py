"""Helpers shared by the log tests (no tests here): entries, tampering, loopback servers."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlalchemy.orm import Session


def entries(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"event": "disclosure.decision", "request_id": f"req-{start + i}", "categories": ["contact"], "people": 1}
        for i in range(n)
    ]


@contextmanager
def triggers_disabled(session: Session, *tables: str) -> Iterator[None]:
    """Remove the append-only guard for one test step (rolled back with the test's transaction)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        for t in tables:
            session.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER ALL"))
    else:
        for t in tables:
            session.execute(text(f"DROP TRIGGER {t}_no_update"))
            session.execute(text(f"DROP TRIGGER {t}_no_delete"))
    yield


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


NOW_ENTRIES = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
