"""The settings (config.py), read from SAFESLOT_* variables: production refuses a placeholder secret, demo
mode is only what was asked for, nested settings come from double-underscore names, and a PIN file is read
without its newline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from safeslot.config import Environment, Pkcs11Settings, Settings

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
