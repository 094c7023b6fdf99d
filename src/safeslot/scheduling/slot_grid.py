"""The office's start grid (``slot_capacity``): read an office's rows in a range, write new ones and capacities.

Apart from the other queries (repository.py) because rewriting a grid is the one bulk write of scheduling: a
new office's eight weeks, or a staff change, are thousands of rows, written on PostgreSQL in one statement each.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from safeslot.scheduling.models import SlotCapacity


def existing_slot_starts(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, dt.datetime], tuple[int, int, int]]:
    """(service id, start) -> (row id, capacity, booked) of the office's grid in [start, end).

    Plain rows, not ORM objects: re-materialising eight weeks reads thousands of them."""
    rows = session.execute(
        select(SlotCapacity.id, SlotCapacity.service_id, SlotCapacity.starts_at, SlotCapacity.capacity,
               SlotCapacity.booked).where(
            SlotCapacity.office_id == office_id, SlotCapacity.starts_at >= start, SlotCapacity.starts_at < end
        )
    )
    return {(r.service_id, r.starts_at): (r.id, r.capacity, r.booked) for r in rows}


_GRID_CAPACITIES = text(
    "UPDATE slot_capacity AS s SET capacity = v.capacity"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:caps AS integer[])) AS v(id, capacity) WHERE s.id = v.id")


_GRID_ROWS = text(
    "INSERT INTO slot_capacity (office_id, service_id, starts_at, capacity, booked)"
    " SELECT * FROM unnest(CAST(:offices AS integer[]), CAST(:services AS integer[]),"
    " CAST(:starts AS timestamptz[]), CAST(:caps AS integer[]), CAST(:booked AS integer[]))")


def write_slot_grid(session: Session, new: list[dict[str, object]], capacities: list[dict[str, object]]) -> None:
    """Insert new grid rows and set the capacity of existing ones (by id): on PostgreSQL one statement each.

    A grid row already loaded in the session is expired, so it is read again with its new capacity."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if new and postgresql:
        # One statement, not one per row (an executemany is a statement per row on psycopg): the grid's
        # statement-level trigger (the search cache's office version) runs once instead of once per row, and
        # PostgreSQL plans once; a new office's eight weeks are thousands of rows.
        starts: list[dt.datetime] = []
        for row in new:
            start = row["starts_at"]
            if not isinstance(start, dt.datetime) or start.tzinfo is None:  # as UTCDateTime refuses one
                raise ValueError("naive datetime: safeslot stores only aware UTC times")
            starts.append(start.astimezone(dt.UTC))
        session.execute(_GRID_ROWS, {
            "offices": [row["office_id"] for row in new], "services": [row["service_id"] for row in new],
            "starts": starts,
            "caps": [row["capacity"] for row in new], "booked": [row.get("booked", 0) for row in new]})
    elif new:
        session.execute(insert(SlotCapacity), new)
    if capacities:
        if postgresql:
            # One statement, not one per row: the grid's statement-level trigger (the search cache's office
            # version) then runs once, and PostgreSQL plans once; a staff change rewrites thousands of rows.
            session.execute(_GRID_CAPACITIES, {"ids": [c["id"] for c in capacities],
                                               "caps": [c["capacity"] for c in capacities]})
        else:
            session.execute(update(SlotCapacity), capacities)  # ORM bulk UPDATE by primary key
        changed = {c["id"] for c in capacities}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, SlotCapacity) and obj.id in changed:
                session.expire(obj, ["capacity"])
