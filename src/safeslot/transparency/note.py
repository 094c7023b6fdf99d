"""Signed notes, checkpoints and cosignatures (C2SP signed-note, tlog-checkpoint,
tlog-cosignature).

Pure: keys and timestamps are passed in, nothing is read from a clock or disk.

signed-note ("Format", "Signatures"): a note is UTF-8 text ending in a newline,
a blank line, then signature lines ``— <key name> base64(key ID || sig)``. The
text is separated from the signatures by the *last* blank line. Key names are
non-empty and contain no Unicode space and no ``+``. Ed25519 keys (signature
type 0x01) have key ID ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``.
Key strings follow golang.org/x/mod/sumdb/note, which the spec's vkeys
describe: verifier ``<name>+<hex key ID>+base64(type || public key)`` and
signer ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``.

`open_note` enforces the signed-note rules: malformed notes are rejected;
signatures from unknown keys (name *and* key ID must both match) are ignored;
every signature from a known key must verify, or the whole note is rejected
(the spec's SHOULD, taken as a must); at least one must verify. A key that
signs twice is checked each time and reported once; repeated unknown lines
are dropped. Two configured verifiers with the same name and key ID are a
configuration error. Limits: `MAX_SIGNATURES` lines and `MAX_NOTE_BYTES`
(the spec requires accepting at least 16 signatures, some of ~5 kB).

tlog-checkpoint ("Note text"): origin line, tree size in decimal without
leading zeros, base64 root hash, then optional non-empty extension lines.
Parsing is strict (canonical base64, 32-byte root), so ``parse`` and
``to_text`` round-trip byte for byte; a witness can cosign what it parsed.

tlog-cosignature ("Format", "Ed25519 signed message"): signature type 0x04;
the signed message is ``cosignature/v1\\ntime <unix>\\n`` followed by the
checkpoint text; the signature is an 8-byte big-endian timestamp followed by
the 64-byte Ed25519 signature. A `CosignatureVerifier` plugs into `open_note`
like any other verifier.

Errors::

    ValueError
     └── NoteError             anything wrong with a note, key or checkpoint
          ├── MalformedNoteError      not a well-formed signed note
          ├── KeyFormatError          a key string or key name is invalid
          ├── InvalidSignatureError   a known key's signature does not verify
          ├── UnverifiedNoteError     no signature from a known key
          └── CheckpointFormatError   note text is not a valid checkpoint
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointFormatError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "InvalidSignatureError",
    "KeyFormatError",
    "LogSigner",
    "MalformedNoteError",
    "NoteError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "Signer",
    "UnverifiedNoteError",
    "Verifier",
    "add_signatures",
    "key_id",
    "open_checkpoint",
    "open_note",
    "sign_note",
]

# Go's x/mod/sumdb/note stops at 100 signatures; the spec requires >= 16.
MAX_SIGNATURES = 100
# 100 ML-DSA-sized (~5 kB, base64) signature lines plus a checkpoint fit.
MAX_NOTE_BYTES = 1_000_000

SIG_ED25519 = 0x01  # signed-note "Signature types"
SIG_COSIGNATURE_V1 = 0x04  # tlog-cosignature, Ed25519
_SIG_PREFIX = "\u2014 "  # EM DASH, space
_MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: "MUST NOT exceed 2^63 - 1"
_MAX_TREE_SIZE = 2**63 - 1  # what Go's golang.org/x/mod/sumdb/tlog parses
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # control characters except newline
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


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


def _valid_name(name: str) -> bool:
    # signed-note: non-empty, no Unicode spaces, no plus; no control characters.
    if not name or "+" in name or _CONTROL.search(name):
        return False
    return not any(c.isspace() for c in name)


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """signed-note: ``SHA-256(key name || 0x0A || signature type || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def _b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4), canonical encodings only."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"invalid base64: {text!r}") from exc
    # Non-canonical padding bits would give one value two spellings.
    if base64.b64encode(raw).decode() != text:
        raise ValueError(f"non-canonical base64: {text!r}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def to_line(self) -> str:
        """``— <name> base64(key ID || signature)`` with its newline."""
        return f"{_SIG_PREFIX}{self.name} {_b64encode(self.key_id + self.signature)}\n"


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


# --- keys ---


def _split_key(key: str, parts: int) -> list[str]:
    # Names and hex IDs cannot contain "+", base64 can: split from the left.
    fields = key.split("+", parts - 1)
    if len(fields) != parts:
        raise KeyFormatError("malformed key string")
    return fields


class _Ed25519Verifier:
    _sig_type: ClassVar[int]

    def __init__(self, name: str, public_key: bytes) -> None:
        if not _valid_name(name):
            raise KeyFormatError(f"invalid key name {name!r}")
        if len(public_key) != 32:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")
        self._name = name
        self._public_bytes = public_key
        self._key = Ed25519PublicKey.from_public_bytes(public_key)
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

    @classmethod
    def parse(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex key ID>+base64(type || public key)``."""
        name, id_hex, key64 = _split_key(vkey.strip(), 3)
        try:
            raw = _b64decode(key64)
            kid = bytes.fromhex(id_hex)
        except ValueError as exc:
            raise KeyFormatError("malformed verifier key") from exc
        if len(id_hex) != 8 or len(raw) != 33 or raw[0] != cls._sig_type:
            raise KeyFormatError(f"not a verifier key of signature type {cls._sig_type:#04x}")
        verifier = cls(name, raw[1:])
        if verifier.key_id != kid:
            raise KeyFormatError("the key ID does not match the name and public key")
        return verifier

    def to_vkey(self) -> str:
        raw = bytes([self._sig_type]) + self._public_bytes
        return f"{self._name}+{self._key_id.hex()}+{_b64encode(raw)}"

    def _verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_vkey()!r})"


class _Ed25519Signer:
    _sig_type: ClassVar[int]

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not _valid_name(name):
            raise KeyFormatError(f"invalid key name {name!r}")
        self._name = name
        self._private = private_key
        self._public_bytes = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._key_id = key_id(name, self._sig_type, self._public_bytes)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @classmethod
    def generate(cls, name: str) -> Self:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> Self:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``."""
        private, key, name, id_hex, key64 = _split_key(skey.strip(), 5)
        try:
            raw = _b64decode(key64)
            kid = bytes.fromhex(id_hex)
        except ValueError as exc:
            raise KeyFormatError("malformed signer key") from exc
        if (private, key) != ("PRIVATE", "KEY") or len(id_hex) != 8:
            raise KeyFormatError("a signer key starts with PRIVATE+KEY+")
        if len(raw) != 33 or raw[0] != cls._sig_type:
            raise KeyFormatError(f"not a signer key of signature type {cls._sig_type:#04x}")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        # The ID hashes the *public* key, so it can only be checked after derivation.
        if signer.key_id != kid:
            raise KeyFormatError("the key ID does not match the name and key")
        return signer

    def seed(self) -> bytes:
        """The 32-byte private seed, for moving the key into an HSM (transparency/hsm.py); secret."""
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def to_skey(self) -> str:
        """The secret key string; whoever holds it can sign as this key."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        raw = bytes([self._sig_type]) + seed
        return f"PRIVATE+KEY+{self._name}+{self._key_id.hex()}+{_b64encode(raw)}"

    def to_vkey(self) -> str:
        raw = bytes([self._sig_type]) + self._public_bytes
        return f"{self._name}+{self._key_id.hex()}+{_b64encode(raw)}"

    def __repr__(self) -> str:  # never print the secret
        return f"{type(self).__name__}(name={self._name!r}, key_id={self._key_id.hex()})"


class Verifier(_Ed25519Verifier):
    """An Ed25519 note verifier (signature type 0x01)."""

    _sig_type = SIG_ED25519

    def verify(self, message: bytes, signature: bytes) -> bool:
        return self._verify(message, signature)


class Signer(_Ed25519Signer):
    """An Ed25519 note signer (signature type 0x01)."""

    _sig_type = SIG_ED25519

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def verifier(self) -> Verifier:
        return Verifier(self._name, self._public_bytes)


def _cosigned_message(checkpoint_text: bytes, timestamp: int) -> bytes:
    # tlog-cosignature "Ed25519 signed message": header, time line, checkpoint.
    return b"cosignature/v1\ntime %d\n" % timestamp + checkpoint_text


class CosignatureVerifier(_Ed25519Verifier):
    """Checks tlog-cosignature/v1 Ed25519 cosignatures (signature type 0x04)."""

    _sig_type = SIG_COSIGNATURE_V1

    def verify(self, message: bytes, signature: bytes) -> bool:
        """``message`` is the checkpoint text; ``signature`` is timestamp || sig."""
        if len(signature) != 72:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return False
        return self._verify(_cosigned_message(message, timestamp), signature[8:])

    @staticmethod
    def timestamp(signature: NoteSignature) -> int:
        """The POSIX time a (verified) cosignature claims it was made at."""
        if len(signature.signature) != 72:
            raise NoteError("not a tlog-cosignature/v1 signature")
        return int.from_bytes(signature.signature[:8], "big")


class CosignatureSigner(_Ed25519Signer):
    """A witness key making tlog-cosignature/v1 Ed25519 cosignatures."""

    _sig_type = SIG_COSIGNATURE_V1

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> NoteSignature:
        """Cosign ``checkpoint`` at POSIX time ``timestamp`` (seconds)."""
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise ValueError(f"timestamp {timestamp} is outside 0..2^63-1")
        message = _cosigned_message(checkpoint.to_text().encode(), timestamp)
        signature = timestamp.to_bytes(8, "big") + self._private.sign(message)
        return NoteSignature(self._name, self._key_id, signature)

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self._name, self._public_bytes)


# --- notes ---


def _encode(note: str | bytes) -> tuple[bytes, str]:
    if isinstance(note, bytes):
        raw = note
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNoteError("a note must be valid UTF-8") from exc
    else:
        text = note
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates
            raise MalformedNoteError("a note must be valid UTF-8") from exc
    return raw, text


def _parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a note into its text and signature lines; no verification."""
    raw, msg = _encode(note)
    if len(raw) > MAX_NOTE_BYTES:
        raise MalformedNoteError(f"note is larger than {MAX_NOTE_BYTES} bytes")
    if _CONTROL.search(msg):
        raise MalformedNoteError("a note must not contain control characters other than newline")
    split = msg.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("no blank line before the signatures")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("a note must end with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise MalformedNoteError("a signature line starts with an em dash and a space")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        try:
            raw_sig = _b64decode(b64)
        except ValueError as exc:
            raise MalformedNoteError("signature is not valid base64") from exc
        if not _valid_name(name) or len(raw_sig) < 5:
            raise MalformedNoteError("malformed signature line")
        sigs.append(NoteSignature(name, raw_sig[:4], raw_sig[4:]))
    return text, sigs


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` (which must end in a newline) with each signer in turn."""
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end in a newline")
    if _CONTROL.search(text):
        raise MalformedNoteError("note text must not contain control characters")
    if not signers:
        raise ValueError("a signed note needs at least one signature")
    message = text.encode()
    lines = []
    for signer in signers:
        if not _valid_name(signer.name):
            raise KeyFormatError(f"invalid key name {signer.name!r}")
        lines.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)).to_line())
    return text + "\n" + "".join(lines)


def add_signatures(note: str, signatures: Iterable[NoteSignature]) -> str:
    """Append signature lines (e.g. witness cosignatures) to a signed note.

    An existing signature with the same name and key ID is replaced, so a
    checkpoint carries at most one cosignature per witness key. Nothing is
    verified here: the caller verified the new signatures (tlog-witness says
    the log checks cosignatures with `open_note` before keeping them).
    """
    text, existing = _parse_note(note)
    new = list(signatures)
    replaced = {(s.name, s.key_id) for s in new}
    kept = [s for s in existing if (s.name, s.key_id) not in replaced]
    result = text + "\n" + "".join(s.to_line() for s in (*kept, *new))
    _parse_note(result)  # enforce the size and count limits on the result
    return result


def open_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> tuple[str, list[NoteSignature]]:
    """Verify a signed note; return its text and the verified signatures.

    Raises `MalformedNoteError`, `InvalidSignatureError` or
    `UnverifiedNoteError` as the module docstring describes.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known:
            raise NoteError(f"two verifiers share key {v.name}+{v.key_id.hex()}")
        known[(v.name, v.key_id)] = v
    text, sigs = _parse_note(note)
    message = text.encode()
    verified: list[NoteSignature] = []
    for sig in sigs:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue  # signed-note: MUST ignore signatures from unknown keys
        if not verifier.verify(message, sig.signature):
            raise InvalidSignatureError(f"bad signature from {sig.name}+{sig.key_id.hex()}")
        if all((s.name, s.key_id) != (sig.name, sig.key_id) for s in verified):
            verified.append(sig)
    if not verified:
        raise UnverifiedNoteError("no signature from a trusted key")
    return text, verified


# --- checkpoints ---


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: origin, tree size, root hash, extensions."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line or _CONTROL.search(line):
                raise CheckpointFormatError("origin and extension lines must be non-empty single lines")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise CheckpointFormatError(f"tree size {self.size} is out of range")
        if len(self.root_hash) != 32:
            raise CheckpointFormatError("the root hash is a 32-byte SHA-256 hash")

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text (the text of an opened note)."""
        if not text.endswith("\n"):
            raise CheckpointFormatError("checkpoint text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointFormatError("a checkpoint has at least three lines")
        origin, size_line, root_line, *extensions = lines
        if not _DECIMAL.fullmatch(size_line):
            raise CheckpointFormatError(f"tree size {size_line!r} is not a decimal without leading zeros")
        try:
            root = _b64decode(root_line)
        except ValueError as exc:
            raise CheckpointFormatError("the root hash is not valid base64") from exc
        return cls(origin, int(size_line), root, tuple(extensions))


def open_checkpoint(
    note: str | bytes,
    origin: str,
    log_verifier: NoteVerifier,
    cosigners: Iterable[NoteVerifier] = (),
) -> tuple[Checkpoint, list[NoteSignature]]:
    """Verify a checkpoint signed by ``log_verifier`` for ``origin``.

    Unlike plain `open_note`, a note carrying only witness cosignatures is not
    enough: the log's own signature must be present and valid. Returns the
    checkpoint and every verified signature, in note order; the caller counts
    the cosigners among them against its quorum.
    """
    text, sigs = open_note(note, [log_verifier, *cosigners])
    if not any((s.name, s.key_id) == (log_verifier.name, log_verifier.key_id) for s in sigs):
        raise UnverifiedNoteError("the checkpoint is not signed by the log's key")
    checkpoint = Checkpoint.parse(text)
    if checkpoint.origin != origin:
        raise CheckpointFormatError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint, sigs
