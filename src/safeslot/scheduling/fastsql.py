"""The booking plan executed by PostgreSQL: the fast path's SQL, one statement per booking.

``BOOK_SQL`` is ``booking.execute`` in one statement: the start open on the
grid, the first free qualified server in the plan's order (re-checked against
the staff table, so a stale cache can never assign someone who left, and against
their working hours and absences, ``ON_DUTY``), an
interpreter when the server does not speak the language, the Idempotency-Key
claim, the appointment, one hold per person per 15-minute unit. The holds'
primary key refuses any double in the database itself. A batch is one pipeline of
BOOK_SQL executions and one Sync, so one round trip and one implicit transaction,
committed at the Sync: its first execution (``lock_row``) books nothing and takes all
the batch's locks (``rules.lock_order``: its offices' staff locks shared, then ``rules.lock_keys``,
ascending; ``$26``), and each booking after it runs under them with a fresh snapshot. So batches
of several workers, and the sync path, which locks the same way, cannot deadlock. ``bench/booking.py`` runs these very
statements under pgbench as its baseline. ``lost`` and ``idle``: whether an error at a batch took its
connection, and bringing the connection out of a failed batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from safeslot.kit import metrics
from safeslot.scheduling.assignment import Candidates
from safeslot.scheduling.plan import BookingPlan
from safeslot.scheduling.rules import lock_order, office_of_lock

# booking.execute in one statement: the start open on the grid, the first free qualified server in the
# plan's order (re-checked against the staff table), an interpreter when the server does not speak the
# language, the Idempotency-Key claim, the appointment, one hold per person per unit.
BOOK_SQL = """
WITH locked AS (
  SELECT count(CASE WHEN k < 0 THEN pg_advisory_xact_lock(-k) WHEN k >= 2305843009213693952
    THEN pg_advisory_xact_lock_shared(k - 2305843009213693952) WHEN k & 1048575 = 0 THEN pg_advisory_xact_lock_shared(k)
    ELSE pg_advisory_xact_lock(k) END) AS n
  FROM unnest($26::text::bigint[]) AS k
), slot AS (
  SELECT id, booked < capacity AS open FROM slot_capacity WHERE service_id = $3 AND starts_at = $4
), live AS (
  SELECT c.id, c.speaks, c.ord
  FROM unnest($6::text::int[], $7::text::bool[]) WITH ORDINALITY AS c(id, speaks, ord)
  JOIN staff s ON s.id = c.id AND s.office_id = $2 AND s.active
    AND strpos(' ' || s.services || ' ', ' ' || $20::text || ' ') > 0
    AND (NOT c.speaks OR $8::text IS NULL OR strpos(' ' || s.languages || ' ', ' ' || $8::text || ' ') > 0)
    AND {on_duty}
  WHERE NOT EXISTS (SELECT 1 FROM staff_hold h WHERE h.staff_id = c.id AND h.starts_at >= $4 AND h.starts_at < $5)
), interp AS (
  SELECT c.id FROM unnest($9::text::int[]) WITH ORDINALITY AS c(id, ord)
  JOIN staff s ON s.id = c.id AND s.office_id = $2 AND s.active
    AND strpos(' ' || s.languages || ' ', ' ' || $8::text || ' ') > 0
    AND {on_duty}
  WHERE NOT EXISTS (SELECT 1 FROM staff_hold h WHERE h.staff_id = c.id AND h.starts_at >= $4 AND h.starts_at < $5)
  ORDER BY c.ord LIMIT 1
), pick AS (
  SELECT slot.id AS slot_id, l.id AS staff_id,
    CASE WHEN l.speaks THEN NULL ELSE (SELECT id FROM interp) END AS interp_id
  FROM slot, live l
  WHERE slot.open AND (l.speaks OR EXISTS (SELECT 1 FROM interp)) AND NOT $27::boolean
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
  r.request_hash AS prior_hash, r.status_code AS prior_status, r.body AS prior_body, (SELECT n FROM locked) AS locked
FROM (SELECT 1) AS one LEFT JOIN idempotency_record r ON r.scope = 'book' AND r.key = $1::text"""
# The person works during the visit (duty.py; the same test as repository.off_duty): their own hours, when they
# keep some, hold the whole visit in one window of its weekday ($23, local $24-$25; $25 NULL when the visit
# crosses midnight), and no absence covers its local day ($22). Read from the tables, never from the cache, so
# a stale cache can never assign someone outside their hours.
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
# repository.held_masks: per unit, the sum of the candidates' bits held then (one row per unit, not per hold)
MASKS_SQL = """
SELECT h.starts_at, sum(b.bit)::bigint AS held
FROM staff_hold h JOIN unnest($4::int[], $5::bigint[]) AS b(id, bit) ON h.staff_id = b.id
WHERE h.office_id = $1 AND h.starts_at >= $2 AND h.starts_at < $3
GROUP BY h.starts_at"""


def arrays(c: Candidates) -> tuple[str, str, str]:
    """The plan's servers, whether each speaks, and interpreters as PostgreSQL array literals ($6, $7, $9):
    made once per office cache, they cost the driver nothing per booking (a list is encoded item by item)."""
    return ("{" + ",".join(map(str, c.servers)) + "}", "{" + ",".join("t" if s else "f" for s in c.speaks) + "}",
            "{" + ",".join(map(str, c.interpreters)) + "}")


@dataclass(slots=True)
class Booking:
    plan: BookingPlan
    arrays: tuple[str, str, str]  # arrays(plan.candidates)
    key: str | None
    body_hash: str | None
    answer: str
    done: asyncio.Future[tuple[str, Any] | None]
    deadline: float = 0.0  # loop time after which the watchdog answers 503 (fastpath.REQUEST_TIMEOUT)
    abandoned: bool = False
    probe: bool = False  # a start just found full: refuse under shared hour locks, or "retry" ($27, batch_keys)

    def args(self) -> tuple[Any, ...]:
        p, c = self.plan, self.plan.candidates
        servers, speaks, interpreters = self.arrays
        return (
            self.key, p.office.id, p.service.id, p.start, p.end, servers, speaks, c.language,
            interpreters, self.body_hash, self.answer, p.now, p.code, p.language, p.name_enc, p.name_index,
            p.accommodation_enc, p.contact_enc, p.reminders_opt_in, p.service.slug, list(p.units),
            p.local.day, p.local.weekday, p.local.start, p.local.end if p.local.same_day else None, "{}",
            self.probe,
        )


def outcome(b: Booking, row: Any) -> tuple[str, Any] | None:
    """What BOOK_SQL's row means for this booking: ("made"), ("replay", (status, body)), ("refused", why),
    or None when the sync path must answer (it words what the fast path does not decide)."""
    if row["made"] is not None:
        metrics.BOOKINGS.inc()
        return "made", None
    if b.key is not None and row["prior_hash"] is not None:
        if row["prior_hash"] == b.body_hash and row["prior_status"]:
            return "replay", (int(row["prior_status"]), str(row["prior_body"]).encode())
        return None  # the key was used for another body: the sync path says so
    if not row["slot_exists"] or (b.key is not None and row["picked"]):
        return None  # not on the grid (the sync path lists times), or a claim still in flight elsewhere
    if b.probe and row["open"] and row["any_server"]:
        return "retry", None  # not full after all: book it in a later batch, under its exclusive locks
    if not row["open"] or not row["any_server"]:
        return "refused", "slot"
    return "refused", "interpreter"


# $26: a key plus this is an hour lock taken shared (a batch's probes only: refusals do not queue on each other)
SHARED_HOUR = 1 << 61


def batch_keys(bookings: Iterable[Booking]) -> list[int]:
    """Every lock of a batch in the order taken (``rules.lock_order``, as ``repository.take_locks``): the
    offices' staff locks, shared (an office lock exclusive past ``MAX_HOUR_LOCKS`` hours is given negated),
    then the hour locks, ascending — exclusive, except an hour only probes need (``Booking.probe``: starts
    just found full, which this batch can only refuse), given plus ``SHARED_HOUR`` and taken shared."""
    live = list(bookings)
    booking = {k for b in live if not b.probe for k in b.plan.lock_keys}
    keys = []
    for key, exclusive in lock_order(k for b in live for k in b.plan.lock_keys):
        if key == office_of_lock(key):
            keys.append(-key if exclusive else key)
        else:
            keys.append(key if key in booking else key + SHARED_HOUR)
    return keys


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NO_BOOKING: tuple[Any, ...] = (
    None, 0, 0, _EPOCH, _EPOCH, "{}", "{}", None, "{}", None, "", _EPOCH, "", None, b"", "", None, None, False, "", [],
    _EPOCH.date(), 0, _EPOCH.time(), None,
)


def lock_row(bookings: Iterable[Booking]) -> tuple[Any, ...]:
    """The arguments of a batch's first BOOK_SQL: no booking (service 0 has no start), only the batch's
    locks ($26; an office staff lock is the key with hour 0, ``rules.office_lock_key``), so that the
    bookings after it in the same pipeline run under them, each with a fresh snapshot."""
    return (*_NO_BOOKING, "{" + ",".join(map(str, batch_keys(bookings))) + "}", False)


def lost(exc: BaseException, conn: asyncpg.Connection) -> bool:
    """Did this error at a batch take the connection with it (so the outcome of the batch is unknown)?"""
    return conn.is_closed() or not isinstance(exc, asyncpg.PostgresError) or isinstance(
        exc, (asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError, asyncpg.CannotConnectNowError))


async def idle(conn: asyncpg.Connection, timeout: float) -> bool:
    """Out of any transaction (a batch that failed was rolled back at its Sync); False when the connection is
    gone or cannot be brought back within ``timeout`` seconds."""
    if conn.is_closed():
        return False
    if not conn.is_in_transaction():
        return True
    try:
        async with asyncio.timeout(timeout):
            await conn.execute("ROLLBACK")
    except Exception:
        return False
    return True
