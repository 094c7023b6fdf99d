"""A real uvicorn server in a thread on loopback, for tests that need real concurrency over HTTP."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import uvicorn

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.db import build_engine
from safeslot.privacy.crypto import KeyRing


class LiveServer:
    def __init__(self, url: str, keyring: KeyRing, tmp: Path, clock: Callable[[], dt.datetime]) -> None:
        settings = Settings(
            environment=Environment.test,
            database={"url": url, "pool_size": 8},
            crypto={"key_file": tmp / "keys.json"},
            log={"signing_key_file": tmp / "log.key"},
        )
        self.engine = build_engine(url, pool_size=8)
        self.app = create_app(settings, engine=self.engine, clock=clock, keyring=keyring)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
            loop="uvloop", http="httptools", lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""
        self.db_url = url

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.engine.dispose()
