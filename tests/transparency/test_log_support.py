"""Helpers shared by the log tests (no tests here): entries, tampering, loopback servers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


NOW_ENTRIES = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
