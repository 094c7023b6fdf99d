"""scheduling: the one-visit-at-a-time check looks a person up, not the office's whole day (both databases)

0540's check found another visit of the same person by reading the office's visits of the last day on
``ix_appointment_office_start`` and filtering them by person: an office of 40 staff books about 1,300 visits
a day, so every booking read hundreds of rows to find none. The booking bench's batched pgbench (the app's own
statements) fell from 4,557 to 3,139-3,476 bookings/s with it. Each visit's people are now looked up on an
index of their own — ``(staff_id, starts_at)`` and ``(interpreter_id, starts_at)`` — four probes of a day's
range of one person (a person serves at most a few dozen visits a day), with the same conditions as before but
the office's: a person is in one place at a time whatever the office (a staff row belongs to one office, so
for the app's rows nothing changes; the visit's locks are still its office's, taken first).

The indexes are created IF NOT EXISTS (tests/test_migrations.py): on a network's tens of millions of visits a
release builds them CONCURRENTLY beforehand (docs/operations.md, Upgrades). The interpreter's is partial (most
visits have none). Neither has the status in its predicate, so a cancellation stays a heap-only update.

Revision ID: 0550_visit_check_by_person
Revises: 0541_visit_check_lock_bound
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0550_visit_check_by_person"
down_revision = "0541_visit_check_lock_bound"
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
CHANGED = ("NEW.staff_id {0} OLD.staff_id OR NEW.interpreter_id {0} OLD.interpreter_id "
           "OR NEW.starts_at {0} OLD.starts_at OR NEW.ends_at {0} OLD.ends_at "
           f"OR NEW.office_id {{0}} OLD.office_id OR OLD.status NOT IN {HOLDING}")
HOLDS_PEOPLE = f"NEW.status IN {HOLDING} AND (NEW.staff_id IS NOT NULL OR NEW.interpreter_id IS NOT NULL)"
COLUMNS = "staff_id, interpreter_id, starts_at, ends_at, office_id, status"


def _person_in(role: str, person: str, before: str, different: str) -> str:
    """Another visit holding people in which ``person`` (NEW.staff_id or NEW.interpreter_id) has ``role``."""
    return (f"EXISTS (SELECT 1 FROM appointment o WHERE o.{role} = {person} "
            f"AND o.starts_at > {before} AND o.starts_at < NEW.ends_at AND o.ends_at > NEW.starts_at "
            f"AND {different} AND o.status IN {HOLDING})")


def _overlap(before: str, different: str) -> str:
    return "\n        OR ".join(_person_in(role, person, before, different)
                               for person in ("NEW.staff_id", "NEW.interpreter_id")
                               for role in ("staff_id", "interpreter_id"))


POSTGRESQL_OVERLAP = _overlap("NEW.starts_at - interval '1 day'", "o.id <> NEW.id")
# SQLite keeps times as text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); datetime() drops the fraction, so the day
# bound is a second's fraction early: the look-back is a little wider, never narrower.
SQLITE_OVERLAP = _overlap("datetime(NEW.starts_at, '-1 day')", "o.id IS NOT NEW.id")

# 0541's locking, unchanged: the visit's office lock shared and its hour locks ascending, or past
# MAX_HOUR_LOCKS in one transaction the office's lock exclusively
POSTGRESQL = f"""
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
    END IF;
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
    END IF;
    IF {POSTGRESQL_OVERLAP} THEN
        RAISE EXCEPTION '{MESSAGES["overlap"]}' USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END $$"""

SQLITE_CHECKS = f"""
    SELECT RAISE(ABORT, '{MESSAGES["same"]}') WHERE NEW.staff_id = NEW.interpreter_id;
    SELECT RAISE(ABORT, '{MESSAGES["length"]}')
    WHERE NOT (NEW.ends_at > NEW.starts_at AND NEW.ends_at < datetime(NEW.starts_at, '+1 day'));
    SELECT RAISE(ABORT, '{MESSAGES["overlap"]}') WHERE {SQLITE_OVERLAP};
"""

# 0540's SQLite checks, restored by downgrade
SQLITE_0540 = f"""
    SELECT RAISE(ABORT, '{MESSAGES["same"]}') WHERE NEW.staff_id = NEW.interpreter_id;
    SELECT RAISE(ABORT, '{MESSAGES["length"]}')
    WHERE NOT (NEW.ends_at > NEW.starts_at AND NEW.ends_at < datetime(NEW.starts_at, '+1 day'));
    SELECT RAISE(ABORT, '{MESSAGES["overlap"]}') WHERE EXISTS (
        SELECT 1 FROM appointment o
        WHERE o.office_id = NEW.office_id AND o.starts_at > datetime(NEW.starts_at, '-1 day')
          AND o.starts_at < NEW.ends_at AND o.ends_at > NEW.starts_at AND o.id IS NOT NEW.id
          AND o.status IN {HOLDING}
          AND (o.staff_id IN (NEW.staff_id, NEW.interpreter_id)
               OR o.interpreter_id IN (NEW.staff_id, NEW.interpreter_id)));
"""

# 0541's PostgreSQL overlap check, restored by downgrade
POSTGRESQL_0541_OVERLAP = f"""EXISTS (SELECT 1 FROM appointment o
               WHERE o.office_id = NEW.office_id AND o.starts_at > NEW.starts_at - interval '1 day'
                 AND o.starts_at < NEW.ends_at AND o.ends_at > NEW.starts_at AND o.id <> NEW.id
                 AND o.status IN {HOLDING}
                 AND (o.staff_id IN (NEW.staff_id, NEW.interpreter_id)
                      OR o.interpreter_id IN (NEW.staff_id, NEW.interpreter_id)))"""


def _sqlite_triggers(checks: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS appointment_one_visit_at_a_time_insert")
    op.execute("DROP TRIGGER IF EXISTS appointment_one_visit_at_a_time_update")
    op.execute("CREATE TRIGGER appointment_one_visit_at_a_time_insert BEFORE INSERT ON appointment "
               f"WHEN {HOLDS_PEOPLE} BEGIN {checks}END")
    op.execute(f"CREATE TRIGGER appointment_one_visit_at_a_time_update BEFORE UPDATE OF {COLUMNS} ON appointment "
               f"WHEN {HOLDS_PEOPLE} AND ({CHANGED.format('IS NOT')}) BEGIN {checks}END")


def upgrade() -> None:
    op.create_index("ix_appointment_staff_start", "appointment", ["staff_id", "starts_at"], if_not_exists=True)
    op.create_index("ix_appointment_interpreter_start", "appointment", ["interpreter_id", "starts_at"],
                    if_not_exists=True, postgresql_where=sa.text("interpreter_id IS NOT NULL"),
                    sqlite_where=sa.text("interpreter_id IS NOT NULL"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL)
    else:
        _sqlite_triggers(SQLITE_CHECKS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL.replace(POSTGRESQL_OVERLAP, POSTGRESQL_0541_OVERLAP))
    else:
        _sqlite_triggers(SQLITE_0540)
    op.drop_index("ix_appointment_interpreter_start", "appointment")
    op.drop_index("ix_appointment_staff_start", "appointment")
