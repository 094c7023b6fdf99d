"""/healthz: what is wrong, by part — database, migrations, disk — and the parts other domains add.

A check is a function of the app returning ``None`` when its part is fine, or a
short reason (no personal data) when it is not. The database and disk checks
are here; others register theirs with ``register(app, name, check)`` in their
``setup`` (the booking fast path's writers, the witnesses). Any failing check
makes the answer 503 problem+json with ``Retry-After`` and ``checks`` naming
each part; 200 lists them all as ``ok``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.responses import Response

from safeslot import migrate
from safeslot.kit.errors import N_, Unavailable, problem_for
from safeslot.kit.http import JSON

Check = Callable[[Any], "str | None"]
MIN_FREE_BYTES = 64 * 1024 * 1024  # below this, SQLite writes start failing with "database or disk is full"
RETRY_AFTER = "5"



class MigrationsPending(Unavailable, slug="migrations-pending", title=N_("Migrations pending")):
    """The database schema is older than this version of the application. An operator runs
    `safeslot db upgrade`, then checks /healthz again.
    """


class Unhealthy(Unavailable, slug="unhealthy", title=N_("Not every part is working")):
    """A part the service needs (database, disk, log key, rate-limit store) is not working; the
    answer's `checks` name it. Requests that need it answer 503 until it is back.
    """


def register(app: FastAPI, name: str, check: Check) -> None:
    """Add a part to /healthz (e.g. ``writers``, ``witness``)."""
    app.state.health_checks = {**getattr(app.state, "health_checks", {}), name: check}


def _database(app: Any) -> tuple[str | None, list[str]]:
    from alembic.runtime.migration import MigrationContext

    try:
        with app.state.sessionmaker() as session, session.begin():
            session.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(session.connection()).get_current_heads())
    except Exception as exc:  # what exactly failed may name a host or a path: the type is enough here
        return f"unreachable or not writable ({type(exc).__name__})", []
    if current != migrate.script_heads():
        return "migrations pending: run `safeslot db upgrade`", sorted(current)
    return None, sorted(current)


def _sqlite_folder(app: Any) -> Path | None:
    url = str(app.state.engine.url)
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return None
    return Path(url.removeprefix("sqlite:///")).resolve().parent


def disk(app: Any) -> str | None:
    """The SQLite folder accepts a write and has room (PostgreSQL's disk is the database's check)."""
    folder = _sqlite_folder(app)
    if folder is None:
        return None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-") as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError:
        return "the database folder is not writable"
    if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
        return "the database folder's disk is (nearly) full"
    return None


def install(app: FastAPI) -> None:
    register(app, "disk", disk)

    @app.get(
        "/healthz", tags=["operations"],
        responses={503: {"description": "A part is not working: `checks` names it",
                         "content": {"application/problem+json": {}}}},
    )
    def healthz() -> Response:
        """Each part and whether it works: database (reachable, writable, migrations current), disk, and
        the parts other domains add. 503 with ``Retry-After`` when any is not."""
        problem, heads = _database(app)
        checks: dict[str, str] = {"database": problem or "ok"}
        for name, check in getattr(app.state, "health_checks", {}).items():
            try:
                checks[name] = check(app) or "ok"
            except Exception as exc:
                checks[name] = f"check failed ({type(exc).__name__})"
        extra: dict[str, Any] = {}
        fast = getattr(app.state, "fast_booking", None)
        if fast is not None and fast.loop is not None:  # the PostgreSQL booking writers (scheduling/fastpath.py)
            extra["booking_writers"] = writers = fast.health()
            checks["writers"] = "ok" if writers["connected"] else "the booking writers are reconnecting"
        failing = sorted(name for name, state in checks.items() if state != "ok")
        if problem is not None and problem.startswith("migrations pending"):
            response = problem_for(MigrationsPending, "Run `safeslot db upgrade`, then check again.", checks=checks)
        elif failing:
            response = problem_for(
                Unhealthy, f"Not working: {', '.join(failing)} (see `checks`). Requests that need them answer 503 "
                "until they are back; nothing needs a restart.", checks=checks, **extra)
        else:
            return JSON({"status": "ok", "database": "reachable", "migrations": heads, "checks": checks, **extra})
        response.headers["Retry-After"] = RETRY_AFTER
        return response
