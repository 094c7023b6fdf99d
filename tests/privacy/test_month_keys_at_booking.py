"""Month data keys are applied when a person books, not later: a backup taken a minute after the booking
becomes unreadable once retention purges the month and destroys its key."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safeslot.config import RetentionSettings
from safeslot.kit.crypto import KeyMissing, KeyRing, load_key_ring, update_key_file
from safeslot.privacy import retention
from safeslot.scheduling import demo, service
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW, office_database
from tests.privacy import month_key_process
from tests.scheduling.live import LiveServer

TZ = service.zone("America/New_York")
START = dt.datetime(2027, 3, 9, 10, 0, tzinfo=TZ)  # a Tuesday inside the demo's week of slots
CONTEXTS = {"name_enc": "appointment.name", "contact_enc": "appointment.contact",
            "accommodation_enc": "appointment.accommodation"}


@pytest.fixture
def db(fresh_url: str) -> Iterator[Engine]:
    engine = office_database(fresh_url, START.date() - dt.timedelta(days=1), pool_size=2)
    yield engine
    engine.dispose()


def _backup(engine: Engine) -> list[tuple[str, bytes]]:
    """What a database dump taken now holds for the appointment's sealed columns."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT name_enc, contact_enc, accommodation_enc FROM appointment")).one()
    return [(col, bytes(value)) for col, value in zip(CONTEXTS, row, strict=True)]


