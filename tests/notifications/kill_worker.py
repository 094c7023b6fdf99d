"""A worker for test_worker_kill.py, run in its own process so that the test can kill it with SIGKILL.

    python -m tests.notifications.kill_worker DB_URL KEYRING_JSON_FILE LOG_FILE ISO_NOW [--once]

It drains the outbox at a fixed clock with a slow text sender that appends
"sent <ref>" to LOG_FILE (flushed to disk) before it returns, so a kill can land
between a message leaving and its "sent" being committed.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

from safeslot.cli import outbox_kinds
from safeslot.config import Environment, Settings
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import worker
from safeslot.notifications.senders import Outgoing, Router


class SlowText:
    channel = "test"

    def __init__(self, log: Path) -> None:
        self.log = log

    def send(self, message: Outgoing) -> None:
        with self.log.open("a") as fh:
            fh.write(f"sent {message.ref}\n")
            fh.flush()
            os.fsync(fh.fileno())
        time.sleep(0.25)


def main() -> None:
    url, ring_file, log, now = sys.argv[1:5]
    once = "--once" in sys.argv
    settings = Settings(environment=Environment.test, database={"url": url},
                        notifications={"batch_size": 2, "lease_seconds": 60, "poll_seconds": 0.05})
    engine = build_engine(url)
    maker = build_sessionmaker(engine)
    ring = KeyRing.from_json(Path(ring_file).read_text())
    clock = dt.datetime.fromisoformat(now)
    text = SlowText(Path(log))
    outbox_kinds.register_all()
    worker.run(lambda: transaction(maker), ring, settings, lambda: clock, router=Router(email=text, phone=text),
               once=once)


if __name__ == "__main__":
    main()
