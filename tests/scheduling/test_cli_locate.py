"""`safeslot office locate`: an operator sets an office's coordinates and the finder lists it."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safeslot.cli.main import app
from safeslot.db import build_engine
from safeslot.scheduling import service
from tests.conftest import NOW

runner = CliRunner()


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


def test_the_list_commands_show_what_the_operator_added(cli_url: str) -> None:
    # The lists read through scheduling's service and interfaces (no repository from the CLI).
    for command in (["office", "add", "north", "North Office", "1 Example Road", "--timezone", "America/New_York"],
                    ["service", "add", "north", "renew-id", "Renew an ID", "Bring the old card.", "--minutes", "45"],
                    ["staff", "add", "north", "Test Person A", "--languages", "en es", "--services", "renew-id"],
                    ["hours", "set", "north", "5", "10:00", "12:00"],
                    ["hours", "set", "north", "0", "09:00", "17:00"]):
        assert runner.invoke(app, command).exit_code == 0, command
    wide = {"COLUMNS": "200"}
    offices = runner.invoke(app, ["office", "list"], env=wide).output
    services = runner.invoke(app, ["service", "list", "north"], env=wide).output
    staff = runner.invoke(app, ["staff", "list", "north"], env=wide).output
    hours = runner.invoke(app, ["hours", "list", "north"], env=wide).output
    assert "north" in offices and "America/New_York" in offices
    assert "renew-id" in services and "45" in services
    assert "Test Person A" in staff and "en es" in staff
    assert hours.index("Mon") < hours.index("Sat") and "09:00" in hours and "12:00" in hours
    assert runner.invoke(app, ["hours", "list", "nowhere"]).exit_code != 0
