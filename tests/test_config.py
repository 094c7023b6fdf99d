"""The settings (config.py), read from SAFESLOT_* variables: production refuses a placeholder secret, demo
mode is only what was asked for, nested settings come from double-underscore names, a PIN file is read
without its newline, and no module but config.py reads a SAFESLOT_* variable."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from safeslot.config import Environment, Pkcs11Settings, Settings, server_settings

SECRET = "x" * 32


def test_production_is_the_default_and_refuses_a_placeholder_or_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAFESLOT_ENVIRONMENT", raising=False)
    monkeypatch.delenv("SAFESLOT_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SAFESLOT_SECRET_KEY"):
        Settings()
    with pytest.raises(ValidationError, match="32\\+ random characters"):
        Settings(secret_key="short")
    production = Settings(secret_key=SECRET)
    assert production.environment is Environment.production
    assert not production.is_demo and not production.demo_credentials and production.passkey_required


def test_demo_credentials_only_where_demo_mode_was_asked_for() -> None:
    development = Settings(environment=Environment.development)
    assert development.is_demo and not development.demo_credentials  # key files made, demo accounts refused
    assert Settings(environment=Environment.demo).demo_credentials
    assert Settings(environment=Environment.test).demo_credentials


def test_only_the_demo_shortens_a_new_reviewers_cooling_off() -> None:
    demo, production = Settings(environment=Environment.demo), Settings(secret_key=SECRET)
    assert demo.cooling_off < production.cooling_off
    assert production.cooling_off == dt.timedelta(hours=production.identity.cooling_off_hours)


def test_nested_settings_come_from_double_underscore_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFESLOT_ENVIRONMENT", "test")
    monkeypatch.setenv("SAFESLOT_DATABASE__URL", "postgres://app@db.test/safeslot")
    monkeypatch.setenv("SAFESLOT_RETENTION__CONTACT_DAYS", "7")
    settings = Settings()
    assert settings.database.url == "postgresql+psycopg://app@db.test/safeslot"  # normalised when read
    assert settings.retention.contact_days == 7
    monkeypatch.setenv("SAFESLOT_DATABASE__URL", "mysql://app@db.test/safeslot")
    with pytest.raises(ValidationError, match="SQLite or PostgreSQL"):
        Settings()


def test_a_token_pin_is_read_from_its_file_without_the_newline(tmp_path: Path) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text("1234\n")
    assert Pkcs11Settings(pin_file=pin_file, pin="ignored").read_pin() == "1234"
    assert Pkcs11Settings(pin_file=tmp_path / "missing").read_pin() is None
    assert Pkcs11Settings(pin="5678").read_pin() == "5678"
    assert Pkcs11Settings().read_pin() is None


def test_the_debug_and_bench_switches_and_the_server_section_keep_their_variable_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The names operators and bench/booking.py already use, now read through Settings.
    monkeypatch.setenv("SAFESLOT_ENVIRONMENT", "test")
    assert not Settings().debug_pages and not Settings().bench_plaintext
    monkeypatch.setenv("SAFESLOT_DEBUG_PAGES", "1")
    monkeypatch.setenv("SAFESLOT_BENCH_PLAINTEXT", "1")
    assert Settings().debug_pages and Settings().bench_plaintext
    monkeypatch.setenv("SAFESLOT_DEBUG_PAGES", "0")
    assert not Settings().debug_pages
    # the server's protocol classes read their section alone, before any app exists, with the same checks
    monkeypatch.delenv("SAFESLOT_SERVER__HEADER_TIMEOUT_SECONDS", raising=False)
    assert server_settings().header_timeout_seconds == 10
    monkeypatch.setenv("SAFESLOT_SERVER__HEADER_TIMEOUT_SECONDS", "2.5")
    assert server_settings().header_timeout_seconds == 2.5 == Settings().server.header_timeout_seconds
    monkeypatch.setenv("SAFESLOT_SERVER__HEADER_TIMEOUT_SECONDS", "0")
    with pytest.raises(ValidationError, match="greater than 0"):
        server_settings()


SRC = Path(__file__).resolve().parents[1] / "src" / "safeslot"


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines that read os.environ or call os.getenv (setting a variable for a child process is no read)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "getenv":
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.ctx, ast.Load):
            parent_is_store = any(isinstance(s, ast.Subscript) and s.value is node and isinstance(s.ctx, ast.Store)
                                  for s in ast.walk(tree))
            if not parent_is_store:
                lines.append(node.lineno)
    return sorted(lines)


def test_only_config_reads_the_environment() -> None:
    # A setting read elsewhere has no description, no check and no place in the settings' documentation.
    found = {str(p.relative_to(SRC)): lines for p in sorted(SRC.rglob("*.py")) if p.name != "config.py"
             and (lines := _environment_reads(ast.parse(p.read_text(encoding="utf-8"))))}
    assert found == {}, "add a field to config.Settings (SAFESLOT_ prefix) and read it from there"


def test_the_environment_check_sees_a_read() -> None:
    reads = ast.parse("import os\na = os.environ.get('X')\nb = os.getenv('Y')\nc = os.environ['Z']\n"
                      "os.environ['W'] = '1'\n")
    assert _environment_reads(reads) == [2, 3, 4]

