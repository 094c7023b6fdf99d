"""The worker (notifications/worker.py): which sender each contact kind goes to as configured, and rounds
that go on after a failed one. The command line's worker is in test_worker_cli.py, a killed one in
test_worker_kill.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from safeslot.config import Environment, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import worker
from safeslot.notifications.senders import FileSender, Router, SmtpSender
from tests.conftest import NOW
from tests.notifications.conftest import Recorder

SECRET = "x" * 32


def test_without_a_mail_server_or_sms_provider_production_sends_nothing_and_demo_writes_files(
    tmp_path: Path,
) -> None:
    production = worker.router_for(Settings(secret_key=SECRET))
    assert (production.channel("email"), production.channel("phone")) == (None, None)  # dead letters, visibly
    demo = worker.router_for(Settings(environment=Environment.demo, mail={"outbox_dir": tmp_path}))
    assert (demo.channel("email"), demo.channel("phone")) == (FileSender.channel, FileSender.channel)


def test_a_configured_mail_server_and_provider_are_used() -> None:
    twilio = {"provider": "twilio", "account_sid": "AC1", "auth_token": "t", "from_number": "+15555550100"}
    settings = Settings(secret_key=SECRET, mail={"host": "smtp.example.test"}, sms=twilio)
    assert isinstance(worker.email_sender(settings), SmtpSender)
    assert worker.router_for(settings).channel("phone") == "sms"


def test_a_failed_round_does_not_end_the_worker(
    settings: Settings, keyring: KeyRing, caplog: pytest.LogCaptureFixture,
) -> None:
    @contextmanager
    def broken() -> Iterator[Session]:
        raise ConnectionError("the database is restarting")
        yield  # pragma: no cover

    tally = worker.run(broken, keyring, settings, lambda: NOW + dt.timedelta(0), Router(Recorder(), None), once=True)
    assert (tally.sent, tally.dead) == (0, 0)
    assert "outbox round failed: ConnectionError" in caplog.text and "restarting" not in caplog.text
