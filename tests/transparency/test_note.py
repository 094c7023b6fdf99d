"""C2SP signed-note, tlog-checkpoint and tlog-cosignature."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from safeslot.transparency.merkle import EMPTY_ROOT, leaf_hash
from safeslot.transparency.note import (
    MAX_SIGNATURES,
    Checkpoint,
    CheckpointFormatError,
    CosignatureSigner,
    CosignatureVerifier,
    InvalidSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    NoteSignature,
    Signer,
    UnverifiedNoteError,
    Verifier,
    add_signatures,
    key_id,
    open_checkpoint,
    open_note,
    sign_note,
)

# Copied unchanged from their sources (vectors/README.md says which commit and licence).
TESTDATA = Path(__file__).resolve().parent / "vectors" / "signed-note"


def spec_example() -> tuple[bytes, str]:
    # Missing test data must fail, not skip: read_bytes raises.
    note = (TESTDATA / "example.com-foo.note").read_bytes()
    vkey = (TESTDATA / "example.com-foo.vkey").read_text().strip()
    return note, vkey


# --- the C2SP signed-note example ---


def test_spec_example_verifies() -> None:
    note, vkey = spec_example()
    verifier = Verifier.parse(vkey)
    assert verifier.to_vkey() == vkey
    assert "\u2014 example.com/foo " in note.decode()  # EM DASH, not a hyphen
    text, sigs = open_note(note, [verifier])
    assert text == "This is an example message.\n"
    assert [(s.name, s.key_id.hex()) for s in sigs] == [("example.com/foo", "530d903a")]
    assert open_note(note.decode(), [verifier])[0] == text


def test_spec_example_rejects_every_flipped_byte() -> None:
    note, vkey = spec_example()
    verifier = Verifier.parse(vkey)
    for i in range(len(note)):
        for bit in (0x01, 0x20, 0x80):
            tampered = bytearray(note)
            tampered[i] ^= bit
            with pytest.raises(NoteError):
                open_note(bytes(tampered), [verifier])


def test_spec_example_with_hyphen_separator_is_malformed() -> None:
    note, vkey = spec_example()
    with pytest.raises(MalformedNoteError):
        open_note(note.decode().replace("\u2014", "-"), [Verifier.parse(vkey)])


# The example in golang.org/x/mod/sumdb/note's package documentation: it pins
# the signer and verifier key strings and (Ed25519 being deterministic) the note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + (
    "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)


def test_go_key_strings_and_signature() -> None:
    signer = Signer.parse(GO_SKEY)
    assert signer.to_skey() == GO_SKEY
    assert signer.to_vkey() == GO_VKEY == signer.verifier().to_vkey()
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.parse(GO_VKEY)])[0] == GO_TEXT
    assert "AYEK" not in repr(signer)  # the secret never appears in logs


# --- keys ---


def test_generated_keys_round_trip() -> None:
    signer = Signer.generate("log.example.gov/safeslot")
    again = Signer.parse(signer.to_skey())
    assert again.to_vkey() == signer.to_vkey()
    verifier = Verifier.parse(signer.to_vkey())
    assert verifier.key_id == key_id(signer.name, 0x01, verifier.public_key)
    assert open_note(sign_note("hello\n", [again]), [verifier])[0] == "hello\n"


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong ID
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # short ID
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "PeterNeumann+c74f20a3+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type byte
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy",  # short key
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # empty name
    ],
)
def test_bad_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(KeyFormatError):
        Verifier.parse(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        GO_SKEY.replace("PRIVATE+KEY", "PUBLIC+KEY"),
        GO_SKEY.replace("c74f20a3", "c74f20a4"),
        GO_SKEY.replace("PRIVATE+KEY+", ""),
        GO_VKEY,
    ],
)
def test_bad_signer_keys_are_rejected(skey: str) -> None:
    with pytest.raises(KeyFormatError):
        Signer.parse(skey)


def test_key_types_are_not_interchangeable() -> None:
    witness = CosignatureSigner.generate("witness.example.org/w1")
    with pytest.raises(KeyFormatError):
        Verifier.parse(witness.to_vkey())
    with pytest.raises(KeyFormatError):
        Signer.parse(witness.to_skey())
    with pytest.raises(KeyFormatError):
        CosignatureVerifier.parse(GO_VKEY)
    assert CosignatureSigner.parse(witness.to_skey()).to_vkey() == witness.to_vkey()


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\tb", "a\u2003b"])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(KeyFormatError):
        Signer.generate(name)


# --- note format and signature rules ---

LOG = Signer.generate("log.example.gov/safeslot")
OTHER = Signer.generate("auditor.example.org")


@pytest.mark.parametrize(
    "note",
    [
        "hello\n\u2014 log x\n",  # no blank line
        "hello\n\n",  # no signature lines
        "hello\n\n\u2014 log AAAAAAA=",  # no final newline
        "hello\n\n- log AAAAAAA=\n",  # hyphen instead of em dash
        "hello\n\n\u2014log AAAAAAA=\n",  # no space after the dash
        "hello\n\n\u2014 log \n",  # empty signature
        "hello\n\n\u2014 log AAAA\n",  # shorter than key ID + 1 byte
        "hello\n\n\u2014 log AAAAAAA\n",  # bad padding
        "hello\n\n\u2014 log AAAA AAAA\n",  # space inside the signature
        "hello\n\n\u2014 lo+g AAAAAAA=\n",  # plus in the name
        "hel\tlo\n\n\u2014 log AAAAAAA=\n",  # control character
        "hello\r\n\n\u2014 log AAAAAAA=\n",  # carriage return
        "hello\n\n\u2014 log AAAAAAA=\n\n",  # trailing blank line
        "hello\ud800\n\n\u2014 log AAAAAAA=\n",  # lone surrogate: not UTF-8
        b"hello\xff\n\n\xe2\x80\x94 log AAAAAAA=\n",  # invalid UTF-8
    ],
)
def test_malformed_notes(note: str | bytes) -> None:
    with pytest.raises(MalformedNoteError):
        open_note(note, [LOG.verifier()])


def test_text_is_separated_at_the_last_blank_line() -> None:
    text = "first\n\nsecond\n"
    assert open_note(sign_note(text, [LOG]), [LOG.verifier()])[0] == text


def test_signing_requires_a_newline_terminated_text() -> None:
    with pytest.raises(MalformedNoteError):
        sign_note("no newline", [LOG])
    with pytest.raises(MalformedNoteError):
        sign_note("bell\a\n", [LOG])
    with pytest.raises(ValueError, match="at least one"):
        sign_note("x\n", [])


def test_unknown_keys_are_ignored_but_one_known_key_is_required() -> None:
    note = sign_note("hello\n", [OTHER, LOG])
    _, sigs = open_note(note, [LOG.verifier()])
    assert [s.name for s in sigs] == [LOG.name]
    with pytest.raises(UnverifiedNoteError):
        open_note(note, [])
    with pytest.raises(UnverifiedNoteError):
        open_note(sign_note("hello\n", [OTHER]), [LOG.verifier()])


def test_same_name_or_same_id_alone_is_an_unknown_key() -> None:
    (sig,) = open_note(sign_note("hello\n", [LOG]), [LOG.verifier()])[1]
    impostors = [
        NoteSignature("someone.else", sig.key_id, sig.signature),
        NoteSignature(sig.name, b"\x00\x00\x00\x00", sig.signature),
    ]
    note = add_signatures(sign_note("hello\n", [OTHER]), impostors)
    _, sigs = open_note(note, [OTHER.verifier()])
    assert [s.name for s in sigs] == [OTHER.name]
    with pytest.raises(UnverifiedNoteError):
        open_note(note, [LOG.verifier()])


def test_a_bad_signature_from_a_known_key_rejects_the_note() -> None:
    note = sign_note("hello\n", [LOG, OTHER])
    forged = NoteSignature(OTHER.name, OTHER.key_id, bytes(64))
    with pytest.raises(InvalidSignatureError):
        open_note(add_signatures(note, [forged]), [LOG.verifier(), OTHER.verifier()])
    # Not known here, so ignored: the log's signature alone carries the note.
    open_note(add_signatures(note, [forged]), [LOG.verifier()])


def test_duplicate_signatures_from_one_key() -> None:
    note = sign_note("hello\n", [LOG])
    line = note.split("\n\n")[1]
    _, sigs = open_note(note + line, [LOG.verifier()])
    assert len(sigs) == 1  # checked twice, reported once
    bad = NoteSignature(LOG.name, LOG.key_id, bytes(64)).to_line()
    with pytest.raises(InvalidSignatureError):
        open_note(note + bad, [LOG.verifier()])
    with pytest.raises(NoteError, match="share key"):
        open_note(note, [LOG.verifier(), Verifier.parse(LOG.to_vkey())])


def test_signature_count_limit() -> None:
    # signed-note: verifiers MUST accept at least 16 signatures.
    signers = [Signer.generate(f"witness{i}.example") for i in range(16)]
    _, sigs = open_note(sign_note("x\n", signers), [s.verifier() for s in signers])
    assert len(sigs) == 16
    note = sign_note("x\n", [LOG])
    filler = NoteSignature("unknown.example", b"\x01\x02\x03\x04", bytes(64)).to_line()
    open_note(note + filler * (MAX_SIGNATURES - 1), [LOG.verifier()])
    with pytest.raises(MalformedNoteError, match="more than"):
        open_note(note + filler * MAX_SIGNATURES, [LOG.verifier()])


def test_add_signatures_replaces_a_keys_old_signature() -> None:
    note = sign_note("hello\n", [LOG])
    fresh = open_note(sign_note("hello\n", [OTHER]), [OTHER.verifier()])[1]
    twice = add_signatures(add_signatures(note, fresh), fresh)
    assert twice.count(OTHER.name) == 1
    _, sigs = open_note(twice, [LOG.verifier(), OTHER.verifier()])
    assert [s.name for s in sigs] == [LOG.name, OTHER.name]


# --- checkpoints ---

ROOT = leaf_hash(b"root")
ORIGIN = "log.example.gov/safeslot"


def test_checkpoint_text() -> None:
    cp = Checkpoint(ORIGIN, 20852163, ROOT)
    text = f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert cp.to_text() == text
    assert Checkpoint.parse(text) == cp
    empty = Checkpoint(ORIGIN, 0, EMPTY_ROOT, ("ext one", "ext two"))
    assert empty.to_text().endswith("\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\next two\n")
    assert Checkpoint.parse(empty.to_text()) == empty


line = st.text(st.characters(exclude_categories=["Cs"], min_codepoint=0x20), min_size=1, max_size=40)


@given(
    origin=line,
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line, max_size=3),
)
def test_checkpoint_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(cp.to_text()) == cp
    assert Checkpoint.parse(cp.to_text()).to_text() == cp.to_text()


R64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n012\n{R64}\n",  # leading zero
        f"{ORIGIN}\n00\n{R64}\n",
        f"{ORIGIN}\n+12\n{R64}\n",
        f"{ORIGIN}\n-1\n{R64}\n",
        f"{ORIGIN}\n 12\n{R64}\n",
        f"{ORIGIN}\n1_2\n{R64}\n",
        f"{ORIGIN}\n\uff11\uff12\n{R64}\n",  # fullwidth digits: int() accepts them
        f"{ORIGIN}\n{2**63}\n{R64}\n",  # too large
        f"{ORIGIN}\n\n{R64}\n",  # empty size
        f"{ORIGIN}\n12\nnot base64!\n",
        f"{ORIGIN}\n12\n{R64[:-1]}\n",  # bad padding
        f"{ORIGIN}\n12\n{R64[:-2]}B=\n",  # non-canonical padding bits
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"{ORIGIN}\n12\n{R64}",  # missing final newline
        f"{ORIGIN}\n12\n",  # too few lines
        f"\n12\n{R64}\n",  # empty origin
        f"{ORIGIN}\n12\n{R64}\n\nextension\n",  # empty extension line
    ],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(CheckpointFormatError):
        Checkpoint.parse(text)


def test_checkpoint_constructor_validates() -> None:
    with pytest.raises(CheckpointFormatError):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(CheckpointFormatError):
        Checkpoint("two\nlines", 1, ROOT)
    with pytest.raises(CheckpointFormatError):
        Checkpoint(ORIGIN, 1, b"short")


# --- cosignatures and open_checkpoint ---

WITNESS = CosignatureSigner.generate("witness.example.org/w1")
NOW = 1_700_000_000


def signed_checkpoint(cp: Checkpoint) -> str:
    return sign_note(cp.to_text(), [LOG])


def test_cosignature_format() -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT)
    sig = WITNESS.cosign(cp, NOW)
    verifier = WITNESS.verifier()
    # tlog-cosignature: key ID over type 0x04; signature = u64 time || Ed25519.
    public = verifier.public_key
    assert sig.key_id == hashlib.sha256(WITNESS.name.encode() + b"\n\x04" + public).digest()[:4]
    assert len(sig.signature) == 72
    assert CosignatureVerifier.timestamp(sig) == NOW
    message = f"cosignature/v1\ntime {NOW}\n".encode() + cp.to_text().encode()
    Ed25519PublicKey.from_public_bytes(public).verify(sig.signature[8:], message)


def test_cosigned_checkpoint_opens_with_log_and_witness_keys() -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT)
    note = add_signatures(signed_checkpoint(cp), [WITNESS.cosign(cp, NOW)])
    got, sigs = open_checkpoint(note, ORIGIN, LOG.verifier(), [WITNESS.verifier()])
    assert got == cp
    assert [s.name for s in sigs] == [LOG.name, WITNESS.name]
    assert CosignatureVerifier.timestamp(sigs[1]) == NOW


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: NoteSignature(s.name, s.key_id, (NOW + 1).to_bytes(8, "big") + s.signature[8:]),
        lambda s: NoteSignature(s.name, s.key_id, s.signature[:-1] + bytes([s.signature[-1] ^ 1])),
        lambda s: NoteSignature(s.name, s.key_id, s.signature[8:]),  # no timestamp
        lambda s: NoteSignature(s.name, s.key_id, (2**63).to_bytes(8, "big") + s.signature[8:]),
    ],
)
def test_tampered_cosignatures_fail(tamper: Callable[[NoteSignature], NoteSignature]) -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT)
    note = add_signatures(signed_checkpoint(cp), [tamper(WITNESS.cosign(cp, NOW))])
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(note, ORIGIN, LOG.verifier(), [WITNESS.verifier()])


def test_cosignature_is_bound_to_the_checkpoint() -> None:
    old, new = Checkpoint(ORIGIN, 42, ROOT), Checkpoint(ORIGIN, 43, ROOT)
    note = add_signatures(signed_checkpoint(new), [WITNESS.cosign(old, NOW)])
    with pytest.raises(InvalidSignatureError):
        open_note(note, [WITNESS.verifier()])
    # A plain note signature by the same key pair is a different key ID: ignored.
    plain = Verifier(WITNESS.name, WITNESS.verifier().public_key)
    with pytest.raises(UnverifiedNoteError):
        open_note(add_signatures(signed_checkpoint(old), [WITNESS.cosign(old, NOW)]), [plain])


def test_cosign_rejects_out_of_range_time() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        WITNESS.cosign(Checkpoint(ORIGIN, 1, ROOT), 2**63)
    with pytest.raises(ValueError, match="timestamp"):
        WITNESS.cosign(Checkpoint(ORIGIN, 1, ROOT), -1)


def test_open_checkpoint_requires_the_log_signature_and_origin() -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT)
    witness_only = add_signatures(sign_note(cp.to_text(), [OTHER]), [WITNESS.cosign(cp, NOW)])
    with pytest.raises(UnverifiedNoteError, match="log's key"):
        open_checkpoint(witness_only, ORIGIN, LOG.verifier(), [WITNESS.verifier()])
    with pytest.raises(CheckpointFormatError, match="origin"):
        open_checkpoint(signed_checkpoint(cp), "other.example/log", LOG.verifier())
    with pytest.raises(CheckpointFormatError):
        open_checkpoint(sign_note("just text\n", [LOG]), ORIGIN, LOG.verifier())
