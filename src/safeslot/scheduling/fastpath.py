"""The booking fast path on PostgreSQL: asyncpg writers with group commit, and the look-ups they need.

Why: a booking is one short write transaction, and on a small machine the application's CPU per request decides
throughput, because it is taken from PostgreSQL on the same cores (docs/performance.md). This module (of four:
``fastfront``, the ASGI front and ``install``; ``fastlookup``, the look-up connection and its caches;
``fastsql``, the SQL): ``FastBooking.book`` validates the body with the same ``BookingIn`` model and makes the
same booking plan (``plan.plan_booking``); the writers execute the plans; healing.

Group commit: each writer takes up to ``BATCH`` queued plans and sends them as one pipeline (one round trip, one
implicit transaction committed at its Sync): a first statement that takes all their locks in ascending order,
then one statement per booking; answers go out after the commit. A deadlock (none expected) is counted.

Refusals of a full start (no free person, or no interpreter) are answered here too. A start refused in the
last ``FULL_MEMO`` s is probed: its hour lock shared, no one booked, so refusals of one start do not queue on
each other. Probes have a queue and a connection of their own (the prober): a batch of probes writes nothing,
so its commit waits for no disk, and a refusal no longer waits for the commit of bookings it happened to share
a batch with. The shared hour lock still makes a probe read the start after any booking of that hour in flight
has committed. A start a probe finds free goes to the writers' queue as a booking; without the prober's
connection, probes go to the writers, and a batch of probes that lost its connection (it wrote nothing) is
queued again for them instead of being answered 503. The nearest free times of a refusal are computed by the
same pure search as the sync path (``slots.free_starts``, cached ``fastlookup.NEAREST_TTL`` s per start). What
the fast path does not decide — invalid input, unknown office, a time not on the grid, a reused Idempotency-Key,
a database error other than a lost connection — goes untouched to the regular FastAPI endpoint.

Healing: writers and the look-up connection reconnect with backoff. While no writer is connected, or when a
batch's connection is lost (even at COMMIT), the affected requests get 503 problem+json with ``Retry-After`` at
once. No request waits more than ``REQUEST_TIMEOUT`` (plus ``WATCH_EVERY``) in all: one deadline, set when it
comes, bounds its look-ups (a timer only when it must wait for one), its place in the queue (the watchdog) and
its refusal's nearest times. A booking answered 503 may have been committed (a COMMIT cut off mid-way): a retry
with the same Idempotency-Key replays it, so nothing acknowledged is lost or doubled. ``/healthz`` shows the
writers; a connection closed from the other end is seen at once (``_cut``), even while its writer is idle.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from pydantic import ValidationError

from safeslot.kit import metrics
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import DomainError, problem_body, status_for
from safeslot.scheduling.errors import BookingUnavailable
from safeslot.scheduling.fastlookup import CONNECT_TIMEOUT, LookupFailed, Lookups
from safeslot.scheduling.fastsql import BOOK_SQL, Booking, idle, lock_row, lost, outcome
from safeslot.scheduling.idempotency import request_hash
from safeslot.scheduling.plan import interpreter_unavailable, plan_booking, slot_full
from safeslot.scheduling.rules import new_code
from safeslot.scheduling.schemas import BookingIn

log = logging.getLogger(__name__)

PATH = "/api/v1/appointments"
BATCH = 8  # bookings per transaction
WRITERS = 4  # writer connections of a server, shared out among its processes (writers_per_process)
RETRIES = 3  # deadlocks (none expected: one lock order) retry the batch this often (counted), then the sync path
REQUEST_TIMEOUT = 4.9  # a booking waits this long for its writer, then 503 (checked every WATCH_EVERY: < 5 s)
WATCH_EVERY = 0.1
COMMIT_TIMEOUT = 4.0  # a batch (locks, statements, COMMIT) that takes longer is treated as a lost connection
BACKOFF = (0.05, 2.0)  # reconnect delays: first, and the most it doubles to
RETRY_AFTER = b"1"
# application_name of the connections, as pg_stat_activity shows them
WRITER_NAME, PROBER_NAME = "safeslot booking writer", "safeslot booking prober"
# A start refused as full is "probed" for this long by this process: its refusals take the hour's lock shared
# and book no one (a start found free again goes back to the queue as a booking). Refusals of one full start
# then no longer queue on each other's exclusive lock (docs/performance.md, "Booking": 27 Nov 2026, late).
FULL_MEMO = 1.0
# Bench only, and only with SAFESLOT_ENVIRONMENT=demo: store names unsealed to measure what sealing costs.
PLAINTEXT_FLAG = "SAFESLOT_BENCH_PLAINTEXT"

# (status, body, extra headers); None: let the sync endpoint answer
Result = tuple[int, bytes, list[tuple[bytes, bytes]]]
JSON_TYPE = (b"content-type", b"application/json")
PROBLEM_TYPE = (b"content-type", b"application/problem+json")


def writers_per_process(workers: int) -> int:
    """A server's WRITERS shared out among its worker processes (at least one each).

    Group commit is what makes a booking cheap: a writer takes what queued while the one before it committed.
    With 4 writers in each of 2 processes, 8 transactions ran side by side on 2 cores and each carried fewer
    bookings; 2 writers each kept the batches of one process (docs/performance.md, "Probes on a connection of
    their own, writers shared out")."""
    return max(1, WRITERS // max(1, workers))


def _problem(exc: DomainError, extra_headers: list[tuple[bytes, bytes]] | None = None) -> Result:
    body = problem_body(status_for(exc), exc.slug, exc.title, exc.detail, PATH, **exc.extra)
    return status_for(exc), body, [PROBLEM_TYPE, (b"cache-control", b"no-store"), *(extra_headers or [])]


def unavailable() -> Result:
    return _problem(
        BookingUnavailable("Bookings cannot be written just now. Send the same request again in a second, "
                           "with the same Idempotency-Key: a booking is never made twice."),
        [(b"retry-after", RETRY_AFTER)],
    )


class FastBooking:
    """The writer connections, the queue, and the office/service/staff look-ups they need."""

    def __init__(self, dsn: str, clock: Callable[[], dt.datetime], ring: KeyRing, *, seal: bool = True,
                 writers: int = WRITERS) -> None:
        self.dsn = dsn
        self.writers = writers
        self.clock = clock
        self.ring = ring
        self.seal = seal
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Booking] = asyncio.Queue()
        self.probes: asyncio.Queue[Booking] = asyncio.Queue()  # starts just found full (Booking.probe)
        self.tasks: list[asyncio.Task[None]] = []
        self.watchdog: asyncio.Task[None] | None = None
        self.waiting: collections.deque[Booking] = collections.deque()  # in deadline order, for the watchdog
        self.connected: list[bool] = [False] * (writers + 1)  # the writers, then the prober
        self.conns: list[asyncpg.Connection | None] = [None] * (writers + 1)
        self.idle: list[bool] = [False] * (writers + 1)  # waiting for a batch
        self.lookups = Lookups(dsn, clock)
        self.answered = 0  # bookings and refusals answered here (not handed to the sync endpoint)
        self.probed = 0  # probes run on the prober's connection
        self.deadlock_retries = 0  # batches run again after a deadlock (or serialization failure): /healthz, /metrics
        self.full: dict[tuple[int, dt.datetime], float] = {}  # (service, start) -> loop time last refused full

    @property
    def running(self) -> bool:
        return self.loop is not None and asyncio.get_running_loop() is self.loop

    def health(self) -> dict[str, int]:
        return {"writers": self.writers, "connected": sum(self.connected[:self.writers]), "queued": self.queue.qsize(),
                "prober": int(self.connected[self.writers]), "probes_queued": self.probes.qsize(),
                "deadlock_retries": self.deadlock_retries}

    def _writing(self) -> bool:
        """Is any writer connected (the prober alone cannot book)?"""
        return any(self.connected[:self.writers])

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue, self.probes = asyncio.Queue(), asyncio.Queue()
        self.waiting = collections.deque()
        self.lookups.start()
        self.tasks = [asyncio.create_task(self._writer(i, self.queue)) for i in range(self.writers)]
        self.tasks.append(asyncio.create_task(self._writer(self.writers, self.probes)))
        self.watchdog = asyncio.create_task(self._watch())
        # Wait briefly for the first connections, so a fresh server books at once; a database that is
        # away is not fatal: the writers keep trying, and bookings get 503 until one connects.
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not self._writing() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.loop = None
        everything = [*self.tasks, *([self.watchdog] if self.watchdog is not None else [])]
        for task in everything:
            task.cancel()
        await asyncio.gather(*everything, return_exceptions=True)
        self.tasks, self.watchdog = [], None
        self._fail_queued(None)
        self.lookups.close()

    # -- request side -------------------------------------------------------------------------------
    async def book(self, body: bytes, key: str | None) -> Result | None:
        try:
            data = BookingIn.model_validate_json(body)
        except ValidationError:
            return None
        if not self._writing():
            return unavailable()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REQUEST_TIMEOUT  # of the whole request: look-ups, the writer, nearest times
        office = self.lookups.fresh(data.office)
        waited = office is None
        if waited:  # the facts must be read (stale, or never read): only then a timer
            try:
                async with asyncio.timeout_at(deadline):
                    office = await self.lookups.office(data.office)
            except (LookupFailed, TimeoutError):
                return unavailable()
        service = office.services.get(data.service) if office is not None else None
        if office is None or service is None:
            return None
        prepared, literals = office.candidates(service.slug, data.language)
        try:
            plan = plan_booking(data, office.facts, service, office.people, self.clock(), new_code(), self.ring,
                                seal=self.seal, prepared=prepared)
        except DomainError:
            return None  # the sync path answers with the same rule's words
        answer = plan.answer
        done: asyncio.Future[tuple[str, Any] | None] = loop.create_future()
        now = loop.time()
        booking = Booking(plan=plan, arrays=literals, key=key, answer=answer.decode(), done=done,
                          body_hash=request_hash(data.model_dump(mode="json")) if key is not None else None,
                          deadline=deadline,
                          probe=self.full.get((service.id, plan.start), -FULL_MEMO) > now - FULL_MEMO)
        prober = booking.probe and self.connected[self.writers]
        (self.probes if prober else self.queue).put_nowait(booking)
        if waited:  # queued after requests that came later: its own timer, not the watchdog's deadline order
            try:
                async with asyncio.timeout_at(deadline):
                    outcome = await done
            except TimeoutError:
                booking.abandoned = True  # a writer that has not started it skips it
                return unavailable()
        else:
            self.waiting.append(booking)
            outcome = await done  # the watchdog settles it as unavailable at its deadline
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
            async with asyncio.timeout_at(deadline):
                near = await self.lookups.nearest(plan, office.duties)
        except (LookupFailed, TimeoutError):
            return unavailable()
        metrics.CONFLICTS.labels(value).inc()
        if value == "interpreter" and plan.candidates.language is not None:
            return _problem(interpreter_unavailable(plan.candidates.language, near))
        return _problem(slot_full(near))

    async def _watch(self) -> None:
        """Answer 503 to every booking still waiting at its deadline (REQUEST_TIMEOUT after its request came).

        One task for all requests, instead of a timer per request: bookings are queued in deadline order, so
        the oldest is checked first and each is looked at once or twice. A writer that has not started an
        abandoned booking skips it; one that has finishes it (a retry with the same key replays it)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_EVERY)
            now = loop.time()
            while self.waiting and (self.waiting[0].done.done() or self.waiting[0].deadline <= now):
                booking = self.waiting.popleft()
                if not booking.done.done():
                    booking.abandoned = True
                    _settle(booking.done, ("unavailable", None))

    # -- writer side --------------------------------------------------------------------------------
    def _fail_queued(self, value: tuple[str, Any] | None) -> None:
        for queue in (self.queue, self.probes):
            while not queue.empty():
                _settle(queue.get_nowait().done, value)

    def _disconnected(self, index: int) -> None:
        """A writer or the prober has no connection: with no writer left, every queued request is answered 503;
        without the prober, the probes queued for it go to the writers (who probe as before)."""
        if not self._writing():
            self._fail_queued(("unavailable", None))
        elif index == self.writers:
            while not self.probes.empty():
                self.queue.put_nowait(self.probes.get_nowait())

    async def _writer(self, index: int, queue: asyncio.Queue[Booking]) -> None:
        """A writer (index < self.writers, on the bookings' queue) or the prober (on the probes' queue)."""
        conn: Any = None  # an asyncpg.Connection
        delay = BACKOFF[0]
        try:
            while True:
                if conn is None:
                    try:
                        conn = await asyncio.wait_for(asyncpg.connect(self.dsn, server_settings={
                            "application_name": PROBER_NAME if index == self.writers else WRITER_NAME,
                        }), CONNECT_TIMEOUT)
                    except Exception as exc:  # any failure to connect: try again later
                        self._disconnected(index)
                        log.warning("booking writer %d cannot connect (%s); retrying in %.2f s",
                                    index, type(exc).__name__, delay)
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, BACKOFF[1])
                        continue
                    delay = BACKOFF[0]
                    self.conns[index] = conn
                    conn.add_termination_listener(lambda _, c=conn: self._cut(index, c))
                    self.connected[index] = True
                self.idle[index] = True
                try:
                    batch = [await queue.get()]
                except asyncio.CancelledError:
                    if self.loop is None or not conn.is_closed():
                        raise
                    task = asyncio.current_task()  # woken by _cut: the batch-less wait ends, to reconnect
                    assert task is not None
                    task.uncancel()
                    self.conns[index] = conn = None
                    continue
                finally:
                    self.idle[index] = False
                while len(batch) < BATCH and not queue.empty():
                    batch.append(queue.get_nowait())
                self.probed += len(batch) if index == self.writers else 0
                if not await self._commit(conn, batch):
                    self.connected[index] = False
                    self.conns[index] = None
                    conn.terminate()
                    conn = None
                    self._disconnected(index)
        finally:
            self.connected[index] = False
            self.conns[index] = None
            if conn is not None:
                conn.terminate()

    def _cut(self, index: int, conn: asyncpg.Connection) -> None:
        """A writer's connection closed from the other end (the server went, the network was cut): seen at once,
        not at its next batch — /healthz says so, and with no writer left bookings get 503 — and a writer waiting
        for a batch is woken to reconnect."""
        if self.conns[index] is not conn or self.loop is None:
            return  # the writer closed it itself
        self.connected[index] = False
        self._disconnected(index)
        if self.idle[index]:
            self.tasks[index].cancel()

    async def _commit(self, conn: asyncpg.Connection, batch: list[Booking]) -> bool:
        """Run a batch in one transaction and settle every booking in it; False if the connection was lost."""
        live = sorted((b for b in batch if not b.abandoned),
                      key=lambda b: (b.plan.lock_keys, b.plan.start, b.plan.service.id))
        for b in batch:
            if b.abandoned:
                _settle(b.done, None)
        if not live:
            return True
        # The lock row, then one statement per booking, in order, pipelined: one round trip, one Sync, and
        # no BEGIN or COMMIT: the pipeline is one implicit transaction, committed at the Sync (rolled back
        # there when a statement fails). Each statement still sees the holds of the ones before it.
        args = [lock_row(live), *(b.args() for b in live)]
        for _ in range(RETRIES):
            try:
                async with asyncio.timeout(COMMIT_TIMEOUT):
                    rows = (await conn.fetchmany(BOOK_SQL, args))[1:]
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as exc:
                self.deadlock_retries += 1
                metrics.BATCH_RETRIES.labels(type(exc).__name__).inc()
                if conn.is_closed():
                    break
                continue  # the Sync rolled the batch back: run it again
            except asyncio.CancelledError:
                for b in live:
                    _settle(b.done, ("unavailable", None))
                raise
            except Exception as exc:  # every database or driver error, at any statement
                if lost(exc, conn) or not await idle(conn, CONNECT_TIMEOUT):
                    if all(b.probe for b in live):  # probes write nothing: send them again, to the writers
                        log.warning("probe batch lost its connection (%s); probes queued again", type(exc).__name__)
                        for b in live:
                            self.queue.put_nowait(b)
                        return False
                    log.warning("booking batch lost its connection (%s); answered 503", type(exc).__name__)
                    for b in live:
                        _settle(b.done, ("unavailable", None))
                    return False
                log.warning("booking batch failed (%s); its bookings take the sync path", type(exc).__name__)
                for b in live:
                    _settle(b.done, None)
                return True
            self._settle_batch(live, rows)
            return True
        for b in live:
            _settle(b.done, None)
        return not conn.is_closed()

    def _settle_batch(self, live: list[Booking], rows: list[Any]) -> None:
        """Answer a committed batch; remember the starts found full; send probes of a start found free again
        back to the queue as bookings (their deadline unchanged)."""
        now = asyncio.get_running_loop().time()
        if len(self.full) > 10_000:  # starts of the last second, not of the day
            self.full = {k: t for k, t in self.full.items() if t > now - FULL_MEMO}
        for b, row in zip(live, rows, strict=True):
            result = outcome(b, row)
            start = (b.plan.service.id, b.plan.start)
            if result == ("refused", "slot"):
                self.full[start] = now
            elif result is not None and result[0] == "made":
                self.full.pop(start, None)
            if result == ("retry", None):
                self.full.pop(start, None)
                b.probe = False
                self.queue.put_nowait(b)
                continue
            _settle(b.done, result)


def _settle(fut: asyncio.Future[tuple[str, Any] | None], value: tuple[str, Any] | None) -> None:
    if not fut.done():
        fut.set_result(value)