def test_a_backup_taken_right_after_booking_is_unreadable_once_the_month_is_purged(
    db: Engine, fresh_url: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys.json"
    ring = load_key_ring(key_file, None, create=True)
    with LiveServer(fresh_url, ring, tmp_path, clock=lambda: NOW) as server:
        fast = getattr(server.app.state, "fast_booking", None)
        assert (fast is not None and fast.loop is not None) == fresh_url.startswith("postgresql")  # both paths
        r = httpx.post(f"{server.url}/api/v1/appointments", json={
            "office": "central", "service": "apply", "starts_at": START.isoformat(), "name": "Test Person M",
            "contact": {"kind": "phone", "value": "+1 202 555 0100"}, "reminders_opt_in": True,
            "accommodation": "wheelchair access",
        })
        assert r.status_code == 201, r.text
    backup = _backup(db)  # before any retention run
    assert {ring.key_id_of(v) for _, v in backup} == {"m2027-03"}  # sealed under March's key at booking
    assert KeyRing.from_json(key_file.read_text()).open(backup[0][1], "appointment.name") == "Test Person M"

    later = NOW + dt.timedelta(days=400)  # a year after the visit: retention purges March
    settings = RetentionSettings()
    with Session(db) as s, s.begin():
        assert retention.run(s, settings, later).appointments_purged == 1
        gone = retention.destroyable_months(s, KeyRing.from_json(key_file.read_text()), settings, later)
    assert "2027-03" in gone
    update_key_file(key_file, lambda r: r.without_months(gone))

    restored = load_key_ring(key_file, None, create=False)  # the key file as it is now, beside the old backup
    for column, value in backup:
        with pytest.raises(KeyMissing):
            restored.open(value, CONTEXTS[column])


def test_moving_an_appointment_to_another_month_moves_its_values_to_that_months_key(
    session: Session, tmp_path: Path
) -> None:
    ring = load_key_ring(tmp_path / "keys.json", None, create=True)
    demo.load(session, START.date() - dt.timedelta(days=1), weeks=1)
    office = service.get_office(session, "central")
    april = dt.date(2027, 4, 6)
    service.generate_slots(session, office, april, april)
    booked = service.book(session, ring, BookingIn(
        office="central", service="apply", starts_at=START, name="Test Person M", accommodation="large print",
    ), NOW)
    assert ring.key_id_of(booked.name_enc) == "m2027-03"
    moved = service.reschedule(session, ring, booked.code, dt.datetime(2027, 4, 6, 10, 0, tzinfo=TZ), NOW)
    session.expire_all()
    row = session.scalars(select(Appointment).where(Appointment.code == moved.code)).one()
    assert ring.key_id_of(row.name_enc) == ring.key_id_of(row.accommodation_enc or b"") == "m2027-04"
    after_march = ring.without_months(["2027-03"])  # March's purge must not take the moved values with it
    assert after_march.open(row.name_enc, "appointment.name") == "Test Person M"


def test_a_month_missing_at_booking_is_added_to_the_key_file_for_every_server(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    one = load_key_ring(key_file, None, create=True)
    two = load_key_ring(key_file, None, create=False)  # a second server on the same key file
    sealed = one.seal("Test Person M", "appointment.name", "2027-09")
    assert one.key_id_of(sealed) == "m2027-09"
    assert "2027-09" in KeyRing.from_json(key_file.read_text()).month_keys  # written, so it survives a restart
    assert two.open(sealed, "appointment.name") == "Test Person M"
    # the second server takes the key the first one wrote instead of making its own
    assert two.key_id_of(two.seal("x", "appointment.name", "2027-09")) == "m2027-09"
    assert two.month_keys["2027-09"] == one.month_keys["2027-09"]


def test_a_read_only_key_file_seals_under_the_master_key_and_does_not_stop_booking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from safeslot.kit import crypto

    ring = load_key_ring(tmp_path / "keys.json", None, create=True)
    calls: list[Path] = []

    def refuse(key_file: Path, change: object) -> KeyRing:
        calls.append(key_file)
        raise PermissionError("read-only file system")

    monkeypatch.setattr(crypto, "update_key_file", refuse)
    first = ring.seal("Test Person M", "appointment.name", "2027-03")
    second = ring.seal("Test Person M", "appointment.name", "2027-03")
    assert ring.key_id_of(first) == ring.key_id_of(second) == ring.current
    assert len(calls) == 1, "no second write attempt within a minute"
    assert "cannot add month keys" in caplog.text and "Person M" not in caplog.text


def test_a_ring_from_the_environment_seals_under_the_master_key_when_it_lacks_the_month() -> None:
    ring = KeyRing.from_json(KeyRing.generate().to_json())  # as SAFESLOT_CRYPTO__KEYS gives it: no file
    sealed = ring.seal("Test Person M", "appointment.name", "2027-03")
    assert ring.key_id_of(sealed) == ring.current
    assert ring.open(sealed, "appointment.name") == "Test Person M"


def test_processes_starting_together_make_one_key_file_and_one_key_per_month(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        digests = pool.map(month_key_process.add_month, [str(key_file)] * 6)
    ring = KeyRing.from_json(key_file.read_text())
    assert len(set(digests)) == 1 and digests[0] == hashlib.sha256(ring.month_keys["2027-05"]).hexdigest()
    assert len(ring.keys) == 1  # one master key, not one per process


def test_keys_init_creates_month_keys_for_the_booking_window_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeslot.cli import common
    from safeslot.cli.main import app

    key_file = tmp_path / "keys.json"
    monkeypatch.setenv("SAFESLOT_CRYPTO__KEY_FILE", str(key_file))
    monkeypatch.setenv("SAFESLOT_ENVIRONMENT", "production")  # where a missing key file is an error, not made
    monkeypatch.setenv("SAFESLOT_SECRET_KEY", "t" * 40)
    monkeypatch.delenv("SAFESLOT_CRYPTO__KEYS", raising=False)
    common.settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["keys", "init"])
        assert first.exit_code == 0, first.output
        ring = KeyRing.from_json(key_file.read_text())
        this_month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        assert this_month in ring.month_keys and len(ring.month_keys) >= 12
        assert key_file.stat().st_mode & 0o777 == 0o600
        again = CliRunner().invoke(app, ["keys", "init"])
        assert again.exit_code == 1 and "already exists" in " ".join(again.output.split())
        assert KeyRing.from_json(key_file.read_text()).to_json() == ring.to_json()
    finally:
        common.settings.cache_clear()
