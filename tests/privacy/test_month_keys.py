"""Per-month data keys: appointments move under their month's key; purging the month destroys it,
so a backup taken before the purge can no longer be read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import RetentionSettings
from safeslot.kit.crypto import KeyMissing, KeyRing, load_key_ring, write_key_file
from safeslot.privacy import retention, rotation
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW
from tests.identity.helpers import add_appointments


def test_purged_month_key_is_destroyed_and_old_backups_become_unreadable(session: Session, office: str) -> None:
    settings = RetentionSettings()
    ring = KeyRing.generate().with_month_keys(["2026-01", *retention.months_to_key(settings, NOW, ahead_days=30)])
    old = add_appointments(session, ring, 2, dt.datetime(2026, 1, 15, 15, tzinfo=dt.UTC))
    recent = add_appointments(session, ring, 2, NOW + dt.timedelta(hours=1))
    for month in ring.month_keys:
        while rotation.seal_by_month_batch(session, ring, month, batch_size=1):
            pass
    session.expire_all()
    assert {ring.key_id_of(a.name_enc) for a in session.scalars(select(Appointment))} == {"m2026-01", "m2027-03"}
    backup = [(a.name_enc, a.contact_enc) for a in old]  # what a backup taken now would hold
    # master-key rotation leaves month-keyed values alone
    assert rotation.pending(session, ring.with_new_key()) == 0

    retention.run(session, settings, NOW)
    gone = retention.destroyable_months(session, ring, settings, NOW)
    assert gone == ["2026-01"]
    after = ring.without_months(gone)
    for name_enc, contact_enc in backup:
        with pytest.raises(KeyMissing):
            after.open(name_enc, "appointment.name")
        assert contact_enc is not None
        with pytest.raises(KeyMissing):
            after.open(contact_enc, "appointment.contact")
    assert [after.open(a.name_enc, "appointment.name") for a in recent] == ["Test Person M 0", "Test Person M 1"]


def test_a_running_server_reads_month_keys_added_to_the_file_later(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    server = load_key_ring(key_file, None, create=True)  # loaded at start-up
    cli = KeyRing.from_json(key_file.read_text()).with_month_keys(["2027-03"])
    write_key_file(key_file, cli)  # `safeslot retention run` adds a month key
    sealed = cli.seal("Test Person M", "appointment.name", "2027-03")
    assert server.open(sealed, "appointment.name") == "Test Person M"
