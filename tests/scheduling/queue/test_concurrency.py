"""Desks calling at once never get the same ticket; check-ins at once never share a number.

Each desk runs ``call_next`` in its own transaction on its own connection, released
together by a barrier. PostgreSQL: the conditional UPDATE (``status = 'waiting'``)
re-checks the row after waiting for another desk's lock (READ COMMITTED), and the
loser moves on to the next ticket. SQLite: ``BEGIN IMMEDIATE`` serialises them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from safeslot.db import build_sessionmaker, transaction
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Staff
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue.models import QueueTicket
from tests.conftest import NOW, office_database
from tests.scheduling.queue.conftest import SETTINGS

pytestmark = pytest.mark.slow
TICKETS = 40
CARD_DESKS = ("Desk A", "Desk B", "Desk C", "Desk E")  # everyone who serves "card" in the demo office


@pytest.fixture
def db(fresh_url: str) -> Iterator[Engine]:
    engine = office_database(fresh_url, NOW.date(), pool_size=8)
    yield engine
    engine.dispose()


def _together(workers: int, work: object) -> list[BaseException]:
    barrier = threading.Barrier(workers)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)  # type: ignore[operator]
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return failures


def test_two_desks_calling_at_once_never_get_the_same_ticket(db: Engine) -> None:
    maker = build_sessionmaker(db)
    ring = KeyRing.generate()
    with transaction(maker) as s:
        for i in range(TICKETS):
            queue.check_in_walk_in(s, ring, "central", "card", None, None, NOW.replace(second=i % 60))
        ids = {d: s.scalars(select(Staff.id).where(Staff.display_name == d)).one() for d in CARD_DESKS}
    calls: list[tuple[str, int | None]] = []
    lock = threading.Lock()
    rounds = threading.Barrier(len(CARD_DESKS))  # every round, all four desks press "call next" together

    def desk(i: int) -> None:
        name = CARD_DESKS[i]
        for _ in range(TICKETS // len(CARD_DESKS)):
            rounds.wait(timeout=60)
            with transaction(maker) as s:
                office = scheduling.get_office(s, "central")
                ticket = queue.call_next(s, office, ids[name], name, NOW, SETTINGS)
                ticket_id = ticket.id if ticket is not None else None
            with lock:
                calls.append((name, ticket_id))
            if ticket_id is not None:
                with transaction(maker) as s:
                    office = scheduling.get_office(s, "central")
                    queue.finish(s, office, ticket_id, ids[name], "done", NOW)

    assert _together(len(CARD_DESKS), desk) == []
    called = Counter(ticket_id for _, ticket_id in calls)
    assert None not in called, "a desk found nobody while tickets were waiting"
    assert len(called) == TICKETS and max(called.values()) == 1, "a ticket was called at two desks"
    with Session(db) as s:
        rows = s.scalars(select(QueueTicket)).all()
        assert {t.status for t in rows} == {"done"}
        by_desk = {t.id: t.desk for t in rows}
    assert all(by_desk[ticket_id] == name for name, ticket_id in calls if ticket_id is not None), \
        "the ticket names the desk that called it"


def test_check_ins_at_once_get_distinct_numbers(db: Engine) -> None:
    maker = build_sessionmaker(db)
    ring = KeyRing.generate()

    def check_in(i: int) -> None:
        with transaction(maker) as s:
            queue.check_in_walk_in(s, ring, "central", "apply", None, None, NOW)

    assert _together(8, check_in) == []
    with Session(db) as s:
        numbers = sorted(s.scalars(select(QueueTicket.number)).all())
    assert numbers == list(range(1, 9))
