"""The fast path's look-ups on PostgreSQL: one connection, and what it caches.

``fastpath.FastBooking`` plans a booking from an office's facts, services and people, and answers a
refused start with the nearest free times. Both come from here, read on one look-up connection (its
own, beside the writers) that reconnects when it is lost:

* ``Lookups.office``: an office's facts, services, staff and their duties, cached ``FACTS_TTL``
  seconds, so an office, service or staff change is seen within that time. Facts past half that age are
  read afresh by one task behind the bookings, which go on with them meanwhile: a refresh that every
  booking of the office waited for (five reads) was the bench's p99 on a loaded machine (docs/decisions.md,
  "The fast path's facts refreshed ahead"). Past ``FACTS_TTL`` (a quiet office) a booking waits for the
  reads, as before;
* ``Lookups.nearest``: the nearest free times for a refused start, by the same pure search as the
  sync path (``slots.free_starts``), cached ``NEAREST_TTL`` seconds per start and computed once
  however many refusals of that start wait for it.

A read that fails raises ``LookupFailed``; the fast path answers 503 with ``Retry-After``. Reads take
turns on the one connection (``Lookups.lock``): those that were waiting while a read failed (or was cut off
by its request's deadline) fail at once with it instead of each trying again in turn — against a database
that drops packets, each try costs up to ``CONNECT_TIMEOUT`` or ``READ_TIMEOUT``, and the k-th waiter in
line waited about 2k s. The next request after the failure tries again. The caller bounds the whole wait
by its own deadline (``fastpath.FastBooking.book``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from safeslot.scheduling.assignment import Candidates, Person, candidates
from safeslot.scheduling.duty import Duty, DutyMasks, duties_from_rows
from safeslot.scheduling.fastsql import (
    ABSENCE_SQL,
    HOLDS_SQL,
    MASKS_SQL,
    NEAREST_SQL,
    OFFICE_SQL,
    SERVICES_SQL,
    STAFF_HOURS_SQL,
    STAFF_SQL,
    arrays,
)
from safeslot.scheduling.plan import BookingPlan, OfficeFacts, ServiceFacts
from safeslot.scheduling.rules import zone
from safeslot.scheduling.slots import (
    NEAREST_HORIZON,
    alternatives,
    candidate_bits,
    free_starts,
    free_starts_masked,
    pick_nearest,
)

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 4.0  # a look-up that takes longer is treated as a lost connection
FACTS_TTL = 2.0  # office, service and staff changes are seen within this many seconds
REFRESH_AHEAD = FACTS_TTL / 2  # facts this old are read afresh behind the bookings, which still use them
NEAREST_TTL = 1.0
NEAREST_KEPT = 10_000  # cached starts; past this the cache starts over


@dataclass(slots=True)
class OfficeCache:
    facts: OfficeFacts
    services: dict[str, ServiceFacts]
    people: list[Person]
    duties: dict[int, Duty] = field(default_factory=dict)  # working hours and absences, for nearest times only
    fetched: float = field(default_factory=time.monotonic)
    asked: dict[tuple[str, str | None], tuple[Candidates, tuple[str, str, str]]] = field(default_factory=dict)

    def candidates(self, service: str, language: str | None) -> tuple[Candidates, tuple[str, str, str]]:
        """assignment.candidates for these people, and their array literals, once per service and language."""
        found = self.asked.get((service, language))
        if found is None:
            c = candidates(self.people, service, language)
            found = self.asked[(service, language)] = (c, arrays(c))
        return found


class LookupFailed(Exception):
    """The look-up connection could not answer (the database is away)."""


class Lookups:
    """The look-up connection, its lock, and the office and nearest-time caches."""

    def __init__(self, dsn: str, clock: Callable[[], dt.datetime]) -> None:
        self.dsn = dsn
        self.clock = clock
        self.conn: asyncpg.Connection | None = None
        self.lock = asyncio.Lock()
        self.offices: dict[str, OfficeCache] = {}
        self.refreshing: dict[str, asyncio.Task[OfficeCache | None]] = {}  # kept referenced while they run
        self.cached: dict[tuple[int, dt.datetime, str | None], tuple[float, asyncio.Future[list[str]]]] = {}
        self.failed = float("-inf")  # monotonic time the last turn on the connection failed or was cut off

    def start(self) -> None:
        """A fresh lock for the running event loop."""
        self.lock = asyncio.Lock()

    def close(self) -> None:
        for task in list(self.refreshing.values()):  # a refresh behind the bookings ends with the fast path
            task.cancel()
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None

    async def _query(self, sql: str, *args: Any) -> list[Any]:
        """One read on the look-up connection (call with the lock held), reconnecting when it was lost.
        A read that fails or is cancelled (its request's deadline) drops the connection: its state is unknown."""
        try:
            conn: Any = self.conn
            if conn is None or conn.is_closed():
                conn = self.conn = await asyncio.wait_for(asyncpg.connect(self.dsn), CONNECT_TIMEOUT)
            return list(await asyncio.wait_for(conn.fetch(sql, *args), READ_TIMEOUT))
        except BaseException as exc:
            self._drop_connection()
            if isinstance(exc, Exception):
                raise LookupFailed(type(exc).__name__) from exc
            raise

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """The look-up connection's lock; LookupFailed at once if a turn failed while this one waited."""
        asked = time.monotonic()
        async with self.lock:
            if self.failed >= asked:
                raise LookupFailed("the look-up before this one failed")
            try:
                yield
            except BaseException:  # a read failed, or the turn was cut off by its request's deadline
                self.failed = time.monotonic()
                raise

    def fresh(self, slug: str) -> OfficeCache | None:
        """The office's cached facts if younger than FACTS_TTL (past REFRESH_AHEAD, one task reads them afresh
        behind the bookings); None when they must be read (``office``). Never waits."""
        entry = self.offices.get(slug)
        if entry is None:
            return None
        age = time.monotonic() - entry.fetched
        if age >= FACTS_TTL:
            return None
        if age >= REFRESH_AHEAD and slug not in self.refreshing:
            task = asyncio.get_running_loop().create_task(self._refresh_quietly(slug))
            self.refreshing[slug] = task
            task.add_done_callback(lambda _: self.refreshing.pop(slug, None))
        return entry

    async def office(self, slug: str) -> OfficeCache | None:
        return self.fresh(slug) or await self._refresh(slug)

    async def _refresh_quietly(self, slug: str) -> OfficeCache | None:
        """A refresh behind the bookings; one that fails leaves the facts as they were, and the first booking
        past ``FACTS_TTL`` waits for its own reads (and hears 503 if the database is still away)."""
        try:
            return await self._refresh(slug, REFRESH_AHEAD)
        except LookupFailed:
            return None

    async def _refresh(self, slug: str, younger_than: float = FACTS_TTL) -> OfficeCache | None:
        """The office's facts read afresh, unless another read made them ``younger_than`` seconds meanwhile."""
        async with self._turn():
            entry = self.offices.get(slug)
            if entry is not None and time.monotonic() - entry.fetched < younger_than:
                return entry
            rows = await self._query(OFFICE_SQL, slug)
            if not rows:
                self.offices.pop(slug, None)
                return None
            office = OfficeFacts(rows[0]["id"], rows[0]["slug"], rows[0]["timezone"])
            services = {r["slug"]: ServiceFacts(r["id"], r["slug"], r["duration_minutes"])
                        for r in await self._query(SERVICES_SQL, office.id)}
            staff = await self._query(STAFF_SQL, office.id)
            people = [Person(r["id"], frozenset(r["languages"].split()), frozenset(r["services"].split()))
                      for r in staff]
            own = [r["id"] for r in staff if r["own_hours"]]
            windows = [tuple(r) for r in await self._query(STAFF_HOURS_SQL, office.id)] if own else []
            away = [tuple(r) for r in await self._query(ABSENCE_SQL, office.id,
                                                        self.clock().date() - dt.timedelta(days=1))]
            entry = self.offices[slug] = OfficeCache(office, services, people, duties_from_rows(own, windows, away))
            return entry

    async def nearest(self, plan: BookingPlan, duties: dict[int, Duty]) -> list[str]:
        """slots.nearest_free for a refusal, on the look-up connection; cached NEAREST_TTL s per start,
        computed once however many refusals of that start wait for it."""
        key = (plan.service.id, plan.start, plan.candidates.language)
        cached = self.cached.get(key)
        if cached is not None and time.monotonic() - cached[0] < NEAREST_TTL:
            return await asyncio.shield(cached[1])
        if len(self.cached) > NEAREST_KEPT:
            self.cached.clear()
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self.cached[key] = (time.monotonic(), future)
        try:
            found = await self._find_nearest(plan, duties)
        except Exception as exc:
            self.cached.pop(key, None)
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters get it, no "never retrieved" warning
            raise
        except BaseException:
            self.cached.pop(key, None)
            future.cancel()
            raise
        future.set_result(found)
        return found

    async def _find_nearest(self, plan: BookingPlan, duties: dict[int, Duty]) -> list[str]:
        around, now = plan.start, plan.now
        async with self._turn():
            rows = await self._query(NEAREST_SQL, plan.service.id, around + dt.timedelta(seconds=1),
                                     around + NEAREST_HORIZON, around, max(now, around - NEAREST_HORIZON))
            starts = sorted(r["starts_at"] for r in rows)
            if not starts:
                return []
            end = starts[-1] + dt.timedelta(minutes=plan.service.minutes)
            bits = candidate_bits(plan.candidates)
            tz = zone(plan.office.timezone)
            if len(bits) > 62:  # past a 64-bit sum: read the holds one by one (as slots._free does)
                holds = [(r["staff_id"], r["starts_at"])
                         for r in await self._query(HOLDS_SQL, plan.office.id, starts[0], end)]
                free = free_starts(starts, plan.service.minutes, plan.candidates, holds, duties, tz)
            else:
                masks = {r["starts_at"]: int(r["held"]) for r in await self._query(
                    MASKS_SQL, plan.office.id, starts[0], end, list(bits), list(bits.values()))}
                free = free_starts_masked(starts, plan.service.minutes, plan.candidates, masks,
                                          DutyMasks(duties, bits, plan.service.minutes, tz))
        return alternatives(pick_nearest(free, around), plan.office.timezone)
