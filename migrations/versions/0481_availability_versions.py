"""scheduling: availability versions — what a cached slot search checks before it answers

Two counters, bumped by triggers in the transaction of every write that can change
a search's answer, whatever code path writes (the sync booking path, the PostgreSQL
fast path's one statement, the walk-in desk, reassignment, retention, the CLI):

- ``availability_hour(office_id, hour)``: the people held during one UTC hour of one
  office (``staff_hold`` inserted, deleted or updated). Hours, not the office, so that
  bookings at different times do not queue on one counter: on PostgreSQL the trigger
  takes the hour's assignment lock (``rules.lock_keys``, the same key) before it bumps,
  in ascending order, so every bumper of a row holds that row's lock first and the
  counters add no wait and no new lock order to booking (bookers already hold them).
- ``availability_office(office_id)``: everything else a search reads — the office, its
  services, staff (skills, languages, active, own hours), their hours and absences, the
  office's hours and closures, and the start-time grid (``slot_capacity``).

Rows only ever go up (no deletes; no foreign key, so an office's deletion does not
trip its own triggers). ``scheduling/search_cache.py`` reads both in one statement
and uses them as the key of its in-process cache; docs/decisions.md "Slot search
cache" gives the rules and why each is enough.

Revision ID: 0481_availability_versions
Revises: 0480_hold_search_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0481_availability_versions"
down_revision = "0480_hold_search_index"
branch_labels = None
depends_on = None

# table -> (column naming the office or a staff member, whether it is a staff id)
OFFICE_TABLES = {
    "office": ("id", False),
    "service": ("office_id", False),
    "staff": ("office_id", False),
    "staff_hours": ("staff_id", True),
    "staff_absence": ("staff_id", True),
    "weekly_hours": ("office_id", False),
    "closure": ("office_id", False),
    "slot_capacity": ("office_id", False),
}
EVENTS = ("INSERT", "UPDATE", "DELETE")
LOCK_NAMESPACE = 0x5A5  # rules.LOCK_NAMESPACE: the trigger takes the very locks booking takes


def upgrade() -> None:
    op.create_table(
        "availability_office",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("office_id", name=op.f("pk_availability_office")),
    )
    op.create_table(
        "availability_hour",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("office_id", "hour", name=op.f("pk_availability_hour")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _sqlite() -> None:
    hour = "CAST(strftime('%s', {row}.starts_at) AS INTEGER) / 3600"
    for event in EVENTS:
        rows = {"INSERT": ["NEW"], "DELETE": ["OLD"], "UPDATE": ["OLD", "NEW"]}[event]
        bumps = "".join(
            f"INSERT INTO availability_hour (office_id, hour, version) VALUES ({r}.office_id, {hour.format(row=r)}, 1) "
            "ON CONFLICT (office_id, hour) DO UPDATE SET version = version + 1; "
            for r in rows
        )
        op.execute(f"CREATE TRIGGER availability_staff_hold_{event.lower()} AFTER {event} ON staff_hold "
                   f"BEGIN {bumps}END")
        for table, (column, staff) in OFFICE_TABLES.items():
            office_bumps = "".join(
                (f"INSERT INTO availability_office (office_id, version) SELECT office_id, 1 FROM staff "
                 f"WHERE id = {r}.{column} " if staff else
                 f"INSERT INTO availability_office (office_id, version) VALUES ({r}.{column}, 1) ")
                + "ON CONFLICT (office_id) DO UPDATE SET version = version + 1; "
                for r in rows
            )
            op.execute(f"CREATE TRIGGER availability_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"BEGIN {office_bumps}END")


def _postgresql() -> None:
    op.execute("""
CREATE FUNCTION availability_office_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[] := '{}';
BEGIN
    IF TG_OP <> 'INSERT' THEN ids := ids || (to_jsonb(OLD) ->> TG_ARGV[0])::bigint; END IF;
    IF TG_OP <> 'DELETE' THEN ids := ids || (to_jsonb(NEW) ->> TG_ARGV[0])::bigint; END IF;
    IF TG_NARGS > 1 THEN  -- the column names a staff member: bump their office
        SELECT coalesce(array_agg(office_id), '{}') INTO ids FROM staff WHERE id = ANY (ids);
    END IF;
    INSERT INTO availability_office (office_id, version)
    SELECT DISTINCT o, 1 FROM unnest(ids) AS o WHERE o IS NOT NULL ORDER BY o
    ON CONFLICT (office_id) DO UPDATE SET version = availability_office.version + 1;
    RETURN NULL;
END $$
""")
    op.execute(f"""
CREATE FUNCTION availability_holds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    for event, tables in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                          ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
        op.execute(f"CREATE TRIGGER availability_staff_hold_{event.lower()} AFTER {event} ON staff_hold "
                   f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION availability_holds_changed()")
    for table, (column, staff) in OFFICE_TABLES.items():
        args = f"'{column}', 'staff'" if staff else f"'{column}'"
        op.execute(f"CREATE TRIGGER availability_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION availability_office_changed({args})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in EVENTS:
            op.execute(f"DROP TRIGGER availability_staff_hold_{event.lower()} ON staff_hold")
        for table in OFFICE_TABLES:
            op.execute(f"DROP TRIGGER availability_{table} ON {table}")
        op.execute("DROP FUNCTION availability_holds_changed()")
        op.execute("DROP FUNCTION availability_office_changed()")
    else:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER availability_staff_hold_{event.lower()}")
            for table in OFFICE_TABLES:
                op.execute(f"DROP TRIGGER availability_{table}_{event.lower()}")
    op.drop_table("availability_hour")
    op.drop_table("availability_office")
