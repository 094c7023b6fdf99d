"""Migrations go down and back up, on SQLite and PostgreSQL.

``alembic downgrade`` from the heads to 0481 (undoing 0520 and 0482, the availability triggers' later
revisions) must leave exactly what upgrading to 0481 makes — the same triggers and the same function bodies,
not a later revision's left behind — and upgrading again must give back exactly the head schema. A database
with bookings is taken down and up, and books at every stop.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from safeslot import migrate
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo, service
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, drop_later, owner_url
from tests.scheduling.invariants import people_violations

pytestmark = pytest.mark.slow

TARGET = "0481_availability_versions"
# what 0481 and its later revisions change: these tables' triggers and the functions they run
TABLES = ("staff_hold", "slot_capacity", "availability_office", "availability_hour")
DAY = dt.date(2027, 3, 9)  # a Tuesday, a week after NOW


def _schema(conn: Connection, only_availability: bool) -> dict[str, object]:
    """The schema as the database describes it: tables' columns, indexes, constraints, triggers, functions."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                 "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")).all()
        if only_availability:
            rows = [r for r in rows if r[2] in TABLES or r[1].startswith("availability")]
        # a table's CREATE text lists its constraints in the order its migrations happened to rebuild it
        # (branches run in either order): compare what it is instead
        tables = {r[1]: (sorted(tuple(c) for c in conn.exec_driver_sql(f'PRAGMA table_info("{r[1]}")')),
                         sorted(tuple(k)[2:] for k in conn.exec_driver_sql(f'PRAGMA foreign_key_list("{r[1]}")')))
                  for r in rows if r[0] == "table"}
        return {"objects": [tuple(r) for r in rows if r[0] != "table"], "tables": tables}
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    queries = {
        "functions": "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                     "WHERE n.nspname = :s ORDER BY 1",
        "triggers": "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c "
                    "ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND NOT t.tgisinternal ORDER BY 1, 2",
        "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default "
                   "FROM information_schema.columns WHERE table_schema = :s ORDER BY 1, 2",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :s ORDER BY 1, 2",
        "constraints": "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
                       "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = :s ORDER BY 1, 2",
    }
    found: dict[str, object] = {}
    for kind, sql in queries.items():
        got = [tuple(r) for r in conn.execute(text(sql), {"s": schema})]
        if only_availability:  # a function by its name, anything else by its table
            got = [r for r in got if (r[0].startswith("availability") if kind == "functions" else r[0] in TABLES)]
        found[kind] = got
    return found


@contextmanager
def _empty_database(backend: str, admin_url: str | None, tmp_path: Path) -> Iterator[Engine]:
    """A database with no schema at all (the fixtures' databases are copies of a migrated one)."""
    if backend == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    assert admin_url is not None
    name = f"safeslot_t_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = build_engine(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        admin.dispose()
        drop_later(admin_url, name)  # PostgreSQL checkpoints for a DROP DATABASE: not while the tests wait


def _book(engine: Engine, keyring: KeyRing, hour: int) -> None:
    with Session(engine) as s, s.begin():
        body = BookingIn(office="central", service="apply", name="Test Person A",
                         starts_at=dt.datetime.combine(DAY, dt.time(hour), tzinfo=service.zone("America/New_York")))
        assert service.book(s, keyring, body, NOW).staff_id is not None
    with Session(engine) as s:
        assert people_violations(s) == []


def test_downgrade_to_0481_and_back_up_gives_each_schema_exactly(
    backend: str, fresh_url: str, pg_admin_url: str | None, keyring: KeyRing, tmp_path: Path
) -> None:
    with _empty_database(backend, pg_admin_url, tmp_path) as empty, empty.begin() as conn:
        command.upgrade(migrate.alembic_config(connection=conn), TARGET)
        at_0481 = _schema(conn, only_availability=True)

    engine = build_engine(owner_url(fresh_url))
    try:
        with engine.connect() as conn:
            at_head = _schema(conn, only_availability=False)
        with Session(engine) as s, s.begin():
            demo.load(s, DAY - dt.timedelta(days=1), weeks=1)
        _book(engine, keyring, 9)

        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(connection=conn), TARGET)
        assert TARGET in migrate.current_heads(engine)
        with engine.connect() as conn:
            assert _schema(conn, only_availability=True) == at_0481
        _book(engine, keyring, 10)

        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert _schema(conn, only_availability=False) == at_head
        _book(engine, keyring, 11)
    finally:
        engine.dispose()


# Tables that grow with visits, holds and log entries. An index built on one inside the upgrade's transaction
# (migrate.upgrade runs every pending revision in one) blocks its writes — bookings — while it builds, minutes
# on a network's tens of millions of rows. From revision 0530 on such an index is created IF NOT EXISTS, so
# that the release can have it built beforehand with CREATE INDEX CONCURRENTLY (docs/operations.md, Upgrades).
LARGE = frozenset({"appointment", "staff_hold", "slot_capacity", "log_entry", "log_node", "access_record",
                   "disclosure_accounting", "disclosure_accounting_code", "idempotency_record",
                   "notification_outbox", "queue_ticket", "availability_hour"})
FIRST_RULED = "0530"


def _blocking_indexes(source: str) -> list[str]:
    """The op.create_index calls on a LARGE table without if_not_exists=True, by index name."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "create_index" and len(node.args) >= 2):
            continue
        name, table = (a.value if isinstance(a, ast.Constant) else None for a in node.args[:2])
        ahead = any(k.arg == "if_not_exists" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords)
        if table in LARGE and not ahead:
            found.append(str(name))
    return found


def test_an_index_on_a_large_table_can_be_built_ahead_without_blocking_bookings() -> None:
    assert _blocking_indexes('op.create_index("ix_a", "staff_hold", ["office_id"])') == ["ix_a"]
    assert _blocking_indexes('op.create_index("ix_a", "staff_hold", ["office_id"], if_not_exists=True)') == []
    assert _blocking_indexes('op.create_index("ix_a", "log_verification", ["id"])') == []
    ruled = [p for p in sorted(migrate.MIGRATIONS.glob("versions/*.py")) if p.name[:4] >= FIRST_RULED]
    assert ruled, "no revision from 0530 on: the rule checks nothing"
    assert {p.name: _blocking_indexes(p.read_text()) for p in ruled} == {p.name: [] for p in ruled}
