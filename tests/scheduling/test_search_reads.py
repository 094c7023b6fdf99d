"""The slot search's reads (scheduling/search_reads.py), in the shape its arithmetic uses: each person is one
bit, and for every 15-minute unit with a hold the database hands back the bits of those held then — the
same whether it shifts the bits itself or is given them one by one — so a held person is never offered.
On both databases: the epoch and the masks are written per dialect."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import repository, search_reads, service
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW

TUESDAY = dt.date(2027, 3, 2)
UNIT = dt.timedelta(minutes=15)


def test_people_are_bits_shifted_from_the_lowest_id_when_they_fit() -> None:
    assert search_reads.shifted_bits([7, 9, 8]) == ({7: 1, 9: 4, 8: 2}, 7)
    assert search_reads.shifted_bits([3, 3 + 62]) == ({3: 1, 65: 2}, None)  # too wide: one bit per place
    assert search_reads.shifted_bits([]) == ({}, None)
    assert search_reads.epoch(dt.datetime(1970, 1, 1, 0, 1, tzinfo=dt.UTC)) == 60


def test_the_units_a_visit_holds_carry_its_servers_bit_and_only_those(session: Session, keyring: KeyRing,
                                                                      office: str) -> None:
    central = service.get_office(session, "central")
    setup = search_reads.read_setup(session, central.id, "card", None, TUESDAY, TUESDAY)
    _, _, free = service.search_slots(session, "central", "card", TUESDAY, TUESDAY, None, NOW)
    visit = service.book(session, keyring, BookingIn.model_validate(
        {"office": "central", "service": "card", "starts_at": free[0].starts_at.isoformat(), "name": "Test Person M"}),
        NOW)
    assert visit.staff_id is not None and visit.staff_id in setup.bits
    lo, until = visit.starts_at - 4 * UNIT, visit.ends_at + 4 * UNIT
    shifted = search_reads.held_masks(session, central.id, lo, until, setup.bits, setup.base)
    given = search_reads.held_masks(session, central.id, lo, until, setup.bits)
    units = int((visit.ends_at - visit.starts_at) / UNIT)
    expected = {search_reads.epoch(visit.starts_at + i * UNIT): setup.bits[visit.staff_id] for i in range(units)}
    assert given == expected
    assert {u: m & setup.bits[visit.staff_id] for u, m in shifted.items()} == expected


def test_a_search_setup_has_only_those_who_serve_the_service(session: Session, office: str) -> None:
    central = service.get_office(session, "central")
    card = search_reads.read_setup(session, central.id, "card", None, TUESDAY, TUESDAY + dt.timedelta(days=6))
    interview = search_reads.read_setup(session, central.id, "interview", None, TUESDAY, TUESDAY)
    names = {s.id: s.display_name for s in repository.staff(session, central.id)}
    assert sorted(names[i] for i in card.candidates.servers) == ["Desk A", "Desk B", "Desk C", "Desk E"]
    assert "Desk A" not in {names[i] for i in interview.candidates.servers}
    assert card.covers(TUESDAY, TUESDAY + dt.timedelta(days=6)) and not card.covers(TUESDAY, TUESDAY + dt.timedelta(7))
