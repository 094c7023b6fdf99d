"""The booking fast path on PostgreSQL: asyncpg and group commit for ``POST /api/v1/appointments``.

Why: a booking is one short write transaction, and on a small machine the
application's CPU per request decides throughput, because it is taken from
PostgreSQL on the same cores. The sync FastAPI + ORM path costs ~3 ms of CPU
per booking; this path costs a few hundred µs (docs/performance.md).

What it is: a pure ASGI middleware inside the body-limit and metrics
middlewares. For ``POST /api/v1/appointments`` with a JSON body it validates
with the same ``BookingIn`` model, seals the name with the same key ring, and
queues the booking for one of a few writer connections. Each writer takes up to
``BATCH`` queued bookings, sorts them by (start, service) so row locks are
taken in one order, and runs them in one transaction with one statement per
booking that does exactly what the sync path
does (``service.book`` + ``idempotency.run_once``): claim the Idempotency-Key
(``INSERT … ON CONFLICT DO NOTHING``), take a place with the conditional
``UPDATE slot_capacity … WHERE booked < capacity``, take the interpreter steps
with the conditional ``UPDATE interpreter_capacity``, insert the appointment.
One COMMIT (one WAL flush) then answers the whole batch; answers are sent only
after it. A deadlock retries the batch.

Anything else — invalid input, unknown office, a time out of range, a full slot
or interpreter, a reused key — gives back what that booking's statement took
(UNDO_SQL, in the same transaction, like a savepoint rollback but one round trip
cheaper; a database error rolls back the whole batch) and hands the untouched
request to the regular FastAPI endpoint, which writes the problem+json answer
(with the nearest free slots) and counts the conflict. So answers, status codes, Idempotency-Key semantics and metrics
are those of the sync path, which stays the only path on SQLite and in tests
bound to a rolled-back connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from safeslot import metrics
from safeslot.config import Environment, Settings
from safeslot.privacy.crypto import KeyRing
from safeslot.scheduling import service
from safeslot.scheduling.idempotency import MAX_KEY_LENGTH, request_hash
from safeslot.scheduling.models import STEP_MINUTES
from safeslot.scheduling.schemas import AppointmentOut, BookingIn

log = logging.getLogger(__name__)

PATH = "/api/v1/appointments"
BATCH = 8  # bookings per transaction
WRITERS = 4  # writer connections
RETRIES = 3  # deadlocks between batches are retried this often, then each booking goes the sync way
# Bench only, and only with SAFESLOT_ENVIRONMENT=demo: store names unsealed to measure what sealing costs.
PLAINTEXT_FLAG = "SAFESLOT_BENCH_PLAINTEXT"

_CLAIM = """
claim AS (
  INSERT INTO idempotency_record (scope, key, request_hash, status_code, body, created_at)
  SELECT 'book', $1::text, $2::text, 201, $3::text, $4::timestamptz WHERE $1::text IS NOT NULL
  ON CONFLICT DO NOTHING RETURNING 1
), take AS (
  UPDATE slot_capacity SET booked = booked + 1
  WHERE office_id = $5 AND service_id = $6 AND starts_at = $7::timestamptz AND booked < capacity
    AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM claim))
  RETURNING id
)"""
_INSERT = """
appt AS (
  INSERT INTO appointment (code, office_id, service_id, slot_id, starts_at, ends_at, status, language,
    name_enc, name_index, accommodation_enc, contact_enc, reminders_opt_in, sequence, created_at, updated_at)
  SELECT $8::text, $5, $6, take.id, $7::timestamptz, $9::timestamptz, 'booked', $10::text,
    $11::bytea, $12::text, $13::bytea, $14::bytea, $15::boolean, 0, $4::timestamptz, $4::timestamptz
  FROM take {where}
  RETURNING 1
)
SELECT (SELECT count(*) FROM claim) AS claimed, (SELECT id FROM take) AS slot_id,
  {interp} AS interp_ids, (SELECT count(*) FROM appt) AS made"""
BOOK_SQL = "WITH" + _CLAIM + "," + _INSERT.format(where="", interp="NULL::int[]")
BOOK_WITH_INTERPRETER_SQL = (
    "WITH" + _CLAIM + """, interp AS (
  UPDATE interpreter_capacity SET booked = booked + 1
  WHERE office_id = $5 AND language = $16::text AND starts_at >= $7::timestamptz AND starts_at < $9::timestamptz
    AND booked < capacity AND EXISTS (SELECT 1 FROM take)
  RETURNING id
),""" + _INSERT.format(
        where="WHERE (SELECT count(*) FROM interp) = $17::int", interp="(SELECT array_agg(id) FROM interp)"
    )
)
REPLAY_SQL = "SELECT status_code, request_hash, body FROM idempotency_record WHERE scope = 'book' AND key = $1"
# A booking that could not complete gives back, in the same transaction (row locks still held), what its
# statement took: as if it had run under a savepoint that was rolled back, one round trip cheaper.
UNDO_SQL = """
WITH s AS (UPDATE slot_capacity SET booked = booked - 1 WHERE id = $1),
i AS (UPDATE interpreter_capacity SET booked = booked - 1 WHERE id = ANY($2::int[])),
c AS (DELETE FROM idempotency_record WHERE $3 AND scope = 'book' AND key = $4::text)
SELECT 1"""


class _Route:
    """What the metrics middleware reads from ``scope["route"]``: the route template."""

    path = PATH


ROUTE = _Route()


@dataclass(slots=True)
class Booking:
    key: str | None
    body_hash: str | None
    answer: bytes
    now: dt.datetime
    office_id: int
    service_id: int
    start: dt.datetime
    end: dt.datetime
    code: str
    language: str | None
    interpreter: str | None
    steps: int
    name_enc: bytes
    name_index: str
    accommodation_enc: bytes | None
    contact_enc: bytes | None
    reminders_opt_in: bool
    done: asyncio.Future[tuple[int, bytes, bool] | None]

    def args(self) -> tuple[Any, ...]:
        base = (
            self.key, self.body_hash, self.answer.decode(), self.now, self.office_id, self.service_id, self.start,
            self.code, self.end, self.language, self.name_enc, self.name_index, self.accommodation_enc,
            self.contact_enc, self.reminders_opt_in,
        )
        return (*base, self.interpreter, self.steps) if self.interpreter else base


def asyncpg_dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class FastBooking:
    """The writer connections, the queue, and the office/service lookups they need."""

    def __init__(self, dsn: str, clock: Callable[[], dt.datetime], ring: KeyRing, *, seal: bool = True) -> None:
        self.dsn = dsn
        self.clock = clock
        self.ring = ring
        self.seal = seal
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Booking] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.lookup: asyncpg.Connection | None = None
        self.lookup_lock = asyncio.Lock()
        self.offices: dict[str, tuple[int, str]] = {}
        self.services: dict[tuple[int, str], tuple[int, int]] = {}

    @property
    def running(self) -> bool:
        return self.loop is not None and asyncio.get_running_loop() is self.loop

    async def start(self) -> None:
        try:
            conns = [await asyncpg.connect(self.dsn) for _ in range(WRITERS + 1)]
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("booking fast path off: cannot connect (%s); bookings take the sync path", type(exc).__name__)
            return
        self.lookup = conns.pop()
        self.loop = asyncio.get_running_loop()
        self.tasks = [asyncio.create_task(self._writer(c)) for c in conns]

    async def stop(self) -> None:
        self.loop = None
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        while not self.queue.empty():
            _settle(self.queue.get_nowait().done, None)
        if self.lookup is not None:
            await self.lookup.close()
            self.lookup = None

    # -- request side -----------------------------------------------------------------------------
    async def _office(self, slug: str) -> tuple[int, str] | None:
        found = self.offices.get(slug)
        if found is None and self.lookup is not None:
            async with self.lookup_lock:
                row = await self.lookup.fetchrow("SELECT id, timezone FROM office WHERE slug = $1", slug)
            if row is not None:
                found = self.offices[slug] = (row["id"], row["timezone"])
        return found

    async def _service(self, office_id: int, slug: str) -> tuple[int, int] | None:
        found = self.services.get((office_id, slug))
        if found is None and self.lookup is not None:
            async with self.lookup_lock:
                row = await self.lookup.fetchrow(
                    "SELECT id, duration_minutes FROM service WHERE office_id = $1 AND slug = $2", office_id, slug
                )
            if row is not None:
                found = self.services[(office_id, slug)] = (row["id"], row["duration_minutes"])
        return found

    async def book(self, body: bytes, key: str | None) -> tuple[int, bytes, bool] | None:
        """(status, answer, replayed), or None: let the sync endpoint answer."""
        try:
            data = BookingIn.model_validate_json(body)
        except ValidationError:
            return None
        if data.contact is not None and not data.reminders_opt_in:
            return None
        office = await self._office(data.office)
        if office is None:
            return None
        svc = await self._service(office[0], data.service)
        if svc is None:
            return None
        now = self.clock()
        if data.starts_at <= now or data.starts_at > now + service.BOOKING_WINDOW:
            return None  # checked before converting, as service.book does: year 9999 must not overflow
        start = data.starts_at.astimezone(dt.UTC)
        tz = service.zone(office[1])
        end = start + dt.timedelta(minutes=svc[1])
        code = service.new_code()
        answer = AppointmentOut(
            code=service.format_code(code), status="booked", office=data.office, service=data.service,
            starts_at=start.astimezone(tz), ends_at=end.astimezone(tz), language=data.language,
            reminders_opt_in=data.reminders_opt_in, sequence=0,
        ).model_dump_json().encode()
        ring = self.ring
        name_index = ring.blind_index(data.name)
        if self.seal:  # under the visit month's data key, as service.book seals
            month = service.data_key_month(start)
            name_enc = ring.seal(data.name, "appointment.name", month)
            accommodation = (
                ring.seal(data.accommodation, "appointment.accommodation", month) if data.accommodation else None
            )
            contact = (
                ring.seal(f"{data.contact.kind.value}:{data.contact.value}", "appointment.contact", month)
                if data.contact else None
            )
        else:  # bench only (PLAINTEXT_FLAG): the same values, unsealed
            name_enc = data.name.encode()
            accommodation = data.accommodation.encode() if data.accommodation else None
            contact = f"{data.contact.kind.value}:{data.contact.value}".encode() if data.contact else None
        done: asyncio.Future[tuple[int, bytes, bool] | None] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(Booking(
            key=key,
            body_hash=request_hash(data.model_dump(mode="json")) if key is not None else None,
            answer=answer, now=now, office_id=office[0], service_id=svc[0], start=start, end=end, code=code,
            language=data.language, interpreter=service._interpreter_language(data.language),
            steps=svc[1] // STEP_MINUTES, name_enc=name_enc, name_index=name_index,
            accommodation_enc=accommodation, contact_enc=contact, reminders_opt_in=data.reminders_opt_in,
            done=done,
        ))
        return await done

    # -- writer side ------------------------------------------------------------------------------
    async def _writer(self, conn: asyncpg.Connection) -> None:
        try:
            while True:
                batch = [await self.queue.get()]
                while len(batch) < BATCH and not self.queue.empty():
                    batch.append(self.queue.get_nowait())
                batch.sort(key=lambda b: (b.start, b.service_id))
                if conn.is_closed():
                    try:
                        conn = await asyncpg.connect(self.dsn)
                    except (OSError, asyncpg.PostgresError):
                        for b in batch:
                            _settle(b.done, None)
                        continue
                await self._commit(conn, batch)
        finally:
            await conn.close()

    async def _commit(self, conn: asyncpg.Connection, batch: list[Booking]) -> None:
        for _ in range(RETRIES):
            try:
                await conn.execute("BEGIN")
                outcomes = [await self._one(conn, b) for b in batch]
                await conn.execute("COMMIT")
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
                await _rollback(conn)
                continue
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("booking batch failed (%s); its bookings take the sync path", type(exc).__name__)
                await _rollback(conn)
                break
            except BaseException:
                await _rollback(conn)
                for b in batch:
                    _settle(b.done, None)
                raise
            for b, outcome in zip(batch, outcomes, strict=True):
                if outcome is not None and not outcome[2]:
                    metrics.BOOKINGS.inc()
                _settle(b.done, outcome)
            return
        for b in batch:
            _settle(b.done, None)

    async def _one(self, conn: asyncpg.Connection, b: Booking) -> tuple[int, bytes, bool] | None:
        # A database error here (a code collision, a deleted office) aborts the batch: _commit rolls it
        # back and every booking in it takes the sync path, so nothing is half-written.
        row = await conn.fetchrow(BOOK_WITH_INTERPRETER_SQL if b.interpreter else BOOK_SQL, *b.args())
        assert row is not None
        if row["made"] == 1:
            return 201, b.answer, False
        if row["slot_id"] is not None or row["claimed"]:
            await conn.execute(UNDO_SQL, row["slot_id"], row["interp_ids"] or [], bool(row["claimed"]), b.key)
        if b.key is not None and row["claimed"] == 0:
            record = await conn.fetchrow(REPLAY_SQL, b.key)
            if record is not None and record["status_code"] and record["request_hash"] == b.body_hash:
                return int(record["status_code"]), str(record["body"]).encode(), True
        return None  # full, missing, or a reused key: the sync path says which, and counts the conflict


def _settle(fut: asyncio.Future[tuple[int, bytes, bool] | None], value: tuple[int, bytes, bool] | None) -> None:
    if not fut.done():
        fut.set_result(value)


async def _rollback(conn: asyncpg.Connection) -> None:
    if not conn.is_closed():
        try:
            await conn.execute("ROLLBACK")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await conn.close()


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
        status, answer, replayed = result
        headers = [(b"content-length", str(len(answer)).encode()), (b"content-type", b"application/json")]
        if replayed:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
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
                await fast.stop()

    app.router.lifespan_context = lifespan
