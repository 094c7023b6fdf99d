"""Start times: the grid of bookable starts (materialised) and the search for free ones (people-level).

The grid (``SlotCapacity``) says when a service may start: opening windows,
closures, daylight-saving gaps. Whether a start is *free* is decided by people:
``free_starts`` shows a start only when ``assignment.choose`` would find a free
qualified staff member (and interpreter) for the whole visit. The search, the
nearest alternatives of a refusal (on both booking paths) and nothing else use it.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import repository as repo
from safeslot.scheduling import search_reads, slot_grid
from safeslot.scheduling.assignment import Candidates
from safeslot.scheduling.duty import Duty, DutyMasks
from safeslot.scheduling.errors import TimeOutOfRange
from safeslot.scheduling.models import STEP_MINUTES, Office, Service, WeeklyHours
from safeslot.scheduling.offices import get_office, get_service
from safeslot.scheduling.rules import BOOKING_WINDOW, SEARCH_WINDOW, STEP, local_to_utc, zone
from safeslot.scheduling.search_cache import (
    Days,
    Hours,
    Key,
    Place,
    SearchCache,
    Version,
    local_days,
    read_hours,
    read_only,
)
from safeslot.scheduling.search_reads import Setup, epoch, read_setup

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
    slots = slot_grid.existing_slot_starts(session, office.id, lo, hi)
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
    slot_grid.write_slot_grid(session, new, capacities)
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
    return free_epochs([epoch(s) for s in starts], minutes, c, candidate_bits(c),
                       {epoch(unit): held for unit, held in by_unit.items()}, off)


def free_epochs(
    starts: Sequence[int], minutes: int, c: Candidates, bit: Mapping[int, int], by_unit: Mapping[int, int],
    off: DutyMasks | None = None,
) -> list[FreeSlot]:
    """``free_starts_masked`` on UTC epoch seconds (search_reads.py), with ``bit`` one bit per candidate
    (``candidate_bits`` or ``search_reads.shifted_bits``)."""
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
    steps = [STEP_MINUTES * 60 * i for i in range(minutes // STEP_MINUTES)]
    utc, get = dt.UTC, by_unit.get
    out = []
    for start in starts:
        at = dt.datetime.fromtimestamp(start, utc) if duty is not None else None
        busy = duty.mask(at) if duty is not None and at is not None else 0
        for offset in steps:
            busy |= get(start + offset, 0)
        if c.language is None:
            free = (servers & ~busy).bit_count()
        else:
            free = (speakers & ~busy).bit_count() + min((others & ~busy).bit_count(),
                                                          (interpreters & ~busy).bit_count())
        if free:
            at = at or dt.datetime.fromtimestamp(start, utc)
            out.append(FreeSlot(at, at + length, free))
    return out


def pick_nearest(free: Sequence[FreeSlot], around: dt.datetime, count: int = 3) -> list[FreeSlot]:
    """The ``count`` free starts nearest to ``around``, in time order."""
    near = sorted(free, key=lambda s: (abs((s.starts_at - around).total_seconds()), s.starts_at))[:count]
    return sorted(near, key=lambda s: s.starts_at)


def alternatives(slots: Sequence[FreeSlot], timezone: str) -> list[str]:
    tz = zone(timezone)
    return [s.starts_at.astimezone(tz).isoformat() for s in slots]


# -- search ---------------------------------------------------------------------------------------
def _free_at(
    session: Session, place: Place, people: Setup, starts: Sequence[int], masks: dict[int, int] | None = None
) -> list[FreeSlot]:
    """The free ones of ``starts`` (epoch seconds, in time order) for the people ``people``, given who is held
    (``masks``, search_reads.held_masks) or reading it."""
    if not starts:
        return []
    c, bits, minutes, tz = people.candidates, people.bits, place.minutes, zone(place.timezone)
    lo, end = _at(starts[0]), _at(starts[-1] + minutes * 60)
    if len(bits) > 62:  # past a 64-bit sum: read the holds one by one
        masks = {}
        for who, unit in repo.holds_between(session, place.office_id, lo, end):
            if who in bits:
                masks[epoch(unit)] = masks.get(epoch(unit), 0) | bits[who]
    elif masks is None:
        masks = search_reads.held_masks(session, place.office_id, lo, end, bits, people.base)
    return free_epochs(starts, minutes, c, bits, masks, DutyMasks(people.duties, bits, minutes, tz))


def _free_between(session: Session, place: Place, people: Setup, lo: dt.datetime, hi: dt.datetime) -> list[FreeSlot]:
    """The free starts of [lo, hi): the open starts and who is held then read in one statement."""
    if len(people.bits) > 62:
        return _free_at(session, place, people, search_reads.starts_and_masks(
            session, place.office_id, place.service_id, lo, hi, lo, {}, None)[0])
    starts, masks = search_reads.starts_and_masks(session, place.office_id, place.service_id, lo, hi,
                                                  hi + dt.timedelta(minutes=place.minutes), people.bits, people.base)
    return _free_at(session, place, people, starts, masks)


def _at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _place(office: Office, service: Service, setup: int = 0) -> Place:
    return Place(office.id, service.id, office.timezone, service.duration_minutes, setup, service.slug)


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
    if cache is not None:
        return office, service, _through(session, cache, office, service, (office_slug, service_slug), start, end,
                                         language, now).slots
    _check_range(start, end, now)
    first, hi = _utc_days(office.timezone, start, end)
    people = read_setup(session, office.id, service.slug, language, start, end + dt.timedelta(days=1))
    return office, service, _free_between(session, _place(office, service), people, _since(first, now), hi)


@dataclass(frozen=True, slots=True)
class Answer:
    """A search through the cache: the office's time zone, the free starts of each local day of the range as
    the cache keeps them (``days``, in time order), and the first moment not past (``since``). The answer
    is the starts of ``days`` from ``since`` on (``slots``); the clock is not part of the cache's keys."""

    timezone: str
    days: Days[FreeSlot]
    since: dt.datetime

    @property
    def slots(self) -> list[FreeSlot]:
        i, past = self.first_kept()
        return [*self.days[i][past:], *(s for day in self.days[i + 1:] for s in day)] if i < len(self.days) else []

    def first_kept(self) -> tuple[int, int]:
        """The first day with a start not past, and how many of its starts are past (the earliest ones);
        every start of the days after it is after ``since`` too (len(days) when every start is past)."""
        for i, day in enumerate(self.days):
            if day and day[-1].starts_at >= self.since:
                return i, bisect_left(day, self.since, key=_starts_at)
        return len(self.days), 0


