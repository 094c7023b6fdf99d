"""The booking fast path on PostgreSQL: asyncpg and group commit for ``POST /api/v1/appointments``.

Why: a booking is one short write transaction, and on a small machine the
application's CPU per request decides throughput, because it is taken from
PostgreSQL on the same cores (docs/performance.md).

What it is: a pure ASGI middleware inside the body-limit and metrics
middlewares. It validates the body with the same ``BookingIn`` model and makes
the same booking plan (``plan.plan_booking``: rules, code, times, the people who
may serve and interpret, sealed values, the answer) from an office/service/staff
cache refreshed every ``FACTS_TTL`` seconds. A writer executes the plan with
``BOOK_SQL``, the one-statement form of ``booking.execute``: the staff it picks
are re-checked against the staff table (active, service, language), so a stale
cache can never assign someone who left; their working hours and absences are
read from their tables by the same statement (``ON_DUTY``), so a stale cache can
never assign someone outside their hours either; the holds' primary key refuses any
double in the database itself.

Group commit: each writer takes up to ``BATCH`` queued plans, takes all their
locks (``rules.lock_keys``: office and hour) in ascending order in one statement
(so batches of several workers and the sync path, which locks the same way,
cannot deadlock),
runs one statement per booking and one COMMIT; answers go out after the COMMIT.

Refusals of a full start (no free person, or no interpreter) are answered here
too, with the nearest free times computed by the same pure search as the sync
path (``slots.free_starts``, cached ``NEAREST_TTL`` s per start). What the fast
path does not decide — invalid input, unknown office, a time not on the grid, a
reused Idempotency-Key, a database error other than a lost connection — goes
untouched to the regular FastAPI endpoint.

Healing: writers and the look-up connection reconnect with backoff. While no
writer is connected, or when a batch's connection is lost (even at COMMIT),
the affected requests get 503 problem+json with ``Retry-After`` at once; no
request waits more than ``REQUEST_TIMEOUT``. A booking answered 503 may have been
committed (a COMMIT cut off mid-way): a retry with the same Idempotency-Key
replays it, so nothing acknowledged is lost or doubled. ``/healthz`` shows the writers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from safeslot.config import Environment, Settings
from safeslot.kit import metrics
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import DomainError, problem_body, status_for
from safeslot.scheduling.assignment import Candidates, Person, candidates
from safeslot.scheduling.duty import Duty, duties_from_rows
from safeslot.scheduling.errors import BookingUnavailable
from safeslot.scheduling.idempotency import MAX_KEY_LENGTH, request_hash
from safeslot.scheduling.plan import (
    BookingPlan,
    OfficeFacts,
    ServiceFacts,
    interpreter_unavailable,
    plan_booking,
    slot_full,
)
from safeslot.scheduling.rules import new_code, zone
from safeslot.scheduling.schemas import BookingIn
from safeslot.scheduling.slots import NEAREST_HORIZON, alternatives, free_starts, pick_nearest

log = logging.getLogger(__name__)

PATH = "/api/v1/appointments"
BATCH = 8  # bookings per transaction
WRITERS = 4  # writer connections
RETRIES = 3  # deadlocks (none expected: one lock order) retry the batch this often, then the sync path
REQUEST_TIMEOUT = 5.0  # a booking waits at most this long for its writer, then 503
COMMIT_TIMEOUT = 4.0  # a batch (locks, statements, COMMIT) that takes longer is treated as a lost connection
CONNECT_TIMEOUT = 2.0
BACKOFF = (0.05, 2.0)  # reconnect delays: first, and the most it doubles to
FACTS_TTL = 2.0  # office, service and staff changes are seen within this many seconds
NEAREST_TTL = 1.0
RETRY_AFTER = b"1"
# Bench only, and only with SAFESLOT_ENVIRONMENT=demo: store names unsealed to measure what sealing costs.
PLAINTEXT_FLAG = "SAFESLOT_BENCH_PLAINTEXT"

# booking.execute in one statement: the start open on the grid, the first free qualified server in the
# plan's order (re-checked against the staff table), an interpreter when the server does not speak the
# language, the Idempotency-Key claim, the appointment, one hold per person per unit.
BOOK_SQL = """
WITH slot AS (
  SELECT id, booked < capacity AS open FROM slot_capacity WHERE service_id = $3 AND starts_at = $4
), live AS (
  SELECT c.id, c.speaks, c.ord
  FROM unnest($6::int[], $7::bool[]) WITH ORDINALITY AS c(id, speaks, ord)
  JOIN staff s ON s.id = c.id AND s.office_id = $2 AND s.active
    AND strpos(' ' || s.services || ' ', ' ' || $20::text || ' ') > 0
    AND (NOT c.speaks OR $8::text IS NULL OR strpos(' ' || s.languages || ' ', ' ' || $8::text || ' ') > 0)
    AND {on_duty}
  WHERE NOT EXISTS (SELECT 1 FROM staff_hold h WHERE h.staff_id = c.id AND h.starts_at >= $4 AND h.starts_at < $5)
), interp AS (
  SELECT c.id FROM unnest($9::int[]) WITH ORDINALITY AS c(id, ord)
  JOIN staff s ON s.id = c.id AND s.office_id = $2 AND s.active
    AND strpos(' ' || s.languages || ' ', ' ' || $8::text || ' ') > 0
    AND {on_duty}
  WHERE NOT EXISTS (SELECT 1 FROM staff_hold h WHERE h.staff_id = c.id AND h.starts_at >= $4 AND h.starts_at < $5)
  ORDER BY c.ord LIMIT 1
), pick AS (
  SELECT slot.id AS slot_id, l.id AS staff_id,
    CASE WHEN l.speaks THEN NULL ELSE (SELECT id FROM interp) END AS interp_id
  FROM slot, live l
  WHERE slot.open AND (l.speaks OR EXISTS (SELECT 1 FROM interp))
  ORDER BY l.ord LIMIT 1
), claim AS (
  INSERT INTO idempotency_record (scope, key, request_hash, status_code, body, created_at)
  SELECT 'book', $1::text, $10::text, 201, $11::text, $12::timestamptz FROM pick WHERE $1::text IS NOT NULL
  ON CONFLICT DO NOTHING RETURNING 1
), appt AS (
  INSERT INTO appointment (code, office_id, service_id, slot_id, starts_at, ends_at, status, language,
    name_enc, name_index, accommodation_enc, contact_enc, reminders_opt_in, sequence, created_at, updated_at,
    staff_id, interpreter_id)
  SELECT $13::text, $2, $3, pick.slot_id, $4, $5, 'booked', $14::text, $15::bytea, $16::text, $17::bytea,
    $18::bytea, $19::boolean, 0, $12::timestamptz, $12::timestamptz, pick.staff_id, pick.interp_id
  FROM pick WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM claim)
  RETURNING id, staff_id, interpreter_id
), held AS (
  INSERT INTO staff_hold (staff_id, starts_at, office_id, appointment_id, role)
  SELECT p.who, u.at, $2, a.id, p.role
  FROM appt a
  CROSS JOIN LATERAL (VALUES (a.staff_id, 'serve'), (a.interpreter_id, 'interpret')) AS p(who, role)
  CROSS JOIN unnest($21::timestamptz[]) AS u(at)
  WHERE p.who IS NOT NULL
  RETURNING 1
)
SELECT (SELECT id FROM appt) AS made, (SELECT count(*) FROM held) AS held,
  (SELECT count(*) FROM slot) AS slot_exists, COALESCE((SELECT open FROM slot), false) AS open,
  EXISTS (SELECT 1 FROM live) AS any_server, (SELECT count(*) FROM pick) AS picked,
  r.request_hash AS prior_hash, r.status_code AS prior_status, r.body AS prior_body
