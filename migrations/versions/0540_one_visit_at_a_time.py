"""scheduling: the database refuses an appointment that puts a person in two visits at once (both databases)

``staff_hold``'s primary key (staff_id, unit) already refuses a second hold of a person in a unit,
but an appointment row names its people (``staff_id``, ``interpreter_id``) by itself: a row written
behind the services' back (no holds) could name a person already in another visit then, and
nothing in the database said no. A trigger on ``appointment`` now checks every row that holds
people (status booked or checked-in), when inserted and when its people, times, office or status
change:

- the server and the interpreter are two different people;
- the visit lasts more than nothing and less than a day (so the check below may look back one day
  only, on the office's start-time index);
- no other visit of the office that holds people overlaps it with one of the same people, in
  either role.

On PostgreSQL the trigger first takes the visit's assignment locks in the one global order
(``rules.lock_order``: the office's staff lock shared, then its UTC hour locks ascending), so two
writers can never both pass the check unseen by each other; every writer of the app already holds
them by then (``repository.take_locks``, the fast path's lock row, or the office's lock exclusively
for a staff change), so for the app they cost a look-up and never a wait. SQLite has one writer at a
time. A refusal is an integrity error (SQLSTATE 23P01 on PostgreSQL, SQLITE_CONSTRAINT on SQLite).

Revision ID: 0540_one_visit_at_a_time
Revises: 0520_hold_lock_order
"""

from __future__ import annotations

from alembic import op

revision = "0540_one_visit_at_a_time"
down_revision = "0520_hold_lock_order"
branch_labels = None
depends_on = None

LOCK_NAMESPACE = 0x5A5  # rules.LOCK_NAMESPACE
HOLDING = "('booked', 'checked-in')"  # rules.HOLDING
# an UPDATE is checked when it changes who, when, where, or makes the visit hold people again
# ("{0}": IS DISTINCT FROM on PostgreSQL, IS NOT on SQLite: both compare NULLs as values)
CHANGED = ("NEW.staff_id {0} OLD.staff_id OR NEW.interpreter_id {0} OLD.interpreter_id "
           "OR NEW.starts_at {0} OLD.starts_at OR NEW.ends_at {0} OLD.ends_at "
           f"OR NEW.office_id {{0}} OLD.office_id OR OLD.status NOT IN {HOLDING}")
HOLDS_PEOPLE = f"NEW.status IN {HOLDING} AND (NEW.staff_id IS NOT NULL OR NEW.interpreter_id IS NOT NULL)"
MESSAGES = {
    "same": "appointment: one person cannot serve and interpret the same visit",
    "length": "appointment: a visit lasts more than nothing and less than a day",
    "overlap": "appointment: a person of this visit is already in another visit at that time",
}

POSTGRESQL = f"""
CREATE FUNCTION appointment_one_visit_at_a_time() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    base bigint := ({LOCK_NAMESPACE}::bigint << 48) | ((NEW.office_id::bigint & 268435455) << 20);
BEGIN
    IF NEW.staff_id = NEW.interpreter_id THEN
        RAISE EXCEPTION '{MESSAGES["same"]}' USING ERRCODE = 'exclusion_violation';
    END IF;
    IF NOT (NEW.ends_at > NEW.starts_at AND NEW.ends_at < NEW.starts_at + interval '1 day') THEN
        RAISE EXCEPTION '{MESSAGES["length"]}' USING ERRCODE = 'check_violation';
    END IF;
    -- rules.lock_order for this visit: its office's staff lock shared, then its hour locks ascending
    PERFORM pg_advisory_xact_lock_shared(base);
    PERFORM pg_advisory_xact_lock(base | (h & 1048575))
    FROM generate_series(floor(extract(epoch FROM NEW.starts_at) / 3600)::bigint,
                         floor((extract(epoch FROM NEW.ends_at) - 1) / 3600)::bigint) AS h ORDER BY h;
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

# SQLite keeps times as text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); datetime() drops the fraction, so the
# day bounds it gives are a second's fraction early: the look-back is a little wider, never narrower.
SQLITE_CHECKS = f"""
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
COLUMNS = "staff_id, interpreter_id, starts_at, ends_at, office_id, status"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL)
        op.execute("CREATE TRIGGER appointment_one_visit_at_a_time_insert BEFORE INSERT ON appointment "
                   f"FOR EACH ROW WHEN ({HOLDS_PEOPLE}) EXECUTE FUNCTION appointment_one_visit_at_a_time()")
        op.execute(f"CREATE TRIGGER appointment_one_visit_at_a_time_update BEFORE UPDATE OF {COLUMNS} ON appointment "
                   f"FOR EACH ROW WHEN ({HOLDS_PEOPLE} AND ({CHANGED.format('IS DISTINCT FROM')})) "
                   "EXECUTE FUNCTION appointment_one_visit_at_a_time()")
    else:
        op.execute("CREATE TRIGGER appointment_one_visit_at_a_time_insert BEFORE INSERT ON appointment "
                   f"WHEN {HOLDS_PEOPLE} BEGIN {SQLITE_CHECKS}END")
        op.execute(f"CREATE TRIGGER appointment_one_visit_at_a_time_update BEFORE UPDATE OF {COLUMNS} ON appointment "
                   f"WHEN {HOLDS_PEOPLE} AND ({CHANGED.format('IS NOT')}) BEGIN {SQLITE_CHECKS}END")


def downgrade() -> None:
    op.execute("DROP TRIGGER appointment_one_visit_at_a_time_update" + (
        " ON appointment" if op.get_bind().dialect.name == "postgresql" else ""))
    op.execute("DROP TRIGGER appointment_one_visit_at_a_time_insert" + (
        " ON appointment" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION appointment_one_visit_at_a_time()")
