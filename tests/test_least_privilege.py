"""Least privilege in the database: the app's role cannot rewrite history.

On PostgreSQL the tests' databases are made as in production (tests/conftest.py,
docs/database-roles.md): an owner role runs the migrations and `db upgrade` grants
an app role only what the app needs; every other test runs the app as that role.
Here the app role tries what an insider with the app's credentials would try. On
SQLite there are no roles: the append-only triggers are the whole guard, and the
same deletions and edits are refused by them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safeslot import migrate
from safeslot.cli import common
from safeslot.cli.main import app as cli
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from safeslot.transparency import repository, selfcheck, service
from safeslot.transparency.note import Signer
from tests.conftest import NOW, cli_configured, owner_url
from tests.transparency.support import chained_records, entries

# every append-only table, with a column to try to change
APPEND_ONLY = {"log_entry": "data", "log_node": "hash", "log_checkpoint": "note", "log_cosignature": "line",
               "log_verification": "detail", "access_record": "purpose", "access_alert": "detail",
               "disclosure_accounting": "purpose", "record_chain_commit": "log_index",
               "identity_privileged_event": "event"}

# What an insider holding the app's credentials would try, on PostgreSQL.
PG_ATTEMPTS = {
    "disable-triggers": "ALTER TABLE log_entry DISABLE TRIGGER USER",
    "drop-trigger": "DROP TRIGGER log_entry_append_only ON log_entry",
    "replace-trigger-function": "CREATE OR REPLACE FUNCTION log_append_only() RETURNS trigger "
                                "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
    "skip-triggers": "SET session_replication_role = replica",
    "truncate-log": "TRUNCATE log_entry",
    "truncate-access-log": "TRUNCATE access_record",
    "delete-access-log": "DELETE FROM access_record",
    "delete-accounting": "DELETE FROM disclosure_accounting",
    "update-alert": "UPDATE access_alert SET detail = 'nothing'",
    "delete-checkpoints": "DELETE FROM log_checkpoint",
    "rewind-migrations": "DELETE FROM alembic_version",
    "new-table": "CREATE TABLE shadow (id int)",
    "drop-table": "DROP TABLE access_alert",
}


@pytest.fixture
def app_engine(db_url: str) -> Iterator[Engine]:
    engine = build_engine(db_url)  # the app's own URL: the app role on PostgreSQL
    yield engine
    engine.dispose()


@pytest.mark.parametrize("attempt", sorted(PG_ATTEMPTS))
def test_the_app_role_cannot_disable_triggers_truncate_or_delete(
    app_engine: Engine, backend: str, attempt: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no roles; its triggers are tested below")
    with app_engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one().endswith("_app")
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            conn.execute(text(PG_ATTEMPTS[attempt]))
        conn.rollback()


def test_append_only_tables_refuse_delete_and_update_for_the_app(session: Session, keyring: KeyRing) -> None:
    # A row in every append-only table, written by the app itself (SQLite's triggers fire per row).
    signer = Signer.generate("log.example.gov/safeslot")
    chained_records(session, keyring)
    service.append_raw(session, entries(3), now=NOW)
    service.checkpoint(session, signer, NOW, origin="log.example.gov/safeslot")
    repository.add_cosignature(session, 4, "witness.example", "— witness.example AAAA", NOW)
    selfcheck.self_verify(session, signer.verifier(), "log.example.gov/safeslot", NOW, method="cli")
    for table, column in APPEND_ONLY.items():
        assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() > 0, table
        for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET {column} = {column}"):
            with pytest.raises(DBAPIError, match=r"permission denied|append-only"), session.begin_nested():
                session.execute(text(statement))


def test_the_app_role_has_exactly_the_documented_rights(app_engine: Engine, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL roles")
    with app_engine.connect() as conn:
        def can(table: str, right: str) -> bool:
            return bool(conn.execute(text("SELECT has_table_privilege(current_user, :t, :r)"),
                                     {"t": table, "r": right}).scalar_one())

        for table in APPEND_ONLY:
            assert can(table, "SELECT") and can(table, "INSERT"), table
            assert not any(can(table, r) for r in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER")), table
        # the tables whose rows really change keep UPDATE and DELETE, never TRUNCATE or TRIGGER
        assert can("appointment", "UPDATE") and can("appointment", "DELETE")
        assert can("log_head", "UPDATE")  # the sequencer row
        assert not can("appointment", "TRUNCATE") and not can("appointment", "TRIGGER")
        assert not can("alembic_version", "INSERT")
        assert not conn.execute(text("SELECT has_schema_privilege(current_user, 'public', 'CREATE')")).scalar_one()
        assert not migrate.owns_schema(app_engine)


def test_the_append_only_set_is_read_from_the_triggers(owner_engine: Engine, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL roles")
    with owner_engine.connect() as conn:
        assert set(APPEND_ONLY) <= migrate.append_only_tables(conn)
        assert "appointment" not in migrate.append_only_tables(conn)


@pytest.fixture
def cli_urls(fresh_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[str, str]]:
    owner = owner_url(fresh_url)
    with cli_configured(monkeypatch, {"SAFESLOT_ENVIRONMENT": "production", "SAFESLOT_SECRET_KEY": "s" * 40,
                                      "SAFESLOT_DATABASE__URL": fresh_url, "SAFESLOT_DATABASE__OWNER_URL": owner}):
        yield fresh_url, owner


def test_db_upgrade_runs_as_the_owner_and_grants_the_app_role(
    cli_urls: tuple[str, str], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_url, owner = cli_urls
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database at" in result.output
    if backend == "postgresql":
        assert f"Granted role {make_url(app_url).username}" in result.output
        # serve refuses, outside demo mode, to run as the owner of the tables
        monkeypatch.setenv("SAFESLOT_DATABASE__URL", owner)
        common.settings.cache_clear()
        common.engine().dispose()
        common.engine.cache_clear()
        refused = CliRunner().invoke(cli, ["serve"])
        assert refused.exit_code == 2 and "Refusing to serve" in refused.output
