"""Ed25519 keys for signed notes: the log's key (signature type 0x01) and a witness's
cosignature key (tlog-cosignature/v1, type 0x04), as key strings in the format of
golang.org/x/mod/sumdb/note. ``note.py`` is the module callers import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

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

from safeslot.transparency.note_base import (
    MAX_TIMESTAMP,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    KeyFormatError,
    NoteError,
    NoteKey,
    NoteSignature,
    b64decode,
    b64encode,
)

if TYPE_CHECKING:
    from safeslot.transparency.note import Checkpoint


def _split_key(key: str, parts: int) -> list[str]:
    # Names and hex IDs cannot contain "+", base64 can: split from the left.
    fields = key.split("+", parts - 1)
    if len(fields) != parts:
        raise KeyFormatError("malformed key string")
    return fields


class _Ed25519Verifier(NoteKey):
    def __init__(self, name: str, public_key: bytes) -> None:
        super().__init__(name, public_key)
        if len(public_key) != 32:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def parse(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex key ID>+base64(type || public key)``."""
        name, id_hex, key64 = _split_key(vkey.strip(), 3)
        try:
            raw = b64decode(key64)
            kid = bytes.fromhex(id_hex)
        except ValueError as exc:
            raise KeyFormatError("malformed verifier key") from exc
        if len(id_hex) != 8 or len(raw) != 33 or raw[0] != cls._sig_type:
            raise KeyFormatError(f"not a verifier key of signature type {cls._sig_type:#04x}")
        verifier = cls(name, raw[1:])
        if verifier.key_id != kid:
            raise KeyFormatError("the key ID does not match the name and public key")
        return verifier

    def _verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_vkey()!r})"


class _Ed25519Signer(NoteKey):
    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        super().__init__(name, private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        self._private = private_key

    @classmethod
    def generate(cls, name: str) -> Self:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> Self:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``."""
        private, key, name, id_hex, key64 = _split_key(skey.strip(), 5)
        try:
            raw = b64decode(key64)
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
        return f"PRIVATE+KEY+{self._name}+{self._key_id.hex()}+{b64encode(raw)}"

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
        if timestamp > MAX_TIMESTAMP:
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
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise ValueError(f"timestamp {timestamp} is outside 0..2^63-1")
        message = _cosigned_message(checkpoint.to_text().encode(), timestamp)
        signature = timestamp.to_bytes(8, "big") + self._private.sign(message)
        return NoteSignature(self._name, self._key_id, signature)

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self._name, self._public_bytes)
