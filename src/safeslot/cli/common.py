"""What every command shares: settings, the engine, one transaction per command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.db import build_engine, build_sessionmaker
from safeslot.kit.crypto import KeyRing, load_key_ring

console = Console()
err_console = Console(stderr=True)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()


@lru_cache(maxsize=1)
def engine() -> Engine:
    s = settings()
    if s.database.url.startswith("sqlite:///") and not s.database.url.startswith("sqlite:////"):
        from pathlib import Path

        Path(s.database.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return build_engine(s.database.url, pool_size=s.database.pool_size)


def owner_engine() -> Engine:
    """The schema owner's engine (``database.owner_url``, else ``database.url``): only for `db upgrade`."""
    s = settings()
    if s.database.owner_url is None:
        return engine()
    return build_engine(s.database.owner_url, pool_size=1)


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction, committed on success: CLI commands call the same services as the API."""
    with build_sessionmaker(engine())() as session, session.begin():
        yield session


def keyring() -> KeyRing:
    s = settings()
    return load_key_ring(s.crypto.key_file, s.crypto.keys, create=s.is_demo)
