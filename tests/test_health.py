"""/healthz (health.py): it names each part it checks and what is wrong with it, in words an operator can
act on; any part that is not well makes it 503 (problem+json), so a load balancer takes the server out.
A database that cannot be reached at all is in test_failures.py; one that stops taking writes and comes
back is in test_faults.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safeslot import health


def test_healthz_names_each_part_and_what_is_wrong(
    app_factory: Callable[..., TestClient]
) -> None:
    client = app_factory()
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json()["checks"] == {"database": "ok", "disk": "ok"}
    health.register(client.app, "writers", lambda app: "2 of 4 booking writers are reconnecting")  # type: ignore[arg-type]
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["type"] == "/problems/unhealthy"
    assert r.json()["checks"]["writers"] == "2 of 4 booking writers are reconnecting"
    assert "writers" in r.json()["detail"]


def test_a_sqlite_folder_that_takes_no_writes_is_named(
    app_factory: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the disk check is SQLite's folder")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(30, "Read-only file system")

    client = app_factory()
    monkeypatch.setattr(health.tempfile, "NamedTemporaryFile", refuse)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["checks"]["disk"] == "the database folder is not writable"
