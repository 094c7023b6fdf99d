"""One way to serve the app for a test: uvicorn in a thread on a free loopback port (`serve`), the
settings such an app gets (`served_settings`), and the demo site the browser stories serve
(`demo_site`: a fresh SQLite database with the demo office)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.identity import service as identity
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo
from tests.conftest import LENIENT_LIMITS, NOW, TEST_HASHER, new_database, people_left_unsound


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


@contextmanager
def serve(app: Any, *, host: str = "127.0.0.1", lifespan: str = "off", **options: Any) -> Iterator[str]:
    """Serve an ASGI app until the block ends; yields its base URL (``host`` names the loopback in it).

    ``lifespan="on"`` runs the app's start-up (the booking fast path); other uvicorn options pass through.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan, ws="none",
                                    **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def served_settings(tmp: Path, **overrides: Any) -> Settings:
    """The settings of an app a test serves: test environment, its key files in ``tmp``, lenient rate
    limits (a story makes more requests than a person would); ``overrides`` replace whole sections."""
    return Settings(**{
        "environment": Environment.test,
        "crypto": {"key_file": tmp / "keys.json"},
        "log": {"signing_key_file": tmp / "log.key"},
        "rate_limits": LENIENT_LIMITS,
        **overrides,
    })


@dataclass
class DemoSite:
    """A fresh SQLite database holding the demo office, and the app serving it, for a module's browser
    stories (one backend is enough there: the database is covered elsewhere)."""

    tmp: Path
    engine: Engine
    ring: KeyRing
    monkeypatch: pytest.MonkeyPatch  # undone when the site closes (module scope: not the per-test fixture)
    url: str = ""  # the served app's base URL, once `serve` runs

    def session(self) -> AbstractContextManager[Session]:
        """One transaction on the site's database, committed when the block ends."""
        return transaction(build_sessionmaker(self.engine))

    def settings(self, **overrides: Any) -> Settings:
        return served_settings(self.tmp, **overrides)

    @contextmanager
    def serve(self, settings: Settings, clock: Callable[[], dt.datetime], *, host: str = "localhost") -> Iterator[Any]:
        """Serve the app until the block ends; yields the app (``url`` holds its base URL).

        ``host="localhost"`` by default: Chromium keeps Secure cookies (the session cookie) on
        http://localhost, not on http://127.0.0.1."""
        app = create_app(settings, engine=self.engine, clock=clock, keyring=self.ring)
        with serve(app, host=host) as url:
            self.url = url
            yield app


@contextmanager
def demo_site(tmp_path_factory: pytest.TempPathFactory, name: str, *, weeks: int = 2,
              ring: KeyRing | None = None) -> Iterator[DemoSite]:
    """A `DemoSite` with the demo office and ``weeks`` weeks of starts from NOW; its database is dropped
    and the monkeypatches undone when the block ends. Passwords hash with the tests' cheap parameters
    (the autouse fixture that does so is per test; a site lives for a module)."""
    tmp = tmp_path_factory.mktemp(name)
    url, drop = new_database("sqlite", None, tmp)
    engine = build_engine(url)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(identity, "HASHER", TEST_HASHER)
            with transaction(build_sessionmaker(engine)) as session:
                demo.load(session, NOW.date(), weeks=weeks)
            yield DemoSite(tmp, engine, ring or KeyRing.generate(), mp)
        # what the module's stories booked, moved and cancelled through the pages (conftest.fresh_url's check)
        found = people_left_unsound(url)
        assert found == [], f"the stories left the people invariant broken: {found[:3]}"
    finally:
        engine.dispose()
        drop()
