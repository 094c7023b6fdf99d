"""A signing key outside the app (an HSM, a KMS): the checkpoint service signs through the `NoteSigner` protocol."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.transparency import service
from safeslot.transparency.models import LogCheckpoint
from safeslot.transparency.note import SIG_ED25519, UnverifiedNoteError, Verifier, key_id, open_checkpoint
from tests.transparency.support import entries

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "safeslot.test/log"


class RemoteSigner:
    """What an HSM or KMS client exposes: the key never leaves it, only signatures come back."""

    def __init__(self, name: str) -> None:
        self._key = Ed25519PrivateKey.generate()  # stands for the key inside the device
        self.public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.name = name
        self.key_id = key_id(name, SIG_ED25519, self.public)
        self.calls = 0
        self.down = False

    def sign(self, message: bytes) -> bytes:
        if self.down:
            raise ConnectionError("the signing device does not answer")
        self.calls += 1
        return self._key.sign(message)


def test_a_checkpoint_signed_by_an_external_key_verifies_with_its_public_key(session: Session) -> None:
    signer = RemoteSigner(ORIGIN)
    service.append_raw(session, entries(3), now=NOW)
    row = service.checkpoint(session, signer, NOW, origin=ORIGIN)
    assert signer.calls == 1
    checkpoint, _ = open_checkpoint(row.note, ORIGIN, Verifier(ORIGIN, signer.public))
    assert (checkpoint.size, checkpoint.root_hash) == (3, row.root)
    with pytest.raises(UnverifiedNoteError):  # another key's verifier refuses it
        open_checkpoint(row.note, ORIGIN, Verifier(ORIGIN, RemoteSigner(ORIGIN).public))


def test_a_signing_device_that_does_not_answer_publishes_nothing(session: Session) -> None:
    signer = RemoteSigner(ORIGIN)
    service.append_raw(session, entries(2), now=NOW)
    signer.down = True
    with pytest.raises(ConnectionError):
        service.checkpoint(session, signer, NOW, origin=ORIGIN)
    assert session.scalar(select(func.count()).select_from(LogCheckpoint)) == 0
    signer.down = False
    assert service.checkpoint(session, signer, NOW, origin=ORIGIN).size == 2
