"""Two parties in a set order on PostgreSQL: the second starts in a thread and the test waits until it
either finished or waits for a lock the first holds (the ordering point), never for a fixed time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.scheduling import service
from safeslot.scheduling.assignment import candidates, people_of


def first_choice(db: Engine) -> int:
    """Who a booking of "apply" at the demo office gets while everyone is free."""
    with Session(db) as s:
        office = service.get_office(s, "central")
        return candidates(people_of(s, office.id), "apply", None).servers[0]


def second_party(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``work`` in a thread; its value or its error lands in the returned dict."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = work()
        except BaseException as exc:  # reported by the test, not lost in the thread
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def wait_blocked_or_done(db: Engine, thread: threading.Thread) -> None:
    """Until the thread finished or some session of this database waits for a lock (the ordering point)."""
    deadline = time.monotonic() + 30
    with db.connect() as probe:
        while thread.is_alive():
            waiting = probe.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()")).scalar_one()
            probe.rollback()
            if waiting:
                return
            assert time.monotonic() < deadline, "the second party neither finished nor waited for a lock"
            time.sleep(0.01)  # polling a condition, not ordering by time
