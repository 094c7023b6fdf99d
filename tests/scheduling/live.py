"""The real app under uvicorn (uvloop, httptools, lifespan on: the PostgreSQL booking fast path starts),
for tests that need real concurrency over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from safeslot.app import create_app
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from tests.live import serve, served_settings


class LiveServer:
    def __init__(self, url: str, keyring: KeyRing, tmp: Path, clock: Callable[[], dt.datetime],
                 **settings_overrides: Any) -> None:
        settings = served_settings(tmp, **{"database": {"url": url, "pool_size": 8}, **settings_overrides})
        self.engine = build_engine(url, pool_size=8)
        self.app = create_app(settings, engine=self.engine, clock=clock, keyring=keyring)
        self.url = ""
        self.db_url = url
        self._served: AbstractContextManager[str] | None = None

    def __enter__(self) -> LiveServer:
        self._served = serve(self.app, lifespan="on", loop="uvloop", http="httptools",
                            timeout_keep_alive=120)  # the races open their connections first; keep them
        self.url = self._served.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._served is not None
        self._served.__exit__(exc_type, exc, tb)
        self.engine.dispose()
