"""`safeslot report build` and `safeslot report verify`, end to end on a committed database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeslot.cli.reports import app
from safeslot.db import build_engine, build_sessionmaker
from safeslot.transparency import service as log
from tests.conftest import cli_configured
from tests.reports.test_service import known_entries

runner = CliRunner()


@pytest.fixture
def cli_env(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    engine = build_engine(fresh_url)
    with build_sessionmaker(engine)() as s, s.begin():
        log.append_raw(s, known_entries(), now=dt.datetime(2027, 1, 5, tzinfo=dt.UTC))
    engine.dispose()
    with cli_configured(monkeypatch, {
        "SAFESLOT_ENVIRONMENT": "test", "SAFESLOT_DATABASE__URL": fresh_url,
        "SAFESLOT_LOG__SIGNING_KEY_FILE": str(tmp_path / "log.key"),
        "SAFESLOT_CRYPTO__KEY_FILE": str(tmp_path / "keys.json"),
    }):
        yield fresh_url


def test_build_writes_three_formats_and_verify_accepts_only_the_untouched_file(cli_env: str,
                                                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    built = runner.invoke(app, ["build", "--period", "2026H2", "--out", str(out)])
    assert built.exit_code == 0, built.output
    assert "29 requests" in built.output
    report = out / "report-2026H2.json"
    assert {p.name for p in out.iterdir()} == {"report-2026H2.json", "report-2026H2.csv", "report-2026H2.html"}
    ok = runner.invoke(app, ["verify", str(report)])
    assert ok.exit_code == 0, ok.output
    assert "Verified" in ok.output

    data = json.loads(report.read_text())
    data["summary"]["emergency_requests"] = 1
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(data))
    failed = runner.invoke(app, ["verify", str(bad)])
    assert failed.exit_code == 1
    assert "NOT VERIFIED" in failed.output and "summary.emergency_requests" in failed.output


def test_a_bad_period_is_refused_with_what_to_type(cli_env: str) -> None:
    result = runner.invoke(app, ["build", "--period", "second half"])
    assert result.exit_code == 1
    assert "2026H2" in result.output


def test_the_progress_bar_appears_only_once_a_build_takes_over_a_second() -> None:
    from safeslot.cli.reports import _LateProgress

    quick = _LateProgress("Reading the log")
    quick(256, 1000)
    assert quick.bar is None
    quick.close()
    slow = _LateProgress("Reading the log", delay=0.0)
    slow(256, 1000)
    slow(1000, 1000)
    assert slow.bar is not None and slow.task is not None
    assert slow.bar.tasks[0].completed == 1000
    slow.close()
