"""`safeslot notices send` and `safeslot request expire` on a migrated database of their own
(both databases): each notice goes once, stale requests close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeslot.cli import common
from safeslot.cli.main import app
from safeslot.db import build_engine, build_sessionmaker
from safeslot.disclosure import intake, release
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.scheduling import demo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency.note import Signer
from tests.conftest import NOW, cli_configured
from tests.disclosure.conftest import COUNSEL, OFFICIAL, PDF, POLICIES, PRIVACY, approve, metadata, seed_actors


@pytest.fixture
def cli_env(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    outbox = tmp_path / "outbox"
    with cli_configured(monkeypatch, {
        "SAFESLOT_ENVIRONMENT": "test", "SAFESLOT_DATABASE__URL": fresh_url,
        "SAFESLOT_CRYPTO__KEY_FILE": str(tmp_path / "keys.json"),
        "SAFESLOT_LOG__SIGNING_KEY_FILE": str(tmp_path / "log.key"), "SAFESLOT_POLICIES_DIR": str(POLICIES),
        "SAFESLOT_MAIL__OUTBOX_DIR": str(outbox), "SAFESLOT_MAIL__HOST": None,
    }):
        yield outbox


def test_notices_send_sends_each_notice_once_and_request_expire_closes_stale_requests(
    cli_env: Path, fresh_url: str,
) -> None:
    ring = common.keyring()
    policy = PolicyEngine.load(POLICIES, "federal")
    engine = build_engine(fresh_url)
    with build_sessionmaker(engine)() as session, session.begin():
        office = demo.load(session, NOW.date(), weeks=1)
        seed_actors(session)
        day = NOW.date() + dt.timedelta(days=1)
        _, _, slots = scheduling.search_slots(session, office, "apply", day, day, None, NOW)
        scheduling.book(session, ring, BookingIn.model_validate({
            "office": office, "service": "apply", "starts_at": slots[0].starts_at.isoformat(),
            "name": "Test Person M", "contact": {"kind": "phone", "value": "555-0100"}, "reminders_opt_in": True,
        }), NOW)
        released = intake.submit(session, ring, policy, OFFICIAL, metadata(), PDF, NOW)
        approve(session, ring, PRIVACY, released.id, "privacy_officer", NOW)
        approve(session, ring, COUNSEL, released.id, "counsel", NOW)
        release.create(session, ring, Signer.generate("safeslot.localhost/log"), released.id, NOW)
        released_id = released.id
        stale = intake.submit(session, ring, policy, OFFICIAL,
                              metadata(deadline="2026-01-01T00:00:00Z"), PDF, NOW).id
    runner = CliRunner()
    first = runner.invoke(app, ["notices", "send"])
    assert first.exit_code == 0, first.output
    assert "sent 1, failed 0" in first.output
    again = runner.invoke(app, ["notices", "send"])
    assert again.exit_code == 0 and "sent 0" in again.output
    [message] = list(cli_env.iterdir())
    assert "555-0100" in message.read_text() and "schedule" not in message.read_text()

    expired = runner.invoke(app, ["request", "expire"])
    assert expired.exit_code == 0 and f"Expired 1 request(s): {stale}" in expired.output
    with build_sessionmaker(engine)() as session:
        statuses = {r.id: r.status for r in session.query(DisclosureRequest)}
    assert statuses == {released_id: "released", stale: "expired"}
    engine.dispose()


def test_notices_send_refuses_to_run_in_production_without_smtp(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAFESLOT_ENVIRONMENT", "production")
    monkeypatch.setenv("SAFESLOT_SECRET_KEY", "s" * 40)
    common.settings.cache_clear()
    result = CliRunner().invoke(app, ["notices", "send"])
    assert result.exit_code == 1 and "SAFESLOT_MAIL__HOST" in result.output