def _starts_at(slot: FreeSlot) -> dt.datetime:
    return slot.starts_at


def _since(first: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The first moment of a search from ``first`` whose starts are not past."""
    return max(first, now + dt.timedelta(seconds=1))


def search_known(
    session: Session, cache: SearchCache, office_slug: str, service_slug: str, start: dt.date, end: dt.date,
    language: str | None, now: dt.datetime,
) -> Answer:
    """``search_slots`` through the cache, for the API: the answer with its days as the cache keeps them.

    When this server has searched the office and service before, and the office's setup has not changed
    since, the office and service are not read again: the versions are the one statement of a hit."""
    place = cache.place(office_slug, service_slug)
    if place is not None:
        _check_range(start, end, now)  # first: days far out of range cannot even be converted
        first, hi = _utc_days(place.timezone, start, end)
        hours = read_hours(session, place.office_id, first, hi + dt.timedelta(minutes=place.minutes))
        if hours.setup == place.setup:  # the same office, service, zone and duration as when remembered
            return Answer(place.timezone, _cached(session, cache, place, hours, first, hi, language),
                          _since(first, now))
    office = get_office(session, office_slug)
    service = get_service(session, office, service_slug)
    return _through(session, cache, office, service, (office_slug, service_slug), start, end, language, now)


def _through(
    session: Session, cache: SearchCache, office: Office, service: Service, slugs: tuple[str, str], start: dt.date,
    end: dt.date, language: str | None, now: dt.datetime,
) -> Answer:
    """The search through the cache, the office and service read (and remembered by the slugs asked)."""
    _check_range(start, end, now)
    first, hi = _utc_days(office.timezone, start, end)
    hours = read_hours(session, office.id, first, hi + dt.timedelta(minutes=service.duration_minutes))
    place = _place(office, service, hours.setup)
    if read_only(session):
        cache.remember(*slugs, place)
    return Answer(office.timezone, _cached(session, cache, place, hours, first, hi, language), _since(first, now))


def _cached(
    session: Session, cache: SearchCache, place: Place, hours: Hours, first: dt.datetime, hi: dt.datetime,
    language: str | None,
) -> Days[FreeSlot]:
    # Whole days, read and computed from the first day's midnight: the key does not move with the clock;
    # what is already past is dropped below (each start's answer depends on its own units only). Each local
    # day is also kept on its own, keyed by the hours its visits touch (docs/decisions.md "Slot search cache").
    tz, store = zone(place.timezone), read_only(session)
    base = (place.office_id, place.service_id, language)

    def days() -> list[tuple[Key, Version]]:
        return [((*base, a, b), hours.version(*touched))
                for a, b, touched in local_days(place.timezone, first, hi, place.minutes)]

    def compute(lo: dt.datetime, to: dt.datetime) -> list[FreeSlot]:
        first_day, last_day = lo.astimezone(tz).date(), to.astimezone(tz).date()
        people = cache.setup(base, hours.setup)
        if people is None or not people.covers(first_day, last_day):
            people = read_setup(session, place.office_id, place.service_slug, language, first_day,
                                last_day + SEARCH_WINDOW)
            if store:  # read in the snapshot its version was read in
                cache.keep_setup(base, hours.setup, people)
        return _free_between(session, place, people, lo, to)

    whole = hours.between(first, hi + dt.timedelta(minutes=place.minutes))
    return cache.get_or_compute((*base, first, hi), whole, days, compute, store)


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
    starts = sorted(epoch(r[1]) for r in [*before, *after])
    if not starts:
        return []
    tz = zone(office.timezone)
    people = read_setup(session, office.id, service.slug, language, _at(starts[0]).astimezone(tz).date(),
                        _at(starts[-1]).astimezone(tz).date() + dt.timedelta(days=1))
    return pick_nearest(_free_at(session, _place(office, service), people, starts), around)