FROM (SELECT 1) AS one LEFT JOIN idempotency_record r ON r.scope = 'book' AND r.key = $1::text"""
# The person works during the visit (duty.py; the same test as repository.off_duty): their own hours, when they
# keep some, hold the whole visit in one window of its weekday ($23, local $24-$25; $25 NULL when the visit
# crosses midnight), and no absence covers its local day ($22). Read from the tables, never from the cache.
ON_DUTY = """(NOT s.own_hours OR EXISTS (SELECT 1 FROM staff_hours w WHERE w.staff_id = s.id AND w.weekday = $23::int
      AND w.opens <= $24::time AND w.closes >= $25::time))
    AND NOT EXISTS (SELECT 1 FROM staff_absence x WHERE x.staff_id = s.id
      AND x.first_day <= $22::date AND x.last_day >= $22::date)"""
BOOK_SQL = BOOK_SQL.replace("{on_duty}", ON_DUTY)

OFFICE_SQL = "SELECT id, slug, timezone FROM office WHERE slug = $1"
SERVICES_SQL = "SELECT id, slug, duration_minutes FROM service WHERE office_id = $1"
STAFF_SQL = "SELECT id, languages, services, own_hours FROM staff WHERE office_id = $1 AND active ORDER BY id"
# working hours and absences to come, for the nearest free times of a refusal (BOOK_SQL reads the tables itself)
STAFF_HOURS_SQL = """SELECT w.staff_id, w.weekday, w.opens, w.closes FROM staff_hours w
  JOIN staff s ON s.id = w.staff_id WHERE s.office_id = $1 AND s.active AND s.own_hours"""
ABSENCE_SQL = """SELECT x.staff_id, x.first_day, x.last_day FROM staff_absence x JOIN staff s ON s.id = x.staff_id
  WHERE s.office_id = $1 AND s.active AND x.last_day >= $2"""
# the same grid rows as slots.nearest_free reads
NEAREST_SQL = """
(SELECT starts_at FROM slot_capacity WHERE service_id = $1 AND starts_at >= $2 AND starts_at < $3
   AND booked < capacity ORDER BY starts_at LIMIT 40)
