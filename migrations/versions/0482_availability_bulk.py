"""scheduling: availability versions under bulk writes (PostgreSQL)

Two changes to 0481's PostgreSQL triggers, for statements that write many rows at once
(``generate_slots`` for a year, a COPY of a network's grid or holds in bench/scale.py,
a bulk clean-up):

- ``slot_capacity`` bumps its offices once per statement (transition tables), not once
  per row: a year's grid is 23,400 rows of one office, and 23,400 updates of one
  counter row in one transaction cost more than the grid itself.
- the ``staff_hold`` trigger takes the hours' assignment locks only when the statement
  touched at most 64 (office, hour) pairs — every booking, move, cancellation and
  walk-in does. A bulk statement still bumps every hour it touched, but taking
  thousands of advisory locks in one transaction would exhaust PostgreSQL's shared
  lock table (``max_locks_per_transaction``); bulk writes are maintenance, not run
  against a booking load, and the counters' rows are still locked by the upsert.

SQLite is unchanged (row triggers are cheap in-process and its one writer needs no locks).

Revision ID: 0482_availability_bulk
Revises: 0481_availability_versions
"""

from __future__ import annotations

from alembic import op

revision = "0482_availability_bulk"
down_revision = "0481_availability_versions"
branch_labels = None
depends_on = None

LOCK_NAMESPACE = 0x5A5  # rules.LOCK_NAMESPACE
MAX_LOCKED_HOURS = 64


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER availability_slot_capacity ON slot_capacity")
    op.execute("""
CREATE FUNCTION availability_grid_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO availability_office (office_id, version)
        SELECT DISTINCT office_id, 1 FROM old_rows ORDER BY 1
        ON CONFLICT (office_id) DO UPDATE SET version = availability_office.version + 1;
    ELSE  -- INSERT and UPDATE (an UPDATE does not move a row to another office)
        INSERT INTO availability_office (office_id, version)
        SELECT DISTINCT office_id, 1 FROM new_rows ORDER BY 1
        ON CONFLICT (office_id) DO UPDATE SET version = availability_office.version + 1;
    END IF;
    RETURN NULL;
END $$
""")
    for event, tables in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                          ("UPDATE", "NEW TABLE AS new_rows")):
        op.execute(f"CREATE TRIGGER availability_slot_capacity_{event.lower()} AFTER {event} ON slot_capacity "
                   f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION availability_grid_changed()")
    op.execute(f"""
CREATE OR REPLACE FUNCTION availability_holds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offices bigint[];
    hours bigint[];
BEGIN
    -- each (office, UTC hour) the statement touched, in the ascending order of its assignment lock
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
    END IF;
    IF array_length(offices, 1) <= {MAX_LOCKED_HOURS} THEN  -- a visit's few hours; not a bulk statement's
        FOR i IN 1 .. array_length(offices, 1) LOOP
            PERFORM pg_advisory_xact_lock(({LOCK_NAMESPACE}::bigint << 48) | ((offices[i] & 268435455) << 20)
                                          | (hours[i] & 1048575));
        END LOOP;
    END IF;
    INSERT INTO availability_hour (office_id, hour, version)
    SELECT o, h, 1 FROM unnest(offices, hours) AS t(o, h)
    ON CONFLICT (office_id, hour) DO UPDATE SET version = availability_hour.version + 1;
    RETURN NULL;
END $$
""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER availability_slot_capacity_{event} ON slot_capacity")
    op.execute("DROP FUNCTION availability_grid_changed()")
    op.execute("CREATE TRIGGER availability_slot_capacity AFTER INSERT OR UPDATE OR DELETE ON slot_capacity "
               "FOR EACH ROW EXECUTE FUNCTION availability_office_changed('office_id')")
    # 0481's staff_hold function: every statement takes its hours' locks (tests/test_migrations.py compares)
    op.execute(f"""
CREATE OR REPLACE FUNCTION availability_holds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offices bigint[];
    hours bigint[];
BEGIN
    -- each (office, UTC hour) the statement touched, in the ascending order of its assignment lock
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
    END IF;
    FOR i IN 1 .. array_length(offices, 1) LOOP
        PERFORM pg_advisory_xact_lock(({LOCK_NAMESPACE}::bigint << 48) | ((offices[i] & 268435455) << 20)
                                      | (hours[i] & 1048575));
    END LOOP;
    INSERT INTO availability_hour (office_id, hour, version)
    SELECT o, h, 1 FROM unnest(offices, hours) AS t(o, h)
    ON CONFLICT (office_id, hour) DO UPDATE SET version = availability_hour.version + 1;
    RETURN NULL;
END $$
""")
