"""The slot search — uncached, and through the cache that keeps each day on its own — gives exactly the starts a
naive reading of the rules gives, on random offices, on both databases.

The naive answer reads every hold, every staff member and their hours as ORM rows and asks, start by start,
``assignment.count_free`` with the people held in any of the visit's units or off duty (``duty.off_duty``):
nothing of search_reads.py (epoch seconds, inline masks), of ``slots.free_epochs`` or of the cache is used.
The offices are in a zone whose days do not begin on a UTC hour (Asia/Kolkata) and one that changes to
daylight time inside the fortnight (America/New_York, 2027-03-14), open some Sundays, with 15- and
45-minute services, staff with their own hours and absences; holds, skills, languages and absences then
change at random, each committed, while a cache answers searches of random ranges and languages.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from safeslot.db import build_engine, read_transaction
from safeslot.scheduling import repository as repo
from safeslot.scheduling import service
from safeslot.scheduling.assignment import candidates, count_free, person
from safeslot.scheduling.duty import local_visit, off_duty
from safeslot.scheduling.models import Appointment, SlotCapacity, Staff, StaffAbsence, StaffHold
from safeslot.scheduling.search_cache import SearchCache
from safeslot.scheduling.search_reads import read_setup
from tests.conftest import NOW

DAYS = 16  # from NOW's Monday, over the daylight-saving change of 2027-03-14
STEPS = 24  # committed changes, each followed by three searches
LANGUAGES = [None, "es", "vi", "en"]
SERVICES = {"short": 15, "long": 45}


def _build(engine: Engine, rng: random.Random, zone: str, spread: bool) -> dt.date:
    first = NOW.astimezone(service.zone(zone)).date()
    with Session(engine) as s, s.begin():
        office = service.add_office(s, "naive", "Naive Office", "1 Example Street", zone)
        for slug, minutes in SERVICES.items():
            service.add_service(s, office, slug, slug.title(), "A visit.", minutes)
        for i in range(9):
            langs = ["en", *rng.sample(["es", "vi"], rng.randint(0, 2))]
            service.add_staff(s, office, f"Desk {i + 1}", langs, rng.sample(list(SERVICES), rng.randint(1, 2)))
            if i == 4 and spread:  # another office's staff in between: ids 70 apart, more than a mask's bits
                other = service.add_office(s, "other", "Other Office", "2 Example Street", zone)
                service.add_service(s, other, "short", "Short", "A visit.", 15)
                for j in range(70):
                    service.add_staff(s, other, f"Other {j + 1}", ["en"], ["short"])
        for weekday in range(7 if zone == "America/New_York" else 6):
            service.set_hours(s, office, weekday, dt.time(rng.choice([0, 6, 7])), dt.time(rng.choice([20, 23])))
        service.generate_slots(s, office, first, first + dt.timedelta(days=DAYS - 1))
        staff = list(s.scalars(select(Staff.id).where(Staff.office_id == office.id).order_by(Staff.id)))
        for who in staff[:3]:
            opens, closes = rng.choice([(6, 12), (10, 15), (12, 23)])
            service.set_staff_hours(s, office, who, [(d, dt.time(opens), dt.time(closes)) for d in range(7)], NOW)
        for who in staff[3:5]:
            away = first + dt.timedelta(days=rng.randrange(DAYS))
            service.add_absence(s, office, who, away, away, first, NOW)
        slot = s.scalars(select(SlotCapacity).where(SlotCapacity.office_id == office.id)).first()
        assert slot is not None
        s.execute(insert(Appointment), [{
            "id": 1, "code": "N000000001", "office_id": office.id, "service_id": slot.service_id, "slot_id": slot.id,
            "starts_at": slot.starts_at, "ends_at": slot.starts_at + dt.timedelta(minutes=15), "status": "booked",
            "name_enc": b"\0", "name_index": "x1", "reminders_opt_in": False, "sequence": 0, "created_at": NOW,
            "updated_at": NOW, "staff_id": None}])
        units = sorted(set(s.scalars(select(SlotCapacity.starts_at).where(SlotCapacity.office_id == office.id))))
        s.execute(insert(StaffHold), [_hold(office.id, who, unit) for unit in units for who in staff
                                      if rng.random() < 0.4])
    return first


def _hold(office_id: int, who: int, unit: dt.datetime) -> dict[str, object]:
    return {"staff_id": who, "starts_at": unit, "office_id": office_id, "appointment_id": 1, "role": "serve"}


def _naive(session: Session, slug: str, first: dt.date, last: dt.date, language: str | None) -> list[object]:
    office = service.get_office(session, "naive")
    svc = service.get_service(session, office, slug)
    tz = service.zone(office.timezone)
    lo = max(dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC), NOW + dt.timedelta(seconds=1))
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    c = candidates([person(m) for m in repo.staff(session, office.id)], slug, language)
    duties = repo.duties(session, office.id, first - dt.timedelta(days=1), last + dt.timedelta(days=1))
    held = set(session.execute(select(StaffHold.staff_id, StaffHold.starts_at).where(
        StaffHold.office_id == office.id, StaffHold.starts_at >= lo - dt.timedelta(hours=1),
        StaffHold.starts_at < hi + dt.timedelta(hours=1))).tuples())
    out: list[object] = []
    for start in session.scalars(select(SlotCapacity.starts_at).where(
            SlotCapacity.service_id == svc.id, SlotCapacity.starts_at >= lo, SlotCapacity.starts_at < hi,
            SlotCapacity.booked < SlotCapacity.capacity).order_by(SlotCapacity.starts_at)):
        units = [start + dt.timedelta(minutes=15 * i) for i in range(svc.duration_minutes // 15)]
        end = start + dt.timedelta(minutes=svc.duration_minutes)
        busy = {who for who in c.everyone if any((who, u) in held for u in units)}
        busy |= off_duty(duties, c.everyone, local_visit(start, end, tz))
        if free := count_free(c, busy):
            out.append((start, end, free))
    return out


def _change(engine: Engine, rng: random.Random, first: dt.date) -> str:
    with Session(engine) as s, s.begin():
        office = service.get_office(s, "naive")
        staff = list(s.scalars(select(Staff.id).where(Staff.office_id == office.id).order_by(Staff.id)))
        kind = rng.choice(["hold", "hold", "hold", "release", "release", "skills", "absence"])
        if kind == "hold":  # someone held for one to three units of one day (a visit, a walk-in)
            unit = rng.choice(list(s.scalars(select(SlotCapacity.starts_at).where(
                SlotCapacity.office_id == office.id))))
            held = set(s.scalars(select(StaffHold.staff_id).where(StaffHold.starts_at == unit)))
            free = [who for who in staff if who not in held]
            if free:
                who = rng.choice(free)
                taken = set(s.scalars(select(StaffHold.starts_at).where(StaffHold.staff_id == who)))
                s.execute(insert(StaffHold), [_hold(office.id, who, unit + dt.timedelta(minutes=15 * i))
                                              for i in range(rng.randint(1, 3))
                                              if unit + dt.timedelta(minutes=15 * i) not in taken])
        elif kind == "release":
            gone = rng.choice(list(s.execute(select(StaffHold.staff_id, StaffHold.starts_at)).tuples()))
            s.execute(delete(StaffHold).where(StaffHold.staff_id == gone[0], StaffHold.starts_at == gone[1]))
        elif kind == "skills":
            s.execute(update(Staff).where(Staff.id == rng.choice(staff)).values(
                services=" ".join(rng.sample(list(SERVICES), rng.randint(1, 2))),
                languages=" ".join(["en", *rng.sample(["es", "vi"], rng.randint(0, 2))])))
        else:
            away = first + dt.timedelta(days=rng.randrange(DAYS))
            s.execute(insert(StaffAbsence).values(staff_id=rng.choice(staff), first_day=away, last_day=away))
        return kind


@pytest.mark.breaks_people_invariant("its random changes include holds written straight to the table")
@pytest.mark.parametrize(("zone", "spread"), [("America/New_York", False), ("Asia/Kolkata", True)])
def test_the_search_gives_the_naive_answer_on_random_offices_and_changes(fresh_url: str, zone: str,
                                                                         spread: bool) -> None:
    """``spread``: the office's staff ids are far apart (the masks' CASE statement), else close (shifted bits)."""
    rng = random.Random(f"naive-{zone}")
    engine = build_engine(fresh_url, pool_size=2)
    try:
        first = _build(engine, rng, zone, spread)
        with Session(engine) as s:
            office_id = service.get_office(s, "naive").id
            bases = {read_setup(s, office_id, slug, "es", first, first).base for slug in SERVICES}
        assert (None in bases) == spread, bases
        cache = SearchCache()
        maker = sessionmaker(engine, expire_on_commit=False)
        for step in range(STEPS):
            kind = _change(engine, rng, first) if step else "none"
            for _ in range(3):
                slug, language = rng.choice(list(SERVICES)), rng.choice(LANGUAGES)
                a = first + dt.timedelta(days=rng.choice([0, 0, 1, 5, 9]))
                b = min(a + dt.timedelta(days=rng.choice([0, 2, 6, 6])), first + dt.timedelta(days=DAYS - 1))
                with Session(engine) as s:
                    naive = _naive(s, slug, a, b, language)
                    plain = service.search_slots(s, "naive", slug, a, b, language, NOW)[2]
                with read_transaction(maker) as s:
                    cached = service.search_slots(s, "naive", slug, a, b, language, NOW, cache=cache)[2]
                where = (step, kind, slug, language, a, b)
                assert [(f.starts_at, f.ends_at, f.available) for f in plain] == naive, where
                assert [(f.starts_at, f.ends_at, f.available) for f in cached] == naive, where
        assert cache.hits + cache.misses == 3 * STEPS and cache.misses > 3 * STEPS // 4
    finally:
        engine.dispose()