UNION ALL
(SELECT starts_at FROM slot_capacity WHERE service_id = $1 AND starts_at < $4 AND starts_at > $5
   AND booked < capacity ORDER BY starts_at DESC LIMIT 40)"""
HOLDS_SQL = "SELECT staff_id, starts_at FROM staff_hold WHERE office_id = $1 AND starts_at >= $2 AND starts_at < $3"

# (status, body, extra headers); None: let the sync endpoint answer
Result = tuple[int, bytes, list[tuple[bytes, bytes]]]
JSON_TYPE = (b"content-type", b"application/json")
PROBLEM_TYPE = (b"content-type", b"application/problem+json")


class _Route:
    """What the metrics middleware reads from ``scope["route"]``: the route template."""

    path = PATH


ROUTE = _Route()


@dataclass(slots=True)
class Booking:
    plan: BookingPlan
    key: str | None
    body_hash: str | None
    answer: str
    done: asyncio.Future[tuple[str, Any] | None]
    abandoned: bool = False

    def args(self) -> tuple[Any, ...]:
        p, c = self.plan, self.plan.candidates
        return (
            self.key, p.office.id, p.service.id, p.start, p.end, list(c.servers), list(c.speaks), c.language,
            list(c.interpreters), self.body_hash, self.answer, p.now, p.code, p.language, p.name_enc, p.name_index,
            p.accommodation_enc, p.contact_enc, p.reminders_opt_in, p.service.slug, list(p.units),
            p.local.day, p.local.weekday, p.local.start, p.local.end if p.local.same_day else None,
        )


@dataclass(slots=True)
class OfficeCache:
    facts: OfficeFacts
    services: dict[str, ServiceFacts]
    people: list[Person]
    duties: dict[int, Duty] = field(default_factory=dict)
    fetched: float = field(default_factory=time.monotonic)
    asked: dict[tuple[str, str | None], Candidates] = field(default_factory=dict)

    def candidates(self, service: str, language: str | None) -> Candidates:
        """assignment.candidates for these people, computed once per service and language."""
        found = self.asked.get((service, language))
        if found is None:
            found = self.asked[(service, language)] = candidates(self.people, service, language)
        return found


class LookupFailed(Exception):
    """The look-up connection could not answer (the database is away)."""


def asyncpg_dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _problem(exc: DomainError, extra_headers: list[tuple[bytes, bytes]] | None = None) -> Result:
    body = problem_body(status_for(exc), exc.slug, exc.title, exc.detail, PATH, **exc.extra)
    return status_for(exc), body, [PROBLEM_TYPE, (b"cache-control", b"no-store"), *(extra_headers or [])]


def unavailable() -> Result:
    return _problem(
        BookingUnavailable("Bookings cannot be written just now. Send the same request again in a second, "
                           "with the same Idempotency-Key: a booking is never made twice."),
        [(b"retry-after", RETRY_AFTER)],
    )


def _lost(exc: BaseException, conn: asyncpg.Connection) -> bool:
    """Did this error take the connection with it (so the outcome of the batch is unknown)?"""
    if conn.is_closed():
        return True
    return not isinstance(exc, asyncpg.PostgresError) or isinstance(
        exc, (asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError, asyncpg.CannotConnectNowError)
    )


class FastBooking:
    """The writer connections, the queue, and the office/service/staff look-ups they need."""

    def __init__(self, dsn: str, clock: Callable[[], dt.datetime], ring: KeyRing, *, seal: bool = True) -> None:
        self.dsn = dsn
        self.clock = clock
        self.ring = ring
        self.seal = seal
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Booking] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.connected: list[bool] = [False] * WRITERS
        self.lookup: asyncpg.Connection | None = None
        self.lookup_lock = asyncio.Lock()
        self.offices: dict[str, OfficeCache] = {}
        self.nearest: dict[tuple[int, dt.datetime, str | None], tuple[float, asyncio.Future[list[str]]]] = {}
        self.answered = 0  # bookings and refusals answered here (not handed to the sync endpoint)

    @property
    def running(self) -> bool:
        return self.loop is not None and asyncio.get_running_loop() is self.loop

    def health(self) -> dict[str, int]:
        return {"writers": len(self.tasks), "connected": sum(self.connected), "queued": self.queue.qsize()}

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        self.lookup_lock = asyncio.Lock()
        self.tasks = [asyncio.create_task(self._writer(i)) for i in range(WRITERS)]
        # Wait briefly for the first connections, so a fresh server books at once; a database that is
        # away is not fatal: the writers keep trying, and bookings get 503 until one connects.
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not any(self.connected) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.loop = None
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        self._fail_queued(None)
        if self.lookup is not None:
            self.lookup.terminate()
            self.lookup = None

    # -- look-ups ----------------------------------------------------------------------------------
    async def _query(self, sql: str, *args: Any) -> list[Any]:
        """One read on the look-up connection (call with lookup_lock held), reconnecting when it was lost."""
        try:
            conn: Any = self.lookup
            if conn is None or conn.is_closed():
                conn = self.lookup = await asyncio.wait_for(asyncpg.connect(self.dsn), CONNECT_TIMEOUT)
            return list(await asyncio.wait_for(conn.fetch(sql, *args), COMMIT_TIMEOUT))
        except Exception as exc:
            if self.lookup is not None:
                self.lookup.terminate()
                self.lookup = None
            raise LookupFailed(type(exc).__name__) from exc

    async def _office(self, slug: str) -> OfficeCache | None:
        entry = self.offices.get(slug)
        if entry is not None and time.monotonic() - entry.fetched < FACTS_TTL:
            return entry
        async with self.lookup_lock:
            entry = self.offices.get(slug)
            if entry is not None and time.monotonic() - entry.fetched < FACTS_TTL:
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
            away = [tuple(r) for r in await self._query(ABSENCE_SQL, office.id, self.clock().date()
                                                        - dt.timedelta(days=1))]
            entry = self.offices[slug] = OfficeCache(office, services, people,
                                                     duties_from_rows(own, windows, away))
            return entry

    async def _nearest(self, plan: BookingPlan, duties: dict[int, Duty]) -> list[str]:
        """slots.nearest_free for a refusal, on the look-up connection; cached NEAREST_TTL s per start,
        computed once however many refusals of that start wait for it."""
        key = (plan.service.id, plan.start, plan.candidates.language)
        cached = self.nearest.get(key)
        if cached is not None and time.monotonic() - cached[0] < NEAREST_TTL:
            return await asyncio.shield(cached[1])
        if len(self.nearest) > 10_000:
            self.nearest.clear()
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self.nearest[key] = (time.monotonic(), future)
        try:
            found = await self._find_nearest(plan, duties)
        except Exception as exc:
            self.nearest.pop(key, None)
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters get it, no "never retrieved" warning
            raise
        except BaseException:
            self.nearest.pop(key, None)
            future.cancel()
            raise
        future.set_result(found)
        return found

    async def _find_nearest(self, plan: BookingPlan, duties: dict[int, Duty]) -> list[str]:
        around, now = plan.start, plan.now
        async with self.lookup_lock:
            rows = await self._query(NEAREST_SQL, plan.service.id, around + dt.timedelta(seconds=1),
                                     around + NEAREST_HORIZON, around, max(now, around - NEAREST_HORIZON))
            starts = sorted(r["starts_at"] for r in rows)
            holds: list[tuple[int, dt.datetime]] = []
            if starts:
                holds = [(r["staff_id"], r["starts_at"]) for r in await self._query(
                    HOLDS_SQL, plan.office.id, starts[0], starts[-1] + dt.timedelta(minutes=plan.service.minutes))]
        free = free_starts(starts, plan.service.minutes, plan.candidates, holds, duties, zone(plan.office.timezone))
        return alternatives(pick_nearest(free, around), plan.office.timezone)

    # -- request side -------------------------------------------------------------------------------
    async def book(self, body: bytes, key: str | None) -> Result | None:
        try:
            data = BookingIn.model_validate_json(body)
        except ValidationError:
            return None
        if not any(self.connected):
            return unavailable()
        try:
            office = await self._office(data.office)
        except LookupFailed:
            return unavailable()
        service = office.services.get(data.service) if office is not None else None
        if office is None or service is None:
            return None
        try:
            plan = plan_booking(data, office.facts, service, office.people, self.clock(), new_code(), self.ring,
                                seal=self.seal, prepared=office.candidates(service.slug, data.language))
        except DomainError:
            return None  # the sync path answers with the same rule's words
        answer = orjson.dumps(plan.answer)
        done: asyncio.Future[tuple[str, Any] | None] = asyncio.get_running_loop().create_future()
        booking = Booking(plan=plan, key=key, answer=answer.decode(), done=done,
                          body_hash=request_hash(data.model_dump(mode="json")) if key is not None else None)
        self.queue.put_nowait(booking)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(done), REQUEST_TIMEOUT)
        except TimeoutError:
            booking.abandoned = True  # a writer that has not started it will skip it
            return unavailable()
        if outcome is None:
            return None
        kind, value = outcome
        self.answered += kind != "unavailable"
        if kind == "made":
            return 201, answer, [JSON_TYPE]
        if kind == "replay":
            return value[0], value[1], [JSON_TYPE, (b"idempotent-replayed", b"true")]
        if kind == "unavailable":
            return unavailable()
        try:
            near = await self._nearest(plan, office.duties)
        except LookupFailed:
            return unavailable()
        metrics.CONFLICTS.labels(value).inc()
        if value == "interpreter" and plan.candidates.language is not None:
            return _problem(interpreter_unavailable(plan.candidates.language, near))
        return _problem(slot_full(near))

    # -- writer side --------------------------------------------------------------------------------
    def _fail_queued(self, value: tuple[str, Any] | None) -> None:
        while not self.queue.empty():
            _settle(self.queue.get_nowait().done, value)

    async def _writer(self, index: int) -> None:
        conn: asyncpg.Connection | None = None
        delay = BACKOFF[0]
        try:
            while True:
                if conn is None:
                    try:
                        conn = await asyncio.wait_for(asyncpg.connect(self.dsn), CONNECT_TIMEOUT)
                    except Exception as exc:  # any failure to connect: try again later
                        if not any(self.connected):
                            self._fail_queued(("unavailable", None))
                        log.warning("booking writer %d cannot connect (%s); retrying in %.2f s",
                                    index, type(exc).__name__, delay)
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, BACKOFF[1])
                        continue
                    delay = BACKOFF[0]
                    self.connected[index] = True
                batch = [await self.queue.get()]
                while len(batch) < BATCH and not self.queue.empty():
                    batch.append(self.queue.get_nowait())
                assert conn is not None
                if not await self._commit(conn, batch):
                    self.connected[index] = False
                    conn.terminate()
                    conn = None
                    if not any(self.connected):
                        self._fail_queued(("unavailable", None))
        finally:
            self.connected[index] = False
            if conn is not None:
                conn.terminate()

    async def _commit(self, conn: asyncpg.Connection, batch: list[Booking]) -> bool:
        """Run a batch in one transaction and settle every booking in it; False if the connection was lost."""
        live = sorted((b for b in batch if not b.abandoned),
                      key=lambda b: (b.plan.lock_keys, b.plan.start, b.plan.service.id))
        for b in batch:
            if b.abandoned:
                _settle(b.done, None)
        if not live:
            return True
        keys = ",".join(str(k) for k in sorted({k for b in live for k in b.plan.lock_keys}))
        begin = f"BEGIN; SELECT pg_advisory_xact_lock(k) FROM unnest('{{{keys}}}'::bigint[]) AS k"
        for _ in range(RETRIES):
            try:
                async with asyncio.timeout(COMMIT_TIMEOUT):
                    await conn.execute(begin)
                    rows = [await conn.fetchrow(BOOK_SQL, *b.args()) for b in live]
                    await conn.execute("COMMIT")
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
                if not await _rollback(conn):
                    break
                continue
            except asyncio.CancelledError:
                for b in live:
                    _settle(b.done, ("unavailable", None))
                raise
            except Exception as exc:  # every database or driver error, at any statement
                if _lost(exc, conn) or not await _rollback(conn):
                    log.warning("booking batch lost its connection (%s); answered 503", type(exc).__name__)
                    for b in live:
                        _settle(b.done, ("unavailable", None))
                    return False
                log.warning("booking batch failed (%s); its bookings take the sync path", type(exc).__name__)
                for b in live:
                    _settle(b.done, None)
                return True
            for b, row in zip(live, rows, strict=True):
                _settle(b.done, _outcome(b, row))
            return True
        for b in live:
            _settle(b.done, None)
        return not conn.is_closed()


def _outcome(b: Booking, row: Any) -> tuple[str, Any] | None:
    if row["made"] is not None:
        metrics.BOOKINGS.inc()
        return "made", None
    if b.key is not None and row["prior_hash"] is not None:
        if row["prior_hash"] == b.body_hash and row["prior_status"]:
            return "replay", (int(row["prior_status"]), str(row["prior_body"]).encode())
        return None  # the key was used for another body: the sync path says so
    if not row["slot_exists"] or (b.key is not None and row["picked"]):
        return None  # not on the grid (the sync path lists times), or a claim still in flight elsewhere
    if not row["open"] or not row["any_server"]:
        return "refused", "slot"
    return "refused", "interpreter"


def _settle(fut: asyncio.Future[tuple[str, Any] | None], value: tuple[str, Any] | None) -> None:
    if not fut.done():
        fut.set_result(value)


async def _rollback(conn: asyncpg.Connection) -> bool:
    """Roll back; False when the connection is gone."""
    if conn.is_closed():
        return False
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await conn.execute("ROLLBACK")
    except Exception:
        return False
    return True


# -- ASGI ----------------------------------------------------------------------------------------
class FastBookingMiddleware:
    def __init__(self, app: Any, fast: FastBooking) -> None:
        self.app = app
        self.fast = fast

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST"
            or not self.fast.running
        ):
            await self.app(scope, receive, send)
            return
        key: str | None = None
        json_body = False
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                key = value.decode("latin-1")
            elif name == b"content-type":
                json_body = value.split(b";")[0].strip() == b"application/json"
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        result = None
        if json_body and (key is None or (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable())):
            result = await self.fast.book(body, key)
        if result is None:
            await self.app(scope, _replay(body, receive), send)
            return
        scope["route"] = ROUTE
        status, answer, headers = result
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(answer)).encode()), *headers]})
        await send({"type": "http.response.body", "body": answer})


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def install(app: FastAPI, settings: Settings) -> None:
    """Add the fast path when the app writes to PostgreSQL through its own engine (not a test's connection)."""
    engine: Engine = app.state.engine
    bind = app.state.sessionmaker.kw.get("bind")
    if engine.dialect.name != "postgresql" or bind is not engine:
        return
    seal = not (settings.environment is Environment.demo and os.environ.get(PLAINTEXT_FLAG) == "1")
    if not seal:
        log.warning("%s=1: names are stored UNSEALED by the booking fast path (benchmark only)", PLAINTEXT_FLAG)
    fast = FastBooking(asyncpg_dsn(engine), app.state.clock, app.state.keyring, seal=seal)
    app.state.fast_booking = fast
    app.add_middleware(FastBookingMiddleware, fast=fast)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            await fast.start()
            try:
                yield state
            finally:
                with contextlib.suppress(Exception):
                    await fast.stop()

    app.router.lifespan_context = lifespan
