"""kit/collector.py: a server worker, once started, no longer has its start-up objects walked by every full
collection, and collects its young generations at the server's thresholds (each run in a fresh interpreter,
so this process's own collector settings are not what is tested)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PROBE = """
import gc, json
from safeslot.kit import collector
before = gc.get_freeze_count()
kept = [[i] for i in range(10_000)]  # start-up objects that live as long as the process
cycle = []; cycle.append(cycle); del cycle  # garbage made before start-up ends
collector.settle()
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "kept": len(kept),
                  "thresholds": gc.get_threshold(), "young": collector.YOUNG_THRESHOLDS,
                  "tracked_after": len(gc.get_objects())}))
"""


def _probe() -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def test_settling_freezes_what_start_up_made_and_raises_the_young_thresholds() -> None:
    seen = _probe()
    assert seen["before"] == 0
    assert seen["frozen"] > 10_000  # the kept lists and the modules
    assert seen["tracked_after"] < 1_000  # what a full collection still walks
    assert seen["thresholds"] == list(seen["young"])
    assert seen["thresholds"][0] > 700  # fewer young collections than Python's default


SERVED = """
import gc, json
from starlette.testclient import TestClient
from safeslot import asgi
from safeslot.kit import collector
before = (gc.get_freeze_count(), gc.get_threshold())
with TestClient(asgi.app):  # runs the app's start-up, as each uvicorn worker does
    print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold(),
                      "young": collector.YOUNG_THRESHOLDS}))
"""


def test_the_served_app_settles_the_collector_once_started(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFESLOT_")} | {
        "SAFESLOT_ENVIRONMENT": "demo", "SAFESLOT_LOG__SIGNING_KEY_FILE": str(tmp_path / "log.key"),
        "SAFESLOT_DATABASE__URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    out = subprocess.run([sys.executable, "-c", SERVED], env=env, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["before"][0] == 0 and seen["before"][1] == [700, 10, 10]  # nothing settled by importing the app
    assert seen["frozen"] > 100_000  # the app, its routes, the modules
    assert seen["thresholds"] == list(seen["young"])
