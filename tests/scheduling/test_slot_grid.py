"""scheduling/slot_grid.py: the office's start grid, written and read back (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling import service, slot_grid
from safeslot.scheduling.models import SlotCapacity

NY = service.zone("America/New_York")


def test_the_start_grid_is_written_as_given_and_a_naive_time_writes_nothing(office: str, session: Session) -> None:
    """write_slot_grid: on PostgreSQL one INSERT … unnest for all new rows (the grid's statement-level
    trigger then bumps the office's search version once); on SQLite the ORM's executemany. Either way the rows
    read back exactly as given, in UTC, and a naive time is refused before anything is written."""
    central = service.get_office(session, "central")
    card = next(s for s in repo.services(session, central.id) if s.slug == "card")
    far = dt.date(2031, 6, 3)  # beyond the demo's weeks: no grid there yet
    local = [dt.datetime.combine(far, dt.time(9, 15 * k), tzinfo=NY) for k in range(3)]
    rows = [{"office_id": central.id, "service_id": card.id, "starts_at": t, "capacity": 4 - k, "booked": k % 2}
            for k, t in enumerate(local)]

    def grid() -> list[tuple[int, int, dt.datetime, int, int]]:
        found = session.execute(select(SlotCapacity.office_id, SlotCapacity.service_id, SlotCapacity.starts_at,
                                       SlotCapacity.capacity, SlotCapacity.booked)
                                .where(SlotCapacity.starts_at >= local[0].astimezone(dt.UTC))
                                .order_by(SlotCapacity.starts_at))
        return [tuple(r) for r in found]  # type: ignore[misc]

    naive = [*rows[:1], {**rows[1], "starts_at": local[1].replace(tzinfo=None)}]
    with pytest.raises((ValueError, StatementError), match="naive"):  # the ORM wraps it in its own
        slot_grid.write_slot_grid(session, naive, [])
    assert grid() == []  # not the first row either

    slot_grid.write_slot_grid(session, rows, [])
    assert grid() == [(central.id, card.id, t.astimezone(dt.UTC), 4 - k, k % 2) for k, t in enumerate(local)]
    assert all(t.tzinfo == dt.UTC for _, _, t, _, _ in grid())
    total = session.scalar(select(func.count()).select_from(SlotCapacity).where(SlotCapacity.office_id == central.id))
    assert total and total > len(rows)  # the demo's grid is still there beside them
