"""Ed25519 keys for signed notes (transparency/note_keys.py): the log's key and a witness's cosignature
key, as the key strings of golang.org/x/mod/sumdb/note. A key string round-trips; a key of the other kind,
an edited ID or a wrong signature is refused; the secret never shows in a repr."""

from __future__ import annotations

import hashlib

import pytest

from safeslot.transparency.note import Checkpoint
from safeslot.transparency.note_base import KeyFormatError, NoteError, NoteSignature
from safeslot.transparency.note_keys import CosignatureSigner, CosignatureVerifier, Signer, Verifier

ORIGIN = "safeslot.test/log"


def test_a_log_key_round_trips_through_its_strings_and_signs_what_its_verifier_accepts() -> None:
    signer = Signer.generate(ORIGIN)
    again = Signer.parse(signer.to_skey())
    assert again.key_id == signer.key_id and again.seed() == signer.seed()
    verifier = Verifier.parse(signer.verifier().to_vkey())
    signature = again.sign(b"checkpoint text\n")
    assert verifier.verify(b"checkpoint text\n", signature)
    assert not verifier.verify(b"checkpoint text, edited\n", signature)
    assert not Signer.generate(ORIGIN).verifier().verify(b"checkpoint text\n", signature)  # another key
    assert signer.to_skey().split("+", 4)[-1] not in repr(signer)  # the secret part never shows


def test_a_key_of_the_other_kind_or_an_edited_key_string_is_refused() -> None:
    log, witness = Signer.generate(ORIGIN), CosignatureSigner.generate("witness.test")
    with pytest.raises(KeyFormatError, match="signature type"):
        CosignatureVerifier.parse(log.verifier().to_vkey())
    with pytest.raises(KeyFormatError, match="signature type"):
        Signer.parse(witness.to_skey())
    name, kid, key = log.verifier().to_vkey().split("+", 2)  # base64 may hold "+" too
    with pytest.raises(KeyFormatError, match="key ID does not match"):
        Verifier.parse(f"{name}+{'0' * 8 if kid != '0' * 8 else '1' * 8}+{key}")
    with pytest.raises(KeyFormatError, match="key ID does not match"):
        Verifier.parse(f"other.test+{kid}+{key}")  # the ID hashes the name too
    with pytest.raises(KeyFormatError):
        Verifier.parse("no pluses here")
    with pytest.raises(KeyFormatError, match="PRIVATE\\+KEY"):
        Signer.parse("SECRET+KEY+" + log.to_skey().removeprefix("PRIVATE+KEY+"))


def test_a_cosignature_carries_its_time_and_covers_the_checkpoint_at_that_time() -> None:
    witness = CosignatureSigner.generate("witness.test")
    checkpoint = Checkpoint(ORIGIN, 3, hashlib.sha256(b"root").digest())
    cosig = witness.cosign(checkpoint, 1_800_000_000)
    verifier = CosignatureVerifier.parse(witness.verifier().to_vkey())
    text = checkpoint.to_text().encode()
    assert verifier.verify(text, cosig.signature)
    assert CosignatureVerifier.timestamp(cosig) == 1_800_000_000
    moved = (1_800_000_001).to_bytes(8, "big") + cosig.signature[8:]  # the same signature, another time
    assert not verifier.verify(text, moved)
    assert not verifier.verify(Checkpoint(ORIGIN, 4, checkpoint.root_hash).to_text().encode(), cosig.signature)
    with pytest.raises(ValueError, match="outside"):
        witness.cosign(checkpoint, -1)
    with pytest.raises(NoteError):
        CosignatureVerifier.timestamp(NoteSignature(cosig.name, cosig.key_id, b"short"))
