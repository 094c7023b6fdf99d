"""Start times: the grid of bookable starts (materialised) and the search for free ones (people-level).

The grid (``SlotCapacity``) says when a service may start: opening windows,
closures, daylight-saving gaps. Whether a start is *free* is decided by people:
``free_starts`` shows a start only when ``assignment.choose`` would find a free
qualified staff member (and interpreter) for the whole visit. The search, the
nearest alternatives of a refusal (on both booking paths) and nothing else use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import repository as repo
from safeslot.scheduling.assignment import Candidates, candidates, person
from safeslot.scheduling.duty import Duty, DutyMasks
from safeslot.scheduling.errors import TimeOutOfRange
from safeslot.scheduling.models import STEP_MINUTES, Office, Service, WeeklyHours
from safeslot.scheduling.offices import get_office, get_service
from safeslot.scheduling.rules import BOOKING_WINDOW, SEARCH_WINDOW, STEP, local_to_utc, zone
from safeslot.scheduling.search_cache import Place, SearchCache, Version, read_only, versions

NEAREST_HORIZON = dt.timedelta(days=14)


# -- the grid -------------------------------------------------------------------------------------
def generate_slots(session: Session, office: Office, first: dt.date, last: dt.date) -> int:
    """Materialise the start-time grid for local days [first, last]; returns rows written.

    A service may start every 15 minutes inside opening windows (ending by closing time)
    on days the office is not closed, open with capacity = the number of active staff who
    serve it; other existing rows are
    closed (capacity = booked). Appointments already made keep their people either way.
    """
    tz = zone(office.timezone)
    members = repo.staff(session, office.id)
    services = repo.services(session, office.id)
    week = repo.hours(session, office.id)
    closed = {c.day for c in repo.closures(session, office.id, first, last)}
    service_capacity = {s.id: sum(1 for m in members if s.slug in m.services.split()) for s in services}

    lo = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    slots = repo.existing_slot_starts(session, office.id, lo, hi)
    wanted: dict[tuple[int, dt.datetime], int] = {}
    day = first
    while day <= last:
        if day not in closed and office.closed_at is None:  # a closed office opens no start (capacity = booked)
            for h in (h for h in week if h.weekday == day.weekday()):
                _plan_window(day, h, tz, services, service_capacity, wanted)
        day += dt.timedelta(days=1)

    new: list[dict[str, object]] = []
    capacities: list[dict[str, object]] = []
    for (service_id, start), cap in wanted.items():
        existing = slots.get((service_id, start))
        if existing is None:
            new.append({"office_id": office.id, "service_id": service_id, "starts_at": start, "capacity": cap,
                        "booked": 0})
        else:
            row_id, capacity, booked = existing
            if capacity != max(cap, booked):
                capacities.append({"id": row_id, "capacity": max(cap, booked)})
    for key, (row_id, capacity, booked) in slots.items():  # closed or removed: no new bookings, existing kept
        if key not in wanted and capacity != booked:
            capacities.append({"id": row_id, "capacity": booked})
    repo.write_slot_grid(session, new, capacities)
    session.flush()
    return len(new) + len(capacities)


def _plan_window(
    day: dt.date, hours: WeeklyHours, tz: ZoneInfo, services: Sequence[Service], service_capacity: dict[int, int],
    wanted: dict[tuple[int, dt.datetime], int],
) -> None:
    opens = dt.datetime.combine(day, hours.opens)
    closes = dt.datetime.combine(day, hours.closes)
    for service in services:
        if not service_capacity[service.id]:
            continue
        length = dt.timedelta(minutes=service.duration_minutes)
        at = opens
        while at + length <= closes:  # every 15 minutes: people, not a fixed grid, decide what is free
            utc = local_to_utc(day, at.time(), tz)
            if utc is not None:
                wanted[(service.id, utc)] = service_capacity[service.id]
            at += STEP


# -- free starts (pure) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FreeSlot:
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime
    available: int  # visits that could still be assigned at that time (people, not places)


def candidate_bits(c: Candidates) -> dict[int, int]:
    """One bit per candidate (server or interpreter), for ``free_starts_masked``."""
    return {who: 1 << i for i, who in enumerate(c.everyone)}


def free_starts(
    starts: Iterable[dt.datetime], minutes: int, c: Candidates, holds: Iterable[tuple[int, dt.datetime]],
    duties: Mapping[int, Duty] | None = None, tz: ZoneInfo | None = None,
) -> list[FreeSlot]:
    """The grid starts at which an assignment exists, given every (staff, unit) already held and the
    working hours of those who keep their own (``duties``, in the office's zone ``tz``)."""
    bit = candidate_bits(c)
    by_unit: dict[dt.datetime, int] = {}
    for staff_id, unit in holds:
        if staff_id in bit:
            by_unit[unit] = by_unit.get(unit, 0) | bit[staff_id]
    off = DutyMasks(duties, bit, minutes, tz) if duties and tz is not None else None
    return free_starts_masked(starts, minutes, c, by_unit, off)


def free_starts_masked(
    starts: Iterable[dt.datetime], minutes: int, c: Candidates, by_unit: Mapping[dt.datetime, int],
    off: DutyMasks | None = None,
) -> list[FreeSlot]:
    """``assignment.count_free`` per start, on bit masks (``candidate_bits``) of who is held in each unit
    and who is off duty (``off``), so that eight weeks of starts for thirty people stay cheap."""
    bit = candidate_bits(c)
    duty = off if off else None
    servers = speakers = 0
    for who, speaks in zip(c.servers, c.speaks, strict=True):
        servers |= bit[who]
        speakers |= bit[who] if speaks else 0
    others = servers & ~speakers
    interpreters = 0
    for who in c.interpreters:
        interpreters |= bit[who]
    interpreters &= ~servers
    length = dt.timedelta(minutes=minutes)
    steps = [STEP * i for i in range(minutes // STEP_MINUTES)]
    out = []
    for start in starts:
        busy = duty.mask(start) if duty is not None else 0
        for offset in steps:
            busy |= by_unit.get(start + offset, 0)
        if c.language is None:
            free = (servers & ~busy).bit_count()
        else:
            free = (speakers & ~busy).bit_count() + min((others & ~busy).bit_count(),
                                                          (interpreters & ~busy).bit_count())
        if free:
            out.append(FreeSlot(start, start + length, free))
    return out


def pick_nearest(free: Sequence[FreeSlot], around: dt.datetime, count: int = 3) -> list[FreeSlot]:
    """The ``count`` free starts nearest to ``around``, in time order."""
    near = sorted(free, key=lambda s: (abs((s.starts_at - around).total_seconds()), s.starts_at))[:count]
    return sorted(near, key=lambda s: s.starts_at)


def alternatives(slots: Sequence[FreeSlot], timezone: str) -> list[str]:
    tz = zone(timezone)
    return [s.starts_at.astimezone(tz).isoformat() for s in slots]


# -- search ---------------------------------------------------------------------------------------
def _free(
    session: Session, office: Office, service: Service, starts: Sequence[dt.datetime], language: str | None
) -> list[FreeSlot]:
    if not starts:
        return []
    members = repo.staff(session, office.id)
    c = candidates([person(m) for m in members], service.slug, language)
    end = starts[-1] + dt.timedelta(minutes=service.duration_minutes)
    tz = zone(office.timezone)
    duties = repo.duties(session, office.id, starts[0].astimezone(tz).date(), end.astimezone(tz).date(),
                         own=[m.id for m in members if m.own_hours])
    bits = candidate_bits(c)
    if len(bits) > 62:  # past a 64-bit sum: read the holds one by one
        holds = repo.holds_between(session, office.id, starts[0], end)
        return free_starts(starts, service.duration_minutes, c, holds, duties, tz)
    masks = repo.held_masks(session, office.id, starts[0], end, bits)
    return free_starts_masked(starts, service.duration_minutes, c, masks,
                              DutyMasks(duties, bits, service.duration_minutes, tz))


def search_slots(
    session: Session,
    office_slug: str,
    service_slug: str,
    start: dt.date,
    end: dt.date,
    language: str | None,
    now: dt.datetime,
    cache: SearchCache | None = None,
) -> tuple[Office, Service, list[FreeSlot]]:
    """Free starts between local dates [start, end]: a qualified person (and an interpreter) is free.

    With a ``cache`` (search_cache.py), whole days are computed once per availability version and
    reused while nothing they depend on has changed; the answer is the same either way."""
    office = get_office(session, office_slug)
    service = get_service(session, office, service_slug)
    _check_range(start, end, now)
    first, hi = _utc_days(office.timezone, start, end)
    lo = max(first, now + dt.timedelta(seconds=1))
    if cache is None:
        return office, service, _free(session, office, service, repo.open_starts(session, service.id, lo, hi), language)
    place = Place(office.id, service.id, office.timezone, service.duration_minutes, 0)
    version = versions(session, office.id, first, hi + dt.timedelta(minutes=service.duration_minutes))
    if read_only(session):
        cache.remember(office_slug, service_slug, replace(place, setup=version[0]))
    stored = _cached(session, cache, place, version, first, hi, language, lambda: (office, service))
    return office, service, [s for s in stored if s.starts_at >= lo]


def search_known(
    session: Session, cache: SearchCache, office_slug: str, service_slug: str, start: dt.date, end: dt.date,
    language: str | None, now: dt.datetime,
) -> tuple[str, list[FreeSlot], Sequence[FreeSlot] | None]:
    """``search_slots`` through the cache, for the API: the office's time zone, the free starts, and the
    cache's stored answer they were cut from (the starts already past dropped; None when computed afresh).

    When this server has searched the office and service before, and the office's setup has not changed
    since, the office and service are not read again: the versions are the one statement of a hit."""
    place = cache.place(office_slug, service_slug)
    if place is not None:
        _check_range(start, end, now)  # first: days far out of range cannot even be converted
        first, hi = _utc_days(place.timezone, start, end)
        version = versions(session, place.office_id, first, hi + dt.timedelta(minutes=place.minutes))
        if version[0] == place.setup:  # the same office, service, zone and duration as when remembered

            def rows() -> tuple[Office, Service]:
                office, service = session.get(Office, place.office_id), session.get(Service, place.service_id)
                assert office is not None and service is not None  # a deletion would have bumped the version
                return office, service

            lo = max(first, now + dt.timedelta(seconds=1))
            stored = _cached(session, cache, place, version, first, hi, language, rows)
            return place.timezone, [s for s in stored if s.starts_at >= lo], stored
    office, _, free = search_slots(session, office_slug, service_slug, start, end, language, now, cache=cache)
    return office.timezone, free, None


def _cached(
    session: Session, cache: SearchCache, place: Place, version: Version, first: dt.datetime, hi: dt.datetime,
    language: str | None, rows: Callable[[], tuple[Office, Service]],
) -> Sequence[FreeSlot]:
    # Whole days, read and computed from the first day's midnight: the key does not move with the clock;
    # what is already past is dropped below (each start's answer depends on its own units only).
    def compute() -> list[FreeSlot]:
        office, service = rows()
        return _free(session, office, service, repo.open_starts(session, service.id, first, hi), language)

    return cache.get_or_compute((place.office_id, place.service_id, language, first, hi), version, compute,
                                store=read_only(session))


def _check_range(start: dt.date, end: dt.date, now: dt.datetime) -> None:
    if end < start:
        raise InvalidInput("'to' is before 'from'; give the first day, then the last day.")
    if end - start > SEARCH_WINDOW:
        raise InvalidInput(f"Search at most {SEARCH_WINDOW.days} days at a time.")
    if start > (now + BOOKING_WINDOW).date():
        raise TimeOutOfRange(f"Appointments open {BOOKING_WINDOW.days} days ahead. Search an earlier range.")
    if end < (now - dt.timedelta(days=1)).date():
        raise TimeOutOfRange("Those days have passed. Search for slots from today on.")


def _utc_days(timezone: str, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local days [start, end] as a UTC range [first midnight, the midnight after the last day)."""
    tz = zone(timezone)
    return (dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC))


def nearest_free(
    session: Session, office: Office, service: Service, around: dt.datetime, language: str | None, now: dt.datetime
) -> list[FreeSlot]:
    """The three free starts nearest to ``around`` (within two weeks either side, never in the past)."""
    after = repo.free_slots(session, service.id, around + dt.timedelta(seconds=1), around + NEAREST_HORIZON, limit=40)
    before = repo.free_slots_before(session, service.id, around, max(now, around - NEAREST_HORIZON), limit=40)
    starts = sorted(r[1] for r in [*before, *after])
    return pick_nearest(_free(session, office, service, starts, language), around)
