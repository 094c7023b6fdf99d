"""Alembic, driven from code: the only way the schema changes.

Each domain owns a migration branch that starts from the foundation revision;
``upgrade heads`` applies them all, in dependency order (``depends_on``).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "heads")


@functools.cache
def script_heads() -> frozenset[str]:
    """The heads of the migration scripts shipped with this code. Read once per process: they change only
    with a new release, which starts new processes, and /healthz asks on every probe (reading the
    scripts parses every revision file: about 80 ms of CPU each time)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


# --- least privilege on PostgreSQL (docs/database-roles.md) ---

# A table is append-only when a trigger runs a function named like this: log_append_only()
# (migration 0003, safeslot.chain) or a domain's own, e.g. identity_append_only().
APPEND_ONLY_FUNCTION = "%append_only"

_APPEND_ONLY_TABLES = """
SELECT DISTINCT c.relname FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE p.proname LIKE :fn AND n.nspname = current_schema() AND NOT t.tgisinternal
"""


def append_only_tables(conn: Connection) -> set[str]:
    """Tables whose UPDATE and DELETE the database refuses (a trigger runs an ``…append_only()`` function)."""
    return {r[0] for r in conn.execute(text(_APPEND_ONLY_TABLES), {"fn": APPEND_ONLY_FUNCTION})}


def app_grants(conn: Connection, role: str) -> list[str]:
    """The statements that give ``role`` exactly what the app needs, nothing more.

    SELECT and INSERT everywhere; UPDATE and DELETE only where rows change (never on
    append-only tables); sequences for ids; read-only ``alembic_version``. Never
    TRUNCATE, REFERENCES or TRIGGER, never CREATE on the schema, never ownership —
    so the role cannot alter, disable or drop a trigger, or change the schema.
    """
    q = conn.dialect.identifier_preparer.quote
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    tables = sorted(r[0] for r in conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")))
    append_only = append_only_tables(conn)
    r, s = q(role), q(schema)
    out = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
        f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
    ]
    for t in tables:
        if t == "alembic_version":
            rights = "SELECT"
        elif t in append_only:
            rights = "SELECT, INSERT"
        else:
            rights = "SELECT, INSERT, UPDATE, DELETE"
        out.append(f"GRANT {rights} ON {q(t)} TO {r}")
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
    return out


def grant_app_role(engine: Engine, role: str) -> list[str]:
    """Apply `app_grants` (idempotent: it first revokes what it grants); PostgreSQL only. Returns them."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        statements = app_grants(conn, role)
        for statement in statements:
            conn.execute(text(statement))
    return statements


def owns_schema(engine: Engine) -> bool:
    """True when the connected role owns the log's tables (it could then disable their triggers)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'log_entry' AND tableowner = current_user) "
            "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        )).scalar_one())
