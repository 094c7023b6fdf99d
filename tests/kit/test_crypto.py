"""The kernel's field encryption (kit/crypto.py): what a sealed value promises, tried directly.

The stories (tests/privacy/test_at_rest.py, test_month_keys.py, test_rotation.py) show it through the
service; here each promise is tried on its own: a value opens only under its own context, a changed byte
is refused, a destroyed month key makes its values unreadable, a new master key still opens old values,
the name index matches the same name however it is typed and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from safeslot.kit.crypto import (
    KeyMissing,
    KeyRing,
    KeyRingInvalid,
    load_key_ring,
    months_between,
    normalise_name,
)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate()


def test_a_sealed_value_opens_only_under_the_context_it_was_sealed_for(ring: KeyRing) -> None:
    sealed = ring.seal("Test Person A", "appointment.name")
    assert b"Test Person A" not in sealed
    assert ring.open(sealed, "appointment.name") == "Test Person A"
    with pytest.raises(KeyMissing):
        ring.open(sealed, "appointment.contact")  # a name copied into the contact column does not open there


def test_sealing_twice_gives_two_different_values(ring: KeyRing) -> None:
    assert ring.seal("555-0100", "appointment.contact") != ring.seal("555-0100", "appointment.contact")


def test_a_changed_byte_is_refused(ring: KeyRing) -> None:
    sealed = bytearray(ring.seal("Test Person A", "appointment.name"))
    sealed[-1] ^= 1
    with pytest.raises(KeyMissing, match="does not authenticate"):
        ring.open(bytes(sealed), "appointment.name")
    with pytest.raises(KeyRingInvalid):
        ring.open(b"plain text", "appointment.name")


def test_a_new_master_key_seals_and_the_old_one_still_opens(ring: KeyRing) -> None:
    old = ring.seal("Test Person A", "appointment.name")
    rotated = ring.with_new_key()
    new = rotated.seal("Test Person B", "appointment.name")
    assert KeyRing.key_id_of(new) == rotated.current != KeyRing.key_id_of(old)
    assert rotated.open(old, "appointment.name") == "Test Person A"
    with pytest.raises(KeyMissing, match="not in the key ring"):
        rotated.without(KeyRing.key_id_of(old)).open(old, "appointment.name")


def test_a_months_value_is_unreadable_once_its_month_key_is_destroyed(ring: KeyRing) -> None:
    ring = ring.with_month_keys(["2027-03", "2027-04"])
    march = ring.seal("Test Person A", "appointment.name", month="2027-03")
    april = ring.seal("Test Person B", "appointment.name", month="2027-04")
    assert KeyRing.key_id_of(march) == "m2027-03"
    purged = ring.without_months(["2027-03"])
    with pytest.raises(KeyMissing):
        purged.open(march, "appointment.name")
    assert purged.open(april, "appointment.name") == "Test Person B"


def test_a_ring_without_a_key_file_seals_a_new_month_under_the_master_key(ring: KeyRing) -> None:
    sealed = ring.seal("Test Person A", "appointment.name", month="2027-05")  # no file to add the month to
    assert KeyRing.key_id_of(sealed) == ring.current
    assert ring.open(sealed, "appointment.name") == "Test Person A"


def test_the_name_index_matches_the_same_name_however_typed_and_nothing_else(ring: KeyRing) -> None:
    assert normalise_name("  José-María  O.Example ") == "jose maria o example"
    assert ring.blind_index("José María") == ring.blind_index("jose  MARIA") == ring.blind_index("Jose-Maria")
    assert ring.blind_index("José María") != ring.blind_index("José Mario")
    assert ring.blind_index("José María") != KeyRing.generate().blind_index("José María")  # keyed
    assert "jose" not in ring.blind_index("José María")


def test_a_ring_survives_its_json_and_refuses_a_malformed_one(ring: KeyRing) -> None:
    ring = ring.with_month_keys(["2027-03"])
    again = KeyRing.from_json(ring.to_json())
    assert again.open(ring.seal("Test Person A", "x", month="2027-03"), "x") == "Test Person A"
    broken = json.loads(ring.to_json())
    broken["keys"][ring.current] = "c2hvcnQ="  # five bytes, not 32
    with pytest.raises(KeyRingInvalid, match="32 bytes"):
        KeyRing.from_json(json.dumps(broken))
    with pytest.raises(KeyRingInvalid, match="malformed"):
        KeyRing.from_json("{}")


def test_the_key_file_is_created_only_when_allowed_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    with pytest.raises(KeyRingInvalid, match="keys init"):
        load_key_ring(key_file, None, create=False)
    ring = load_key_ring(key_file, None, create=True)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key_ring(key_file, None, create=False).open(ring.seal("Test Person A", "x"), "x") == "Test Person A"


def test_months_between_lists_each_month_once() -> None:
    first = dt.datetime(2027, 11, 30, tzinfo=dt.UTC)
    assert months_between(first, first + dt.timedelta(days=70)) == ["2027-11", "2027-12", "2028-01", "2028-02"]
