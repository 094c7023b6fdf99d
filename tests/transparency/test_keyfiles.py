"""The log's signing key on disk (transparency/keyfiles.py): written for its owner only and never over
another key; made on first use only where allowed; a missing key or token PIN stops start-up saying what
to set."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from safeslot.config import LogSettings
from safeslot.transparency import keyfiles
from safeslot.transparency.errors import LogKeyMissing, LogKeyUnusable

ORIGIN = "safeslot.test/log"


def test_a_key_file_is_the_owners_alone_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "log.key"
    keyfiles.write_key_file(path, "PRIVATE+KEY+first")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        keyfiles.write_key_file(path, "PRIVATE+KEY+second")
    assert path.read_text() == "PRIVATE+KEY+first\n"


def test_the_key_is_made_on_first_use_only_where_allowed_and_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    with pytest.raises(LogKeyMissing, match="safeslot log keygen"):
        keyfiles.load_signer(path, ORIGIN, create=False)
    assert not path.exists()
    made = keyfiles.load_signer(path, ORIGIN, create=True)
    assert made.name == ORIGIN
    assert keyfiles.load_signer(path, ORIGIN, create=False).key_id == made.key_id
    assert keyfiles.open_signer(LogSettings(origin=ORIGIN, signing_key_file=path), create=False).key_id == made.key_id


def test_a_token_without_a_readable_pin_stops_start_up_saying_what_to_set(tmp_path: Path) -> None:
    settings = LogSettings(origin=ORIGIN, signer="pkcs11", pkcs11={"pin_file": tmp_path / "missing-pin"})
    with pytest.raises(LogKeyUnusable, match="PIN_FILE"):
        keyfiles.open_signer(settings, create=False)
