"""`safeslot office locate`: an operator sets an office's coordinates and the finder lists it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safeslot.cli import common
from safeslot.cli.main import app
from safeslot.db import build_engine
from safeslot.scheduling import service
from tests.conftest import NOW

runner = CliRunner()


@pytest.fixture
def cli_url(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SAFESLOT_DATABASE__URL", fresh_url)
    monkeypatch.setenv("SAFESLOT_CRYPTO__KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("SAFESLOT_ENVIRONMENT", "test")
    common.settings.cache_clear()
    common.engine.cache_clear()
    yield fresh_url
    common.engine().dispose()
    common.settings.cache_clear()
    common.engine.cache_clear()


def test_locate_an_office_then_find_it(cli_url: str) -> None:
    r = runner.invoke(app, ["office", "add", "north", "North Office", "1 Example Road", "--timezone",
                            "America/New_York"])
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["office", "locate", "--", "north", "91", "-72"]).exit_code != 0  # out of range
    r = runner.invoke(app, ["office", "locate", "--", "north", "42.2043", "-72.6162"])
    assert r.exit_code == 0, r.output
    engine = build_engine(cli_url)
    try:
        with Session(engine) as s:
            _place, found = service.nearest_offices(s, "01040", None, NOW)
            assert [n.office.slug for n in found] == ["north"] and found[0].distance_km < 2
    finally:
        engine.dispose()
    assert runner.invoke(app, ["office", "locate", "--", "nowhere", "42", "-72"]).exit_code != 0
