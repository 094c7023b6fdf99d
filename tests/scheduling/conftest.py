from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import NOW, office_database


@contextmanager
def fast_path_database(url: str, backend: str, first_day: dt.date, weeks: int) -> Iterator[Engine]:
    """A PostgreSQL database of its own with the demo offices from ``first_day``, for the booking fast
    path (its writers commit on connections of their own); skipped on SQLite, which has no fast path."""
    if backend != "postgresql":
        pytest.skip("the fast path is PostgreSQL's")
    engine = office_database(url, first_day, weeks=weeks, pool_size=2)
    try:
        yield engine
    finally:
        engine.dispose()


def first_free(client, service: str = "apply", language: str | None = None, day: dt.date | None = None) -> str:  # type: ignore[no-untyped-def]
    params = {"office": "central", "service": service, "from": (day or NOW.date()).isoformat()}
    if language:
        params["language"] = language
    slots = client.get("/api/v1/slots", params=params).json()
    return str(slots[0]["starts_at"])
