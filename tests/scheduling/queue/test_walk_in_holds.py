"""A walk-in being served holds its clerk: online bookings cannot be given to them meanwhile
(SQLite and PostgreSQL). NOW is Monday 09:00 at the demo office; card (15 minutes) is served by
E, A, C and B, in that order of preference."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.errors import SlotFull
from safeslot.scheduling.models import Office, StaffHold
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue.errors import NextVisitDue
from tests.conftest import NOW
from tests.scheduling.invariants import people_violations
from tests.scheduling.queue.conftest import SETTINGS, book, desk

MIN = dt.timedelta(minutes=1)
QUARTER = NOW + 15 * MIN  # 09:15


def _free_at(session: Session, at: dt.datetime) -> int:
    _, _, found = scheduling.search_slots(session, "central", "card", at.date(), at.date(), None, NOW)
    return next((s.available for s in found if s.starts_at == at), 0)


def test_a_walk_in_at_the_desk_holds_its_clerk_until_the_visit_ends(
        session: Session, keyring: KeyRing, office: Office) -> None:
    assert _free_at(session, QUARTER) == 4
    ticket = queue.check_in_walk_in(session, keyring, "central", "card", None, None, NOW + MIN)
    called = queue.call_next(session, office, desk(session, "Desk E").id, "Desk E", NOW + 2 * MIN, SETTINGS)
    assert called == ticket
    held = session.scalars(select(StaffHold).where(StaffHold.ticket_id == ticket.id)).all()
    assert {(h.staff_id, h.starts_at, h.role) for h in held} == {
        (desk(session, "Desk E").id, NOW, "walk-in"), (desk(session, "Desk E").id, QUARTER, "walk-in")}
    assert _free_at(session, QUARTER) == 3  # E serves the walk-in until 09:17
    made = [book(session, keyring, "card", QUARTER, name=f"Test Person {i}") for i in range(3)]
    assert desk(session, "Desk E").id not in {a.staff_id for a in made}
    with pytest.raises(SlotFull):
        book(session, keyring, "card", QUARTER, name="Test Person Z")
    assert people_violations(session) == []

    queue.finish(session, office, ticket.id, desk(session, "Desk E").id, "done", NOW + 10 * MIN)
    assert _free_at(session, QUARTER) == 1  # E is free again from 09:15
    assert book(session, keyring, "card", QUARTER, name="Test Person Y").staff_id == desk(session, "Desk E").id
    assert session.scalars(select(StaffHold.starts_at).where(StaffHold.ticket_id == ticket.id)).all() == [NOW]


def test_a_walk_in_that_would_run_into_the_clerks_next_visit_goes_to_another_desk(
        session: Session, keyring: KeyRing, office: Office) -> None:
    own = book(session, keyring, "card", QUARTER)  # E's, booked the day before
    desk_e, desk_a, desk_c = desk(session, "Desk E"), desk(session, "Desk A"), desk(session, "Desk C")
    assert own.staff_id == desk_e.id
    first = queue.check_in_walk_in(session, keyring, "central", "card", None, None, NOW + MIN)
    second = queue.check_in_walk_in(session, keyring, "central", "card", None, None, NOW + 2 * MIN)
    # at 09:05 a 15-minute walk-in would keep E until 09:20, into E's 09:15 visit: E is told so, calls nobody
    with pytest.raises(NextVisitDue) as refused:
        queue.call_next(session, office, desk_e.id, "Desk E", NOW + 5 * MIN, SETTINGS)
    assert dt.datetime.fromisoformat(refused.value.extra["at"]) == QUARTER  # told when, in office time
    assert {first.status, second.status} == {"waiting"}
    held = session.scalars(select(StaffHold).where(StaffHold.staff_id == desk_e.id)).all()
    assert [(h.starts_at, h.role) for h in held] == [(QUARTER, "serve")]
    assert queue.call_next(session, office, desk_a.id, "Desk A", NOW + 5 * MIN, SETTINGS) == first
    assert queue.call_next(session, office, desk_c.id, "Desk C", NOW + 5 * MIN, SETTINGS) == second
    assert len(session.scalars(select(StaffHold).where(StaffHold.ticket_id == second.id)).all()) == 2
    queue.transfer(session, office, second.id, desk_c.id, "apply", NOW + 6 * MIN)
    assert session.scalars(select(StaffHold.starts_at).where(StaffHold.ticket_id == second.id)).all() == [NOW]
    assert people_violations(session) == []


def test_a_desk_skips_a_walk_in_too_long_for_the_time_before_its_next_visit(
        session: Session, keyring: KeyRing, office: Office) -> None:
    """A (apply 30 min, card 15 min) has a visit at 09:30; at 09:10 the apply walk-in, first in line,
    would run into it, the card walk-in behind it fits: A calls the card one; the apply one waits."""
    half = NOW + 30 * MIN
    desk_a = desk(session, "Desk A")
    assert [book(session, keyring, "card", half, name=f"Test Person {i}").staff_id
            for i in "EA"][1] == desk_a.id
    apply = queue.check_in_walk_in(session, keyring, "central", "apply", None, None, NOW + MIN)
    card = queue.check_in_walk_in(session, keyring, "central", "card", None, None, NOW + 2 * MIN)
    assert queue.call_next(session, office, desk_a.id, "Desk A", NOW + 10 * MIN, SETTINGS) == card
    assert apply.status == "waiting"
    held = session.scalars(select(StaffHold).where(StaffHold.staff_id == desk_a.id)).all()
    assert sorted((h.starts_at, h.role) for h in held) == [(NOW, "walk-in"), (QUARTER, "walk-in"), (half, "serve")]
    queue.finish(session, office, card.id, desk_a.id, "done", NOW + 20 * MIN)
    with pytest.raises(NextVisitDue):  # 09:20: apply would still run into 09:30
        queue.call_next(session, office, desk_a.id, "Desk A", NOW + 20 * MIN, SETTINGS)
    assert people_violations(session) == []
