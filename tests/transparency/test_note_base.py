"""The signed-note format's primitives (transparency/note_base.py), as C2SP signed-note defines them: which
key names are allowed, the 4-byte key ID a reader matches signatures with, strict base64 (one spelling per
value), a signature line and a key's verifier string. Signing and opening notes is in test_note.py."""

from __future__ import annotations

import hashlib

import pytest

from safeslot.transparency import note_base
from safeslot.transparency.note_keys import Signer


def test_a_key_name_has_no_space_plus_or_control_character() -> None:
    assert note_base.valid_name("safeslot.example/log")
    for bad in ("", "two words", "a+b", "tab\there", "new\nline", "nbsp\u00a0x"):
        assert not note_base.valid_name(bad), bad


def test_the_key_id_is_the_spec_hash_of_name_type_and_key() -> None:
    key = bytes(range(32))
    expected = hashlib.sha256(b"log.example\n\x01" + key).digest()[:4]
    assert note_base.key_id("log.example", note_base.SIG_ED25519, key) == expected
    assert note_base.key_id("log.example", note_base.SIG_COSIGNATURE_V1, key) != expected  # the type counts


def test_base64_has_one_spelling_per_value() -> None:
    assert note_base.b64decode(note_base.b64encode(b"\x00\xff")) == b"\x00\xff"
    for bad in ("AB==", "AA", "AA=\n", "A A=", "é==="):  # stray bits, no padding, whitespace, not ASCII
        with pytest.raises(ValueError, match="base64"):
            note_base.b64decode(bad)


def test_a_signature_line_and_a_verifier_string_are_spelled_as_the_spec_says() -> None:
    line = note_base.NoteSignature("log.example", b"\x01\x02\x03\x04", b"\xaa" * 64).to_line()
    assert line == "\u2014 log.example " + note_base.b64encode(b"\x01\x02\x03\x04" + b"\xaa" * 64) + "\n"
    signer = Signer.generate("log.example")
    name, key_hex, raw = signer.verifier().to_vkey().split("+", 2)  # base64 may hold a "+"
    assert (name, bytes.fromhex(key_hex)) == ("log.example", signer.key_id)
    assert note_base.b64decode(raw)[0] == note_base.SIG_ED25519
    with pytest.raises(note_base.KeyFormatError):
        Signer.generate("bad name")
