"""scheduling: every staff_hold statement locks in the one global order, whatever its size (PostgreSQL)

0482 let a ``staff_hold`` statement over more than 64 (office, hour) pairs bump its hours without
taking any lock. Such a statement ran beside bookings unordered: a booking holding its hour locks
could pick a person the bulk statement had just held (uncommitted, so unseen) and then wait on the
holds' primary key for it, or the two could wait on each other's rows (a deadlock), and the
booking would fail instead of picking someone else.

The trigger now follows ``rules.lock_order``, the order every writer takes its locks in before it
writes (``repository.take_locks``, the fast path's lock row):

- each office the statement touched, ascending: its staff lock (``rules.office_lock_key``) shared,
  or, when the statement touched more than 64 of that office's hours, exclusive — taken only if the
  transaction can have it at once (``pg_try_advisory_xact_lock``: it holds it already, as a writer
  that called ``take_locks`` over those hours does, or no booking is in flight at the office);
  otherwise the statement is refused (SQLSTATE 55P03, lock_not_available) rather than left to wait
  on bookings that may be waiting on its rows. Every assignment takes its office's lock shared
  before anything else, so an exclusive holder never runs beside one;
- then the hour locks of the offices taken shared, ascending, as before.

A writer that locked first never waits here (it holds them all); the shared office lock is new for
writers that lock only here (a visit's status change), and keeps them in the same order. SQLite is
unchanged (one writer at a time).

Revision ID: 0520_hold_lock_order
Revises: 0482_availability_bulk
"""

from __future__ import annotations

from alembic import op

revision = "0520_hold_lock_order"
down_revision = "0482_availability_bulk"
branch_labels = None
depends_on = None

LOCK_NAMESPACE = 0x5A5  # rules.LOCK_NAMESPACE
MAX_HOUR_LOCKS = 64  # rules.MAX_HOUR_LOCKS

# the (office, UTC hour) pairs a statement touched, ascending (as 0481 and 0482)
_PAIRS = """
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(o ORDER BY o, h), array_agg(h ORDER BY o, h) INTO offices, hours FROM (
            SELECT DISTINCT office_id::bigint AS o, floor(extract(epoch FROM starts_at) / 3600)::bigint AS h
            FROM new_rows) s;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o ORDER BY o, h), array_agg(h ORDER BY o, h) INTO offices, hours FROM (
            SELECT DISTINCT office_id::bigint AS o, floor(extract(epoch FROM starts_at) / 3600)::bigint AS h
            FROM old_rows) s;
    ELSE
        SELECT array_agg(o ORDER BY o, h), array_agg(h ORDER BY o, h) INTO offices, hours FROM (
            SELECT office_id::bigint AS o, floor(extract(epoch FROM starts_at) / 3600)::bigint AS h FROM new_rows
            UNION
            SELECT office_id::bigint, floor(extract(epoch FROM starts_at) / 3600)::bigint FROM old_rows) s;
    END IF;
    IF offices IS NULL THEN
        RETURN NULL;
    END IF;"""

_BUMP = """
    INSERT INTO availability_hour (office_id, hour, version)
    SELECT o, h, 1 FROM unnest(offices, hours) AS t(o, h)
    ON CONFLICT (office_id, hour) DO UPDATE SET version = availability_hour.version + 1;
    RETURN NULL;
END $$"""

ORDERED = f"""
CREATE OR REPLACE FUNCTION availability_holds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offices bigint[];
    hours bigint[];
    whole bigint[] := '{{}}';  -- offices taken exclusively: their hour locks are not needed
    office bigint;
    touched bigint;
    key bigint;
BEGIN
    -- each (office, UTC hour) the statement touched, in the ascending order of its assignment lock{_PAIRS}
    FOR office, touched IN SELECT t.o, count(*) FROM unnest(offices) AS t(o) GROUP BY t.o ORDER BY t.o LOOP
        key := ({LOCK_NAMESPACE}::bigint << 48) | ((office & 268435455) << 20);  -- rules.office_lock_key
        IF touched > {MAX_HOUR_LOCKS} THEN
            IF NOT pg_try_advisory_xact_lock(key) THEN
                RAISE EXCEPTION 'a staff_hold statement over % hours of office % needs the office''s staff lock '
                    'exclusively (repository.take_locks over its hours takes it first)', touched, office
                    USING ERRCODE = 'lock_not_available';
            END IF;
            whole := whole || office;
        ELSE
            PERFORM pg_advisory_xact_lock_shared(key);
        END IF;
    END LOOP;
    FOR i IN 1 .. array_length(offices, 1) LOOP
        IF NOT offices[i] = ANY (whole) THEN
            PERFORM pg_advisory_xact_lock(({LOCK_NAMESPACE}::bigint << 48) | ((offices[i] & 268435455) << 20)
                                          | (hours[i] & 1048575));
        END IF;
    END LOOP;{_BUMP}
"""

# 0482's function, restored by downgrade
BULK_UNLOCKED = f"""
CREATE OR REPLACE FUNCTION availability_holds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offices bigint[];
    hours bigint[];
BEGIN
    -- each (office, UTC hour) the statement touched, in the ascending order of its assignment lock{_PAIRS}
    IF array_length(offices, 1) <= {MAX_HOUR_LOCKS} THEN  -- a visit's few hours; not a bulk statement's
        FOR i IN 1 .. array_length(offices, 1) LOOP
            PERFORM pg_advisory_xact_lock(({LOCK_NAMESPACE}::bigint << 48) | ((offices[i] & 268435455) << 20)
                                          | (hours[i] & 1048575));
        END LOOP;
    END IF;{_BUMP}
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ORDERED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BULK_UNLOCKED)
