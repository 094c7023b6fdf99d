"""The signed-note format's primitives shared by keys and notes (C2SP signed-note, tlog-checkpoint,
tlog-cosignature): limits, signature types, key names and IDs, strict base64, the errors, one
signature line, a key's public face (`NoteKey`), and the signer/verifier protocols. ``note.py`` is the
module callers import.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from safeslot.transparency.note_keys import Verifier

# Go's x/mod/sumdb/note stops at 100 signatures; the spec requires >= 16.
MAX_SIGNATURES = 100
# 100 ML-DSA-sized (~5 kB, base64) signature lines plus a checkpoint fit.
MAX_NOTE_BYTES = 1_000_000

SIG_ED25519 = 0x01  # signed-note "Signature types"
SIG_COSIGNATURE_V1 = 0x04  # tlog-cosignature, Ed25519
SIG_PREFIX = "\u2014 "  # EM DASH, space
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: "MUST NOT exceed 2^63 - 1"
MAX_TREE_SIZE = 2**63 - 1  # what Go's golang.org/x/mod/sumdb/tlog parses
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # control characters except newline
DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A signed note, key or checkpoint is invalid."""


class MalformedNoteError(NoteError):
    """The bytes are not a well-formed signed note (C2SP signed-note "Format")."""


class KeyFormatError(NoteError):
    """A verifier/signer key string or a key name is invalid."""


class InvalidSignatureError(NoteError):
    """A signature from a known key failed to verify; the note must be rejected."""


class UnverifiedNoteError(NoteError):
    """The note has no verified signature from any of the given keys."""


class CheckpointFormatError(NoteError):
    """The note text is not a C2SP tlog-checkpoint."""


def valid_name(name: str) -> bool:
    # signed-note: non-empty, no Unicode spaces, no plus; no control characters.
    if not name or "+" in name or CONTROL.search(name):
        return False
    return not any(c.isspace() for c in name)


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """signed-note: ``SHA-256(key name || 0x0A || signature type || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4), canonical encodings only."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"invalid base64: {text!r}") from exc
    # Non-canonical padding bits would give one value two spellings.
    if base64.b64encode(raw).decode() != text:
        raise ValueError(f"non-canonical base64: {text!r}")
    return raw


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def to_line(self) -> str:
        """``— <name> base64(key ID || signature)`` with its newline."""
        return f"{SIG_PREFIX}{self.name} {b64encode(self.key_id + self.signature)}\n"


class NoteKey:
    """A note key's public face: its name, signature type and public key, and the key ID they hash to.

    Shared by every key, wherever its secret is (the Ed25519 keys of note_keys.py, the log's key in a
    PKCS#11 token, hsm.py): ``name``, ``key_id``, ``public_key`` and the verifier key string."""

    _sig_type: ClassVar[int]

    def __init__(self, name: str, public_key: bytes) -> None:
        if not valid_name(name):
            raise KeyFormatError(f"invalid key name {name!r}")
        self._name = name
        self._public_bytes = public_key
        self._key_id = key_id(name, self._sig_type, public_key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public_bytes

    def to_vkey(self) -> str:
        """``<name>+<hex key ID>+base64(type || public key)``: what readers and witnesses check with."""
        raw = bytes([self._sig_type]) + self._public_bytes
        return f"{self._name}+{self._key_id.hex()}+{b64encode(raw)}"


class NoteSigner(Protocol):
    """Anything that can sign note text (e.g. a key held in an HSM)."""

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    def sign(self, message: bytes) -> bytes: ...


class LogSigner(NoteSigner, Protocol):
    """The log's own key, wherever it is kept (the key file's `Signer`, `hsm.Pkcs11Signer`): it signs,
    and gives the verifier and vkey that readers and witnesses check with."""

    def verifier(self) -> Verifier: ...
    def to_vkey(self) -> str: ...


class NoteVerifier(Protocol):
    """Anything that can check one key's signatures on note text."""

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    def verify(self, message: bytes, signature: bytes) -> bool: ...
