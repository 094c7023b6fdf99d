"""At most once, with a worker killed (SIGKILL) mid-batch and started again, on SQLite and PostgreSQL."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.kit.crypto import KeyRing
from safeslot.notifications.models import OutboxMessage
from safeslot.scheduling import demo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FRIDAY = dt.date(2027, 3, 5)
PEOPLE = 8


def test_a_worker_killed_mid_batch_and_restarted_sends_each_reminder_at_most_once(
    fresh_url: str, tmp_path: Path,
) -> None:
    ring = KeyRing.generate()
    (tmp_path / "ring.json").write_text(ring.to_json())
    engine = build_engine(fresh_url)
    maker = build_sessionmaker(engine)
    with transaction(maker) as session:
        demo.load(session, NOW.date(), weeks=1)
        _, _, slots = scheduling.search_slots(session, "central", "apply", FRIDAY, FRIDAY, None, NOW)
        for i in range(PEOPLE):
            scheduling.book(session, ring, BookingIn.model_validate({
                "office": "central", "service": "apply", "starts_at": slots[i].starts_at.isoformat(),
                "name": f"Test Person {i}", "contact": {"kind": "phone", "value": f"555-01{i:02d}"},
                "reminders_opt_in": True}), NOW)
    # Wednesday evening: every two-day reminder is due, no two-hour one yet
    clock = dt.datetime(2027, 3, 3, 23, 30, tzinfo=dt.UTC).isoformat()
    log = tmp_path / "sent.log"
    command = [sys.executable, "-m", "tests.notifications.kill_worker", fresh_url, str(tmp_path / "ring.json"),
               str(log), clock]
    first = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)  # mid-batch: at least one message is out, others are not
    first.wait(10)
    before = log.read_text().splitlines()
    assert 3 <= len(before) < PEOPLE, "the kill did not land mid-run"

    later = (dt.datetime.fromisoformat(clock) + dt.timedelta(minutes=5)).isoformat()  # past the 60 s lease
    subprocess.run([*command[:-1], later, "--once"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True,
                   timeout=120)
    sent = collections.Counter(log.read_text().splitlines())
    assert all(n == 1 for n in sent.values()), f"sent twice: {sent}"

    with maker() as session:
        messages = list(session.scalars(select(OutboxMessage)))
    engine.dispose()
    assert len(messages) == PEOPLE
    states = collections.Counter(m.status for m in messages)
    assert set(states) <= {"sent", "dead"}, states  # nothing left queued or half-sent
    # A message whose worker died after it left but before "sent" was recorded is a dead letter
    # marked interrupted (it went out once); one that never left is sent by the second worker.
    for m in messages:
        out = f"sent reminder-{m.id}" in sent
        if m.status == "sent":
            assert out
        else:
            assert (m.last_error or "").startswith("interrupted")
    assert sum(sent.values()) == states["sent"] + sum(
        1 for m in messages if m.status == "dead" and f"sent reminder-{m.id}" in sent)


def test_two_workers_at_once_share_the_batch_and_send_each_reminder_exactly_once(
    fresh_url: str, tmp_path: Path,
) -> None:
    ring = KeyRing.generate()
    (tmp_path / "ring.json").write_text(ring.to_json())
    engine = build_engine(fresh_url)
    with transaction(build_sessionmaker(engine)) as session:
        demo.load(session, NOW.date(), weeks=1)
        _, _, slots = scheduling.search_slots(session, "central", "apply", FRIDAY, FRIDAY, None, NOW)
        for i in range(PEOPLE):
            scheduling.book(session, ring, BookingIn.model_validate({
                "office": "central", "service": "apply", "starts_at": slots[i].starts_at.isoformat(),
                "name": f"Test Person {i}", "contact": {"kind": "phone", "value": f"555-01{i:02d}"},
                "reminders_opt_in": True}), NOW)
    engine.dispose()
    clock = dt.datetime(2027, 3, 3, 23, 30, tzinfo=dt.UTC).isoformat()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-m", "tests.notifications.kill_worker", fresh_url,
                                 str(tmp_path / "ring.json"), str(log), clock, "--once"], cwd=ROOT, env=env)
               for log in logs]
    for worker in workers:
        assert worker.wait(120) == 0
    lines = [line for log in logs if log.exists() for line in log.read_text().splitlines()]
    assert len(lines) == PEOPLE and len(set(lines)) == PEOPLE  # all sent, none twice
