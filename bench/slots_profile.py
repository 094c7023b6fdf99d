"""Bench: slot search cost in a load-independent unit — Python function calls per search (cProfile).

Run from the repository root: `.venv/bin/python bench/slots_profile.py`.

Builds the office of bench/slots.py (30 staff, 8 weeks of 15-minute starts, half of every start's
people held) on SQLite in a temporary file and counts the Python function calls one
``service.search_slots`` makes, for a week, a week with a Spanish interpreter, and eight weeks.
Then half of the staff get their own working hours (weekdays 08:00-13:00 or 12:00-18:00) and a
day away each, and the same searches are counted again: the ratio is what working hours cost.
Wall time on a shared machine moves with everyone else's load; a call count does not, so this is
the figure to compare between commits (bench/slots.py remains the p50 in milliseconds).
"""

from __future__ import annotations

import cProfile
import datetime as dt
import pstats
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slots as bench_slots

from safeslot.db import build_engine
from safeslot.scheduling import service
from safeslot.scheduling.models import Staff

RUNS = 20


def calls(url: str, first: dt.date) -> dict[str, float]:
    now = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=12)
    engine = build_engine(url)
    out: dict[str, float] = {}
    for label, weeks, lang in (("1 week", 1, None), ("1 week, es", 1, "es"), ("8 weeks", 8, None)):
        end = first + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
        with Session(engine) as s:
            found = len(service.search_slots(s, "bench", "visit", first, end, lang, now)[2])
            for _ in range(3):
                service.search_slots(s, "bench", "visit", first, end, lang, now)
                s.rollback()
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(RUNS):
                service.search_slots(s, "bench", "visit", first, end, lang, now)
                s.rollback()
            profile.disable()
            out[f"{label} ({found} slots)"] = pstats.Stats(profile).total_calls / RUNS  # type: ignore[attr-defined]
    engine.dispose()
    return out


def give_hours(url: str, first: dt.date) -> None:
    engine = build_engine(url)
    with Session(engine) as s, s.begin():
        office = service.get_office(s, "bench")
        today = first - dt.timedelta(days=1)
        now = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
        for i, who in enumerate(s.scalars(select(Staff.id).where(Staff.office_id == office.id)).all()):
            if i % 2:
                continue
            opens, closes = (dt.time(8), dt.time(13)) if i % 4 else (dt.time(12), dt.time(18))
            service.set_staff_hours(s, office, who, [(d, opens, closes) for d in range(5)], now)
            away = first + dt.timedelta(days=i % 5)
            service.add_absence(s, office, who, away, away, today, now)
    engine.dispose()


def main() -> None:
    first = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())  # next Monday
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/profile.db"
        bench_slots.build(url, first)
        plain = calls(url, first)
        give_hours(url, first)
        hours = calls(url, first)
    print(f"{'Python calls per search (SQLite)':<36} {'office hours':>13} {'own hours':>10} {'ratio':>6}")
    for (label, a), b in zip(plain.items(), hours.values(), strict=True):
        print(f"{label:<36} {a:>13.0f} {b:>10.0f} {b / a:>6.2f}")


if __name__ == "__main__":
    main()
