"""What every command shares: settings, the engine, one transaction per command.

Importing this module costs only rich: the settings, SQLAlchemy and the key ring are imported
by the function that needs them, so a command that reads no database (`safeslot witness keygen`,
`safeslot log vkey`) never loads the database layer (docs/decisions.md, "A command imports only
what it runs").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from safeslot.config import Settings
    from safeslot.kit.crypto import KeyRing

console = Console()
err_console = Console(stderr=True)


@lru_cache(maxsize=1)
def settings() -> Settings:
    from safeslot.config import Settings

    return Settings()


@lru_cache(maxsize=1)
def engine() -> Engine:
    from safeslot.db import build_engine

    s = settings()
    if s.database.url.startswith("sqlite:///") and not s.database.url.startswith("sqlite:////"):
        from pathlib import Path

        Path(s.database.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return build_engine(s.database.url, pool_size=s.database.pool_size)


def owner_engine() -> Engine:
    """The schema owner's engine (``database.owner_url``, else ``database.url``): only for `db upgrade`."""
    from safeslot.db import build_engine

    s = settings()
    if s.database.owner_url is None:
        return engine()
    return build_engine(s.database.owner_url, pool_size=1)


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction, committed on success: CLI commands call the same services as the API."""
    from safeslot.db import build_sessionmaker

    with build_sessionmaker(engine())() as session, session.begin():
        yield session


def keyring() -> KeyRing:
    from safeslot.kit.crypto import load_key_ring

    s = settings()
    return load_key_ring(s.crypto.key_file, s.crypto.keys, create=s.is_demo)
