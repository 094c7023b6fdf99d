"""scheduling: the appointment trigger's locks stay few however many visits a transaction writes (PostgreSQL)

0540's trigger takes each visit's hour locks, row by row: a transaction writing visits over thousands of
hours of one office (an import, a bench's set-up) would hold that many advisory locks and could fill
PostgreSQL's shared lock table. It now counts, per office and transaction (a transaction-local setting),
the hour locks it took; past ``rules.MAX_HOUR_LOCKS`` (64) it takes the office's staff lock exclusively
instead, as ``rules.lock_order`` and the staff_hold trigger (0520) do — only if the transaction can have it
at once (it holds it already, as a staff change does, or no booking is in flight at the office), otherwise the
write is refused with SQLSTATE 55P03 (lock_not_available) rather than left to wait on bookings that may be
waiting on it. A transaction of the app never gets there: a booking batch touches at most 8 visits' hours,
and a staff change holds its office exclusively from the start. SQLite is unchanged (one writer at a time).

Revision ID: 0541_visit_check_lock_bound
Revises: 0540_one_visit_at_a_time
"""

from __future__ import annotations

from alembic import op

revision = "0541_visit_check_lock_bound"
down_revision = "0540_one_visit_at_a_time"
branch_labels = None
depends_on = None

LOCK_NAMESPACE = 0x5A5  # rules.LOCK_NAMESPACE
MAX_HOUR_LOCKS = 64  # rules.MAX_HOUR_LOCKS
HOLDING = "('booked', 'checked-in')"  # rules.HOLDING
MESSAGES = {
    "same": "appointment: one person cannot serve and interpret the same visit",
    "length": "appointment: a visit lasts more than nothing and less than a day",
    "overlap": "appointment: a person of this visit is already in another visit at that time",
}


def _function(locks: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION appointment_one_visit_at_a_time() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    base bigint := ({LOCK_NAMESPACE}::bigint << 48) | ((NEW.office_id::bigint & 268435455) << 20);
    first_hour bigint := floor(extract(epoch FROM NEW.starts_at) / 3600)::bigint;
    last_hour bigint := floor((extract(epoch FROM NEW.ends_at) - 1) / 3600)::bigint;
    counted text := 'safeslot.visit_hour_locks_' || NEW.office_id;
    taken bigint;
BEGIN
    IF NEW.staff_id = NEW.interpreter_id THEN
        RAISE EXCEPTION '{MESSAGES["same"]}' USING ERRCODE = 'exclusion_violation';
    END IF;
    IF NOT (NEW.ends_at > NEW.starts_at AND NEW.ends_at < NEW.starts_at + interval '1 day') THEN
        RAISE EXCEPTION '{MESSAGES["length"]}' USING ERRCODE = 'check_violation';
    END IF;{locks}
    IF EXISTS (SELECT 1 FROM appointment o
               WHERE o.office_id = NEW.office_id AND o.starts_at > NEW.starts_at - interval '1 day'
                 AND o.starts_at < NEW.ends_at AND o.ends_at > NEW.starts_at AND o.id <> NEW.id
                 AND o.status IN {HOLDING}
                 AND (o.staff_id IN (NEW.staff_id, NEW.interpreter_id)
                      OR o.interpreter_id IN (NEW.staff_id, NEW.interpreter_id))) THEN
        RAISE EXCEPTION '{MESSAGES["overlap"]}' USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END $$"""


# rules.lock_order for this visit: its office's staff lock shared, then its hour locks ascending; once the
# transaction has taken more than MAX_HOUR_LOCKS of the office's hour locks here, the office's lock exclusively
# instead (-1 in the transaction-local count: nothing more to take for that office)
BOUNDED = f"""
    taken := coalesce(nullif(current_setting(counted, true), ''), '0')::bigint;
    IF taken >= 0 THEN
        IF taken + (last_hour - first_hour + 1) > {MAX_HOUR_LOCKS} THEN
            IF NOT pg_try_advisory_xact_lock(base) THEN
                RAISE EXCEPTION 'appointments over more than % hours of office % in one transaction need the '
                    'office''s staff lock exclusively (repository.take_locks over its hours takes it first)',
                    {MAX_HOUR_LOCKS}, NEW.office_id USING ERRCODE = 'lock_not_available';
            END IF;
            PERFORM set_config(counted, '-1', true);
        ELSE
            PERFORM pg_advisory_xact_lock_shared(base);
            PERFORM pg_advisory_xact_lock(base | (h & 1048575)) FROM generate_series(first_hour, last_hour) AS h;
            PERFORM set_config(counted, (taken + last_hour - first_hour + 1)::text, true);
        END IF;
    END IF;"""

# 0540's, restored by downgrade
UNBOUNDED = """
    -- rules.lock_order for this visit: its office's staff lock shared, then its hour locks ascending
    PERFORM pg_advisory_xact_lock_shared(base);
    PERFORM pg_advisory_xact_lock(base | (h & 1048575))
    FROM generate_series(floor(extract(epoch FROM NEW.starts_at) / 3600)::bigint,
                         floor((extract(epoch FROM NEW.ends_at) - 1) / 3600)::bigint) AS h ORDER BY h;"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(BOUNDED))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(UNBOUNDED))
