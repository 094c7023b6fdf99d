"""The queue's queries (scheduling/queue/repository.py) where a wrong answer is a person's turn: numbers
count up per office and day with no gap or repeat, a ticket is called by one desk only, and after the
retention period the names are erased and the old days' tickets and counters go. On both databases: the
counter's insert and the claim's re-check are written per dialect."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Office
from safeslot.scheduling.queue import repository
from safeslot.scheduling.queue import service as queue
from tests.conftest import NOW
from tests.scheduling.queue.conftest import desk

DAY = NOW.date()


def test_numbers_count_up_per_office_and_day(session: Session, office: Office) -> None:
    assert [repository.next_number(session, office.id, DAY) for _ in range(3)] == [1, 2, 3]
    assert repository.next_number(session, office.id, DAY + dt.timedelta(days=1)) == 1
    assert repository.next_number(session, office.id, DAY) == 4


def test_a_ticket_is_called_by_one_desk_only(session: Session, keyring: KeyRing, office: Office) -> None:
    ticket = queue.check_in_walk_in(session, keyring, "central", "card", None, None, NOW)
    first, second = desk(session, "Desk A"), desk(session, "Desk C")
    assert repository.claim(session, ticket.id, first.id, "Desk 1", NOW)
    assert not repository.claim(session, ticket.id, second.id, "Desk 2", NOW)  # already called
    session.expire_all()
    called = repository.by_id(session, ticket.id)
    assert called is not None and (called.status, called.desk, called.staff_id) == ("called", "Desk 1", first.id)
    assert [t.id for t in repository.at_desk(session, office.id, first.id, DAY)] == [ticket.id]
    assert repository.waiting(session, office.id, DAY) == []


def test_old_days_lose_their_names_then_their_tickets(session: Session, keyring: KeyRing, office: Office) -> None:
    old = queue.check_in_walk_in(session, keyring, "central", "card", None, "Test Person M", NOW)
    today = queue.check_in_walk_in(session, keyring, "central", "card", None, "Test Person A",
                                   NOW + dt.timedelta(days=1))
    later = DAY + dt.timedelta(days=1)
    assert repository.erase_names(session, later) == 1
    session.expire_all()
    assert old.name_enc is None and today.name_enc is not None
    assert [t.id for t in repository.expired(session, later, 10)] == [old.id]
    repository.delete_tickets(session, [old.id], later)
    assert repository.by_id(session, old.id) is None and repository.by_id(session, today.id) is not None
    assert repository.next_number(session, office.id, DAY) == 1  # the old day's counter went with it
