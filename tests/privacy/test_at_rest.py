"""Encryption at rest: after booking "Test Person M" with a phone number, neither the raw SQLite
file nor a PostgreSQL dump holds the name or the number."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo
from tests.conftest import NOW


def test_name_and_phone_are_not_in_the_stored_bytes(fresh_url: str, settings: Settings, keyring: KeyRing) -> None:
    engine = build_engine(fresh_url)
    with transaction(build_sessionmaker(engine)) as s:
        demo.load(s, NOW.date(), weeks=1)
    client = TestClient(create_app(settings, engine=engine, clock=lambda: NOW, keyring=keyring))
    start = client.get("/api/v1/slots", params={"office": "central", "service": "apply",
                                                "from": NOW.date().isoformat()}).json()[0]["starts_at"]
    r = client.post("/api/v1/appointments", json={
        "office": "central", "service": "apply", "starts_at": start, "name": "Test Person M",
        "contact": {"kind": "phone", "value": "555-0100"}, "reminders_opt_in": True,
        "accommodation": "Person M needs a ramp",
    })
    assert r.status_code == 201, r.text
    with engine.connect() as conn:  # the row is there and committed
        assert conn.execute(text("SELECT count(*) FROM appointment")).scalar() == 1
    engine.dispose()

    if fresh_url.startswith("sqlite"):
        path = Path(fresh_url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    else:
        if shutil.which("pg_dump") is None:
            pytest.skip("pg_dump is not installed")
        url = fresh_url.replace("postgresql+psycopg://", "postgresql://")
        table = subprocess.run(["pg_dump", "--data-only", "-t", "appointment", url],
                               check=True, capture_output=True).stdout
        assert b"COPY public.appointment" in table
        stored = table + subprocess.run(["pg_dump", url], check=True, capture_output=True).stdout
    assert len(stored) > 1000
    for secret in (b"Person M", b"person m", b"555-0100", b"5550100", b"ramp"):
        assert secret not in stored
