"""Capacity is people: search offers a start only when someone is free for the whole visit,
and staff changes move visits to other qualified people or list them for the supervisor.

Demo office: apply is served by A, B, D, F; card by A, B, C, E; interview (45 min) by B, C, D, F;
B and C speak Spanish, D and F Vietnamese. The preferred server is one who speaks the language,
then the one who serves the fewest services: for apply, A, D, F, then B.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessRecord
from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment, Staff, StaffHold
from safeslot.scheduling.schemas import BookingIn, Contact, ContactKind
from tests.conftest import NOW
from tests.identity.helpers import staff_headers
from tests.scheduling.invariants import people_violations

TZ = service.zone("America/New_York")
T = dt.datetime(2027, 3, 2, 10, 0, tzinfo=TZ)  # a Tuesday, inside the demo's two weeks


def _book(session: Session, keyring: KeyRing, slug: str, start: dt.datetime = T, language: str | None = None,
          name: str = "Test Person A", contact: Contact | None = None) -> Appointment:
    return service.book(session, keyring, BookingIn(
        office="central", service=slug, starts_at=start, name=name, language=language, contact=contact,
        reminders_opt_in=contact is not None), NOW)


def _search(session: Session, slug: str, language: str | None = None) -> dict[dt.datetime, int]:
    _, _, found = service.search_slots(session, "central", slug, T.date(), T.date(), language, NOW)
    return {s.starts_at: s.available for s in found}


def _staff(session: Session, name: str) -> Staff:
    return session.scalars(select(Staff).where(Staff.display_name == name)).one()


def test_search_offers_a_start_only_when_a_person_is_free_for_the_whole_visit(
    office: str, session: Session, keyring: KeyRing
) -> None:
    t = T.astimezone(dt.UTC)
    before = {slug: _search(session, slug) for slug in ("apply", "card", "interview")}
    assert before["apply"][t] == 4 and before["card"][t] == 4 and before["interview"][t] == 4
    for i in range(4):  # apply, 10:00-10:30: A, D, F, B
        _book(session, keyring, "apply", name=f"Test Person {i}")
    assert t not in _search(session, "apply")
    assert _search(session, "apply")[t + dt.timedelta(minutes=30)] == 4  # free again when the visits end
    assert _search(session, "card")[t] == 2  # C and E
    # a 45-minute interview overlapping 10:00-10:30 from either side: only C is free
    interview = _search(session, "interview")
    assert interview[t] == 1 and interview[t - dt.timedelta(minutes=15)] == 1
    assert interview[t - dt.timedelta(minutes=45)] == 4  # 09:15-10:00 ends before
    # Vietnamese apply at 10:00: D and F are taken, and A or B would need an interpreter (D or F)
    assert t not in _search(session, "apply", "vi")
    _book(session, keyring, "interview", start=T - dt.timedelta(minutes=15), name="Test Person E")
    assert t not in _search(session, "interview")
    assert set(_search(session, "interview")) == set(interview) - {
        t + dt.timedelta(minutes=m) for m in (-30, -15, 0, 15)}  # C was the last one for those starts
    assert people_violations(session) == []


def test_an_interpreter_is_a_person_held_for_the_whole_visit(
    office: str, session: Session, keyring: KeyRing
) -> None:
    a = _book(session, keyring, "card", language="vi")
    assert a.staff_id == _staff(session, "Desk E").id  # E serves card only
    assert a.interpreter_id == _staff(session, "Desk D").id  # D and F speak Vietnamese and do not serve card
    direct = _book(session, keyring, "apply", language="vi", name="Test Person B")
    assert direct.staff_id == _staff(session, "Desk F").id and direct.interpreter_id is None  # F speaks it
    held = session.execute(select(StaffHold.staff_id, StaffHold.role).where(StaffHold.appointment_id == a.id)).all()
    assert sorted(held) == sorted([(a.staff_id, "serve"), (a.interpreter_id, "interpret")])
    assert people_violations(session) == []


def test_a_person_cannot_be_held_twice_even_behind_the_services_back(
    office: str, session: Session, keyring: KeyRing
) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    a = _book(session, keyring, "apply")
    other = _book(session, keyring, "card", start=T + dt.timedelta(hours=2), name="Test Person B")
    nested = session.begin_nested()
    session.add(StaffHold(staff_id=a.staff_id, starts_at=T.astimezone(dt.UTC), office_id=a.office_id,
                          appointment_id=other.id, role="serve"))
    with pytest.raises(IntegrityError):  # the primary key, not Python, refuses it
        session.flush()
    nested.rollback()


def test_a_staff_member_who_leaves_hands_their_visits_to_a_qualified_free_person(
    office: str, session: Session, keyring: KeyRing
) -> None:
    central = service.get_office(session, "central")
    first = _book(session, keyring, "apply")
    desk_a = _staff(session, "Desk A")
    assert first.staff_id == desk_a.id
    _, done = service.update_staff_and_reassign(session, central, desk_a.id, active=False, now=NOW)
    assert [a.id for a in done.moved] == [first.id] and done.unassigned == []
    assert first.staff_id == _staff(session, "Desk D").id  # the next preferred who serves apply
    assert set(session.scalars(select(StaffHold.staff_id).where(StaffHold.appointment_id == first.id))) == {
        first.staff_id}
    assert people_violations(session) == []


def test_an_interpreter_who_stops_speaking_the_language_is_replaced_and_the_server_kept(
    office: str, session: Session, keyring: KeyRing
) -> None:
    central = service.get_office(session, "central")
    a = _book(session, keyring, "card", language="vi")
    server, desk_d = a.staff_id, _staff(session, "Desk D")
    assert a.interpreter_id == desk_d.id
    service.update_staff_and_reassign(session, central, desk_d.id, languages=["en"], now=NOW)
    assert a.staff_id == server and a.interpreter_id == _staff(session, "Desk F").id
    assert people_violations(session) == []


def test_visits_no_one_can_take_are_listed_for_the_supervisor_only_and_overbook_no_one(
    office: str, session: Session, keyring: KeyRing, client: TestClient
) -> None:
    contact = Contact(kind=ContactKind.phone, value="555-0100")
    booked = [_book(session, keyring, "apply", name=f"Test Person {i}", contact=contact if i % 2 else None)
              for i in range(4)]  # every apply server is busy at 10:00
    desk_b = _staff(session, "Desk B")
    supervisor = staff_headers(session, keyring, ["supervisor"])
    r = client.patch(f"/api/v1/offices/central/staff/{desk_b.id}", json={"services": ["card"]}, headers=supervisor)
    assert r.status_code == 200, r.text
    assert r.json()["reassigned"] == 0 and r.json()["unassigned"] == 1
    session.expire_all()
    lost = next(a for a in booked if a.staff_id is None)
    assert lost.staff_id is None and lost.status == "booked"
    assert session.scalar(select(func.count()).where(StaffHold.appointment_id == lost.id)) == 0
    listed = client.get("/api/v1/offices/central/unassigned", headers=supervisor)
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["code"] == service.format_code(lost.code) and row["service"] == "apply"
    assert row["name"].startswith("Test Person") and row["starts_at"] == T.isoformat()
    # the person to contact, and how: the phone they gave for reminders, when they gave one
    assert row["name"] == f"Test Person {booked.index(lost)}"
    assert row["contact"] == ("phone:555-0100" if booked.index(lost) % 2 else None), row
    assert session.scalar(select(func.count()).select_from(AccessRecord)) == 1  # the read is access-logged
    # a clerk of the office may not see it
    clerk = staff_headers(session, keyring, ["clerk"])
    assert client.get("/api/v1/offices/central/unassigned", headers=clerk).status_code == 403
    # Desk B serves apply again: the next change hands the visit back to someone
    r = client.patch(f"/api/v1/offices/central/staff/{desk_b.id}", json={"services": ["apply", "card"]},
                     headers=supervisor)
    assert r.json()["unassigned"] == 0
    assert client.get("/api/v1/offices/central/unassigned", headers=supervisor).json() == []
    session.expire_all()
    assert people_violations(session) == []


def test_the_search_counts_people_as_assignment_does() -> None:
    """slots.free_starts (bit masks) agrees with assignment.count_free and choose on random offices."""
    import random

    from safeslot.scheduling.assignment import Person, candidates, choose, count_free
    from safeslot.scheduling.slots import free_starts

    rng = random.Random(11)
    step = dt.timedelta(minutes=15)
    for _ in range(200):
        people = [Person(i, frozenset({"en", *rng.sample(["es", "vi"], rng.randint(0, 2))}),
                         frozenset(rng.sample(["a", "b", "c"], rng.randint(1, 3)))) for i in range(1, 9)]
        c = candidates(people, "a", rng.choice([None, "es", "vi-VN", "en"]))
        holds = [(p.id, T + step * u) for p in people for u in range(8) if rng.random() < 0.4]
        starts = [T + step * u for u in range(6)]
        found = {s.starts_at: s.available for s in free_starts(starts, 45, c, holds)}
        for start in starts:
            busy = {who for who, at in holds if start <= at < start + 3 * step}
            assert found.get(start, 0) == count_free(c, busy)
            assert (choose(c, busy) is not None) == (count_free(c, busy) > 0)
