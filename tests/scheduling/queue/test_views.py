"""What the queue shows (scheduling/queue/views.py): a person's own place and wait, the lobby display
(numbers and desks, for half an hour), and the supervisor's board with the day's served, missed and median
wait. The wait estimate's arithmetic is in test_rules.py and test_estimate_day.py. SQLite only: the SQL is
the same on both databases (test_service.py keeps PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Office
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue import views
from safeslot.scheduling.queue.models import QueueTicket
from tests.conftest import NOW, ON_SQLITE
from tests.scheduling.queue.conftest import SETTINGS, desk

MIN = dt.timedelta(minutes=1)


def _walk_in(session: Session, ring: KeyRing, at: dt.datetime, name: str | None = None) -> QueueTicket:
    return queue.check_in_walk_in(session, ring, "central", "card", None, name, at)


@ON_SQLITE
def test_a_person_sees_how_many_are_ahead_and_an_estimate_never_a_name(
    session: Session, keyring: KeyRing, office: Office
) -> None:
    first = _walk_in(session, keyring, NOW - 2 * MIN, name="Test Person A")
    second = _walk_in(session, keyring, NOW - MIN)
    mine = views.ticket_status(session, second, NOW, SETTINGS)
    assert (mine.label, mine.ahead, mine.expired) == ("W002", 1, False)
    assert mine.estimate is not None and mine.estimate.high >= mine.estimate.low >= 0
    assert views.ticket_status(session, first, NOW, SETTINGS).ahead == 0
    # tomorrow, a ticket never called is expired: it will not be called, and no wait is promised
    stale = views.ticket_status(session, second, NOW + dt.timedelta(days=1), SETTINGS)
    assert stale.expired and stale.estimate is None


@ON_SQLITE
def test_the_lobby_display_shows_numbers_and_desks_for_half_an_hour(
    session: Session, keyring: KeyRing, office: Office
) -> None:
    _walk_in(session, keyring, NOW - MIN, name="Test Person A")
    clerk = desk(session, "Desk A")
    queue.call_next(session, office, clerk.id, "Desk 3", NOW, SETTINGS)
    shown = views.display(session, office, NOW + MIN)
    assert [(c.label, c.desk) for c in shown] == [("W001", "Desk 3")]
    assert "Test Person A" not in repr(shown)
    assert views.display(session, office, NOW + 31 * MIN) == []


@ON_SQLITE
def test_the_board_counts_the_days_served_and_missed_and_the_median_wait(
    session: Session, keyring: KeyRing, office: Office
) -> None:
    clerk = desk(session, "Desk A")
    for minutes in (30, 20, 10):  # W001 came first
        _walk_in(session, keyring, NOW - minutes * MIN)
    served = queue.call_next(session, office, clerk.id, "Desk 1", NOW, SETTINGS)
    assert served is not None
    queue.finish(session, office, served.id, clerk.id, "done", NOW + 5 * MIN)
    missed = queue.call_next(session, office, clerk.id, "Desk 1", NOW + 6 * MIN, SETTINGS)
    assert missed is not None
    queue.finish(session, office, missed.id, clerk.id, "noshow", NOW + 8 * MIN)
    board = views.board(session, office, NOW + 9 * MIN, SETTINGS)
    assert (board.served, board.noshows) == (1, 1)
    assert board.median_wait == 30.0  # waits of 30 (W001) and 26 minutes (W002): the upper middle of two
    assert [(r.label, r.status) for r in board.rows] == [("W003", "waiting")]
    card = next(line for line in board.lines if line.service.slug == "card")
    assert card.waiting == 1
