"""Migration 0100: appointments booked before capacity was people get their people."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import text

from safeslot import migrate
from safeslot.db import build_engine


def test_coming_appointments_are_assigned_and_the_rest_listed(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(connection=conn), "0010_service_translation")
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    later = start + dt.timedelta(minutes=15)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO office (id, slug, name, address, timezone) "
                          "VALUES (1, 'central', 'C', 'A', 'America/New_York')"))
        conn.execute(text("INSERT INTO service (id, office_id, slug, name, description, duration_minutes) "
                          "VALUES (1, 1, 'apply', 'Apply', 'd', 30)"))
        conn.execute(text("INSERT INTO staff (id, office_id, display_name, languages, services, active) VALUES "
                          "(1, 1, 'Desk A', 'en', 'apply', 1), (2, 1, 'Desk B', 'en es', 'apply', 1)"))
        conn.execute(text("INSERT INTO slot_capacity (id, office_id, service_id, starts_at, capacity, booked) "
                          "VALUES (1, 1, 1, :s, 2, 2), (2, 1, 1, :l, 2, 1)"),
                     {"s": start.replace(tzinfo=None), "l": later.replace(tzinfo=None)})
        for i, (at, language) in enumerate([(start, "es"), (start, None), (later, None)]):
            conn.execute(text(
                "INSERT INTO appointment (id, code, office_id, service_id, slot_id, starts_at, ends_at, status, "
                "language, name_enc, name_index, reminders_opt_in, sequence, created_at, updated_at) VALUES "
                "(:i, :c, 1, 1, :slot, :s, :e, 'booked', :lang, x'00', 'x', 0, 0, :s, :s)"),
                {"i": i + 1, "c": f"CODE{i}", "slot": 1 if at == start else 2, "s": at.replace(tzinfo=None),
                 "e": (at + dt.timedelta(minutes=30)).replace(tzinfo=None), "lang": language})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, staff_id, interpreter_id FROM appointment ORDER BY id")).all()
        held = conn.execute(text("SELECT staff_id, appointment_id FROM staff_hold ORDER BY 2, 1")).all()
        slots = conn.execute(text("SELECT capacity, booked FROM slot_capacity ORDER BY id")).all()
    # the Spanish visit goes to Desk B, who speaks it; the other 15:00 visit to Desk A; the 15:15 visit
    # overlaps both (30 minutes each): no one is free, so it is left for the supervisor
    assert rows == [(1, 2, None), (2, 1, None), (3, None, None)]
    assert held == [(2, 1), (2, 1), (1, 2), (1, 2)]
    assert slots == [(0, 0), (1, 0)]  # places left, and counters no longer kept
    engine.dispose()
