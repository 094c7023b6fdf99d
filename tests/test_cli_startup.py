"""`safeslot` starts with what the command runs: the light commands do not load the web stack or the ORM.

Operators run `safeslot witness keygen`, `safeslot log vkey` (scripts/witness, three times per start)
and the outbox worker by hand and from scripts; each used to import the whole app first (0.8 s of
imports). docs/decisions.md, "A command imports only what it runs".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from safeslot.cli.lazy import LazyGroup, Pending, load
from safeslot.cli.main import SafeslotGroup, app

# A child runs the commands from lightest to heaviest and, after each, lists what it has loaded so far.
CHILD = """
import json, sys
from safeslot.cli.main import app

def run(*args):
    try:
        app(list(args), standalone_mode=False)
    except SystemExit:
        pass

WATCH = ("fastapi", "starlette", "sqlalchemy", "sqlalchemy.orm", "safeslot.db", "safeslot.config", "httpx",
         "safeslot.cli.transparency", "safeslot.cli.demo", "safeslot.disclosure.schemas")
seen = {}
run("--help"); seen["--help"] = sorted(m for m in WATCH if m in sys.modules)
run("witness", "keygen", "--name", "w.test", "--key-file", sys.argv[1])
seen["witness keygen"] = sorted(m for m in WATCH if m in sys.modules)
run("log", "vkey"); seen["log vkey"] = sorted(m for m in WATCH if m in sys.modules)
from safeslot.cli import outbox_kinds  # what `safeslot worker` imports before it runs
from safeslot.notifications import worker
seen["worker"] = sorted(m for m in WATCH if m in sys.modules)
print(json.dumps(seen))
"""


def test_light_commands_load_neither_the_web_stack_nor_the_orm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFESLOT_")} | {
        "SAFESLOT_ENVIRONMENT": "demo", "SAFESLOT_LOG__SIGNING_KEY_FILE": str(tmp_path / "log.key"),
        "SAFESLOT_DATABASE__URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "w.key")], env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert (tmp_path / "w.key").exists() and (tmp_path / "log.key").exists()  # both commands ran
    assert seen["--help"] == []  # the listing loads no group
    assert seen["witness keygen"] == ["safeslot.cli.transparency"]
    # the settings check the database URL with SQLAlchemy's parser, and nothing else of the database
    assert seen["log vkey"] == ["safeslot.cli.transparency", "safeslot.config", "sqlalchemy"]
    assert "fastapi" not in seen["worker"] and "starlette" not in seen["worker"]
    assert "httpx" not in seen["worker"]  # only a worker that sends texts loads it
    assert {"sqlalchemy.orm", "safeslot.db"} <= set(seen["worker"])


def test_the_listing_says_what_each_group_says_and_each_group_loads() -> None:
    for name, (help_text, loader) in SafeslotGroup.lazy.items():
        group = loader()
        assert isinstance(group, typer.Typer)
        assert group.info.help == help_text, name
        loaded = load(name, loader)
        assert isinstance(loaded, TyperGroup) and loaded.name == name and loaded.commands, name
    listing = " ".join(CliRunner().invoke(app, ["--help"]).output.replace("│", " ").split())  # unwrapped
    for name, (help_text, _) in SafeslotGroup.lazy.items():
        assert f" {name} {help_text}" in listing, name


def test_a_pending_group_runs_once_resolved() -> None:
    command = typer.main.get_command(app)
    assert isinstance(command, LazyGroup) and isinstance(command.commands["witness"], Pending)
    out = CliRunner().invoke(app, ["witness", "--help"]).output
    assert "keygen" in out and "serve" in out  # the group's own commands, not the placeholder
    wrong = CliRunner().invoke(app, ["witnes"])
    assert wrong.exit_code == 2 and "Did you mean 'witness'?" in wrong.output
