"""Fault test: the database goes away under load, then comes back.

* PostgreSQL: this test's own database's connections are terminated again and
  again (``pg_terminate_backend`` filtered by ``datname``; the server is shared
  and is never restarted).
* SQLite: the database's folder and files stop taking writes (``chattr +i``: as
  root, permission bits do not stop writes, and already-open files keep their
  mode), then take them again.

Meanwhile clients book, look bookings up and search slots. Every answer is a
normal one (201, 200, 404, 409) or 503 problem+json with ``Retry-After`` — never
a 500 and never a dropped connection; within 10 s of the fault ending, bookings
succeed again without a restart; every acknowledged booking is still there.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW, office_database
from tests.scheduling.live import LiveServer

pytestmark = pytest.mark.slow

TZ = service.zone("America/New_York")
DAY = dt.date(2027, 3, 8)
CLIENTS = 4
TIMEOUT = 15.0
NORMAL = {200, 201, 404, 409}


def _starts() -> list[str]:
    return [(dt.datetime.combine(DAY + dt.timedelta(days=d), dt.time(9, 0), TZ)
             + dt.timedelta(minutes=15 * q)).isoformat() for d in range(5) for q in range(29)]


class Load:
    """Clients booking, looking up and searching until stopped; every answer is kept."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.stop = threading.Event()
        self.answers: list[tuple[float, str, int, dict[str, str], str]] = []  # time, kind, status, headers, body
        self.booked: list[str] = []
        self.broken: list[str] = []  # transport errors: a reset connection, a hang
        self._lock = threading.Lock()

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        starts = _starts()
        with httpx.Client(base_url=self.base, timeout=TIMEOUT) as http:
            while not self.stop.is_set():
                kind = rng.choice(["book", "book", "lookup", "search"])
                try:
                    if kind == "book":
                        r = http.post("/api/v1/appointments", json={
                            "office": "central", "service": rng.choice(["card", "apply"]),
                            "starts_at": rng.choice(starts), "name": "Test Person A"},
                            headers={"Idempotency-Key": f"fault-{n}-{time.monotonic_ns()}"})
                    elif kind == "lookup" and self.booked:
                        r = http.get(f"/api/v1/appointments/{rng.choice(self.booked)}")
                    else:
                        r = http.get("/api/v1/slots", params={"office": "central", "service": "apply",
                                                              "from": DAY.isoformat()})
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.broken.append(type(exc).__name__)
                    continue
                with self._lock:
                    self.answers.append((time.monotonic(), kind, r.status_code, dict(r.headers), r.text[:300]))
                    if kind == "book" and r.status_code == 201:
                        self.booked.append(r.json()["code"])
                time.sleep(0.02)

    @contextmanager
    def running(self) -> Iterator[Load]:
        threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        try:
            yield self
        finally:
            self.stop.set()
            for t in threads:
                t.join(TIMEOUT + 5)

    def wait_until_booked(self, after: float, within: float) -> None:
        """Wait (at most ``within`` seconds) for a booking answered 201 after the monotonic time ``after``;
        ``check`` then says whether it came in time. Waiting on the answer, not for a fixed time."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and not self._booked_after(after):
            time.sleep(0.05)

    def _booked_after(self, after: float) -> bool:
        with self._lock:
            return any(kind == "book" and status == 201 and t > after for t, kind, status, *_ in self.answers)

    def check(self, fault_began: float, fault_ended: float) -> None:
        assert not self.broken, f"connections broke: {Counter(self.broken)}"
        odd = [(kind, status, body) for _, kind, status, headers, body in self.answers if status not in NORMAL
               and not (status == 503 and headers.get("content-type") == "application/problem+json"
                        and headers.get("retry-after"))]
        assert not odd, odd[:5]
        during = Counter(status for t, _, status, *_ in self.answers if fault_began <= t <= fault_ended)
        assert during[503] > 0, f"the fault was not felt: {during}"
        booked_after = [t for t, kind, status, *_ in self.answers if kind == "book" and status == 201
                        and t > fault_ended]
        assert booked_after and min(booked_after) - fault_ended < 10, "bookings did not resume within 10 s"


def _demo(url: str) -> None:
    engine = office_database(url, DAY - dt.timedelta(days=1), pool_size=2)
    engine.dispose()


def _healthy(base: str, within: float = 10) -> Any:
    """/healthz, asked until it answers 200 or ``within`` seconds have passed (then its last answer)."""
    deadline = time.monotonic() + within
    while True:
        health = httpx.get(f"{base}/healthz", timeout=TIMEOUT)
        if health.status_code == 200 or time.monotonic() > deadline:
            return health
        time.sleep(0.1)


def _nothing_lost(url: str, base: str, codes: list[str]) -> None:
    assert codes
    with httpx.Client(base_url=base, timeout=TIMEOUT) as http:
        missing = [c for c in codes if http.get(f"/api/v1/appointments/{c}").status_code != 200]
    assert not missing, f"acknowledged bookings lost: {len(missing)} of {len(codes)}"
    engine = build_engine(url, pool_size=1)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) >= len(set(codes))
    engine.dispose()


def test_terminated_postgresql_connections_give_503_then_service_resumes(
    fresh_url: str, backend: str, pg_admin_url: str | None, keyring: KeyRing, tmp_path: Path
) -> None:
    if backend != "postgresql" or pg_admin_url is None:
        pytest.skip("terminating connections is PostgreSQL's fault")
    _demo(fresh_url)
    database = build_engine(fresh_url).url.database
    assert database and database.startswith("safeslot_t_")  # only this test's own database
    admin = pg_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with LiveServer(fresh_url, keyring, tmp_path, clock=lambda: NOW) as live, Load(live.url).running() as load:
        load.wait_until_booked(after=0, within=30)  # the load is under way
        began = time.monotonic()
        killed = 0
        with psycopg.connect(admin, autocommit=True) as conn:
            while time.monotonic() - began < 4:
                killed += len(conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid()", (database,)).fetchall())
                time.sleep(0.2)
        ended = time.monotonic()
        load.wait_until_booked(after=ended, within=10)
        assert killed >= 5
        health = _healthy(live.url)
        assert health.status_code == 200, health.text
        load.stop.set()
        load.check(began, ended)
        _nothing_lost(fresh_url, live.url, load.booked)


@contextmanager
def _no_writes(folder: Path) -> Iterator[None]:
    """The folder and the database files refuse writes (not the -shm file: SQLite maps it into memory)."""
    files = [p for p in folder.iterdir() if not p.name.endswith("-shm")]
    targets = [str(folder), *map(str, files)]
    subprocess.run(["chattr", "+i", *targets], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *targets], check=True)


def test_a_sqlite_folder_that_stops_taking_writes_gives_503_then_service_resumes(
    backend: str, keyring: KeyRing, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite folder's fault")
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("needs root and chattr: open files keep writing whatever their mode says")
    # In the checkout's build/ (ignored), not in tmp_path: `make test` keeps tmp_path in memory (/dev/shm), and a
    # tmpfs lets a file opened before `chattr +i` go on writing, so the fault would not be felt there.
    base = Path(os.environ.get("SAFESLOT_TEST_DISK_TMP") or Path(__file__).resolve().parents[1] / "build")
    base.mkdir(exist_ok=True)
    disk = Path(tempfile.mkdtemp(prefix="fault-", dir=base))
    request.addfinalizer(lambda: shutil.rmtree(disk, ignore_errors=True))
    folder = disk / "var"
    folder.mkdir()
    probe = folder / "probe"
    with probe.open("ab") as already_open:
        if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
            pytest.skip(f"{disk}'s file system has no immutable attribute (chattr +i)")
        try:
            already_open.write(b"x")
            already_open.flush()
            felt = False
        except OSError:
            felt = True
        finally:
            subprocess.run(["chattr", "-i", str(probe)], check=True)
    probe.unlink()
    if not felt:
        pytest.skip(f"{disk}'s file system lets a file opened before chattr +i go on writing")
    url = f"sqlite:///{folder / 'safeslot.db'}"
    from safeslot import migrate

    engine = build_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    _demo(url)
    keys = tmp_path / "keys"
    keys.mkdir()
    with LiveServer(url, keyring, keys, clock=lambda: NOW) as live, Load(live.url).running() as load:
        load.wait_until_booked(after=0, within=30)  # the load is under way
        with _no_writes(folder):
            began = time.monotonic()
            time.sleep(1)
            health: Any = httpx.get(f"{live.url}/healthz", timeout=TIMEOUT)
            assert health.status_code == 503 and health.headers["retry-after"], health.text
            assert "disk" in health.json()["checks"] and health.json()["checks"]["disk"] != "ok"
            time.sleep(2)
            ended = time.monotonic()
        load.wait_until_booked(after=ended, within=10)
        health = _healthy(live.url)
        assert health.status_code == 200, health.text
        load.stop.set()
        load.check(began, ended)
        _nothing_lost(url, live.url, load.booked)
