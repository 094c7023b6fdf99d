"""`safeslot worker --once`: the notice a release queued goes out through the outbox, once (both databases)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from safeslot.cli import common
from safeslot.cli.main import app
from safeslot.db import build_engine, build_sessionmaker
from safeslot.disclosure import intake, release
from safeslot.disclosure.policy import PolicyEngine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency.note import Signer
from tests.conftest import NOW
from tests.disclosure.conftest import COUNSEL, OFFICIAL, PDF, POLICIES, PRIVACY, approve, metadata, seed_actors
from tests.disclosure.test_notices_cli import cli_env

__all__ = ["cli_env"]


def test_the_worker_sends_a_queued_notice_once_and_says_what_it_did(cli_env: Path, fresh_url: str) -> None:
    ring = common.keyring()
    engine = build_engine(fresh_url)
    try:
        _run(engine, ring, cli_env)
    finally:
        engine.dispose()


def _run(engine: Engine, ring: KeyRing, cli_env: Path) -> None:
    with build_sessionmaker(engine)() as session, session.begin():
        office = demo.load(session, NOW.date(), weeks=1)
        seed_actors(session)  # the reviewers, their grants past the cooling-off (a database of its own)
        day = NOW.date() + dt.timedelta(days=1)
        _, _, slots = scheduling.search_slots(session, office, "apply", day, day, None, NOW)
        scheduling.book(session, ring, BookingIn.model_validate({
            "office": office, "service": "apply", "starts_at": slots[0].starts_at.isoformat(),
            "name": "Test Person A", "contact": {"kind": "email", "value": "person.a@example.org"},
            "reminders_opt_in": True}), NOW)
        request = intake.submit(session, ring, PolicyEngine.load(POLICIES, "federal"), OFFICIAL,
                                metadata(subjects=[{"name": "Test Person A", "office": "central"}]), PDF,
                                NOW)
        approve(session, ring, PRIVACY, request.id, "privacy_officer", NOW)
        approve(session, ring, COUNSEL, request.id, "counsel", NOW)
        release.create(session, ring, Signer.generate("safeslot.localhost/log"), request.id, NOW)
    runner = CliRunner()
    first = runner.invoke(app, ["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "e-mail via file" in first.output and "Sent 1," in first.output
    again = runner.invoke(app, ["worker", "--once"])
    assert again.exit_code == 0 and "Sent 0," in again.output
    [message] = list(cli_env.iterdir())
    assert "person.a@example.org" in message.read_text()


def test_a_worker_with_no_registered_kind_refuses_to_start_rather_than_bury_messages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    # Without its handlers every message would end as a dead letter "no handler for messages of
    # kind …"; the shells register them first (cli/outbox_kinds.py), and a run without is refused.
    from safeslot.config import Environment, Settings
    from safeslot.notifications import outbox, worker

    monkeypatch.setattr(outbox, "HANDLERS", {})
    settings = Settings(environment=Environment.test, crypto={"key_file": tmp_path / "keys.json"})
    with pytest.raises(RuntimeError, match="register_all"):
        worker.run(lambda: None, KeyRing.generate(), settings, lambda: NOW, once=True)  # type: ignore[arg-type,return-value]
    from safeslot.cli import outbox_kinds

    assert {m.__name__ for m in outbox_kinds.register_all()} == {
        "safeslot.disclosure.notices", "safeslot.identity.mail", "safeslot.notifications.reminders"}
