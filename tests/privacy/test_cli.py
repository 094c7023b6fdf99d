"""The commands: `safeslot keys rotate` (interrupted, then resumed), `retention run`, `access report`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safeslot.cli.main import app
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.kit.crypto import KeyRing, write_key_file
from safeslot.privacy.models import AccessRecord
from safeslot.scheduling import demo
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW, cli_configured
from tests.identity.helpers import add_appointments, make_staff

runner = CliRunner()


@pytest.fixture
def cli_env(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    key_file = tmp_path / "field-keys.json"
    with cli_configured(monkeypatch, {"SAFESLOT_DATABASE__URL": fresh_url, "SAFESLOT_CRYPTO__KEY_FILE": str(key_file),
                                      "SAFESLOT_ENVIRONMENT": "test", "SAFESLOT_CRYPTO__KEYS": None}):
        yield fresh_url, key_file


def test_keys_rotate_interrupted_then_resumed_then_old_key_retired(cli_env: tuple[str, Path]) -> None:
    url, key_file = cli_env
    ring = KeyRing.generate()
    write_key_file(key_file, ring)
    engine = build_engine(url)
    with transaction(build_sessionmaker(engine)) as s:
        demo.load(s, NOW.date(), weeks=1)
        add_appointments(s, ring, 5, NOW + dt.timedelta(hours=1))

    first = runner.invoke(app, ["keys", "rotate", "--batch-size", "2", "--max-batches", "1"])
    assert first.exit_code == 0, first.output
    assert "Re-sealed 2 rows; 3 left" in first.output
    half = KeyRing.from_json(key_file.read_text())
    assert set(half.keys) == {ring.current, half.current} and half.current != ring.current

    second = runner.invoke(app, ["keys", "rotate", "--batch-size", "2", "--retire-old"])
    assert second.exit_code == 0, second.output
    assert "Resuming: 3 rows" in second.output and f"Retired key {ring.current}" in second.output
    final = KeyRing.from_json(key_file.read_text())
    assert set(final.keys) == {half.current}
    with transaction(build_sessionmaker(engine)) as s:
        names = sorted(final.open(a.name_enc, "appointment.name") for a in s.scalars(select(Appointment)))
    assert names == [f"Test Person M {i}" for i in range(5)]
    engine.dispose()


def test_retention_run_and_access_report(cli_env: tuple[str, Path]) -> None:
    url, key_file = cli_env
    ring = KeyRing.generate().with_month_keys(["2020-01"])
    write_key_file(key_file, ring)
    engine = build_engine(url)
    with transaction(build_sessionmaker(engine)) as s:
        demo.load(s, NOW.date(), weeks=1)
        old = add_appointments(s, ring, 2, dt.datetime(2020, 1, 6, 15, tzinfo=dt.UTC))
        old[0].name_enc = ring.seal("Test Person M", "appointment.name", "2020-01")
        add_appointments(s, ring, 1, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        clerk, _ = make_staff(s, ring, ["clerk"], "central")
        s.add(AccessRecord(staff_id=clerk.id, record_type="appointment", record_id="1", purpose="front_desk",
                           at=NOW))
    r = runner.invoke(app, ["retention", "run"])
    assert r.exit_code == 0, r.output
    assert "appointments purged: 2" in r.output
    assert "Moved 3 appointments" in r.output and "Destroyed the data keys of 2020-01" in r.output
    after = KeyRing.from_json(key_file.read_text())
    assert "2020-01" not in after.month_keys and len(after.month_keys) > 12
    r = runner.invoke(app, ["access", "report", "--from", "2027-03-01", "--to", "2027-03-02"])
    assert r.exit_code == 0, r.output
    assert "front_desk" in r.output and "1 reads" in r.output
    engine.dispose()
