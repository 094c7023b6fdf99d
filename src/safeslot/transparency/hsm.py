"""The log's signing key held in a PKCS#11 token: an HSM, a cloud KMS's PKCS#11 library, or SoftHSM2.

PKCS#11 (OASIS, v3.0) is the one interface every HSM vendor and the cloud KMSs' client libraries
offer; python-pkcs11 is the well-kept binding. The key is Ed25519 (``CKK_EC_EDWARDS``, signed with
``CKM_EDDSA``, PKCS#11 3.0 section 2.3.14), so a checkpoint signed in the token is a C2SP signed
note like one signed with the key file: verifiers, witnesses and the outside test vectors do not
change. The public key and so the key ID come from the token, never from a setting.

Everything that can be wrong with the token (module, token label, PIN, key label, a key that is
not Ed25519 or cannot sign) is found when the signer is opened, at start-up, and reported as
`LogKeyUnusable` naming the setting to fix, instead of a 500 when the first checkpoint is signed.
Opening ends with a test signature checked against the token's public key.

A PKCS#11 session is not safe for two threads at once, so signing is serialised by a lock; a
session the token dropped (an HSM restarted, a network HSM reconnected) is reopened once.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import (
    MultipleObjectsReturned,
    NoSuchKey,
    NoSuchToken,
    PinIncorrect,
    PinInvalid,
    PinLenRange,
    PKCS11Error,
    UserAlreadyLoggedIn,
)

from safeslot.transparency.errors import LogKeyUnusable
from safeslot.transparency.note import SIG_ED25519, NoteKey, Signer, Verifier

__all__ = ["ED25519_PARAMS", "Pkcs11Signer", "TokenKey", "generate_key", "import_key"]

# PKCS#11 3.0 section 2.3.2: CKA_EC_PARAMS of an Edwards key is the DER of the curve's OID
# (id-Ed25519, 1.3.101.112, RFC 8410) or of the PrintableString "edwards25519".
ED25519_PARAMS = bytes.fromhex("06032b6570")
_ED25519_NAMED = bytes.fromhex("130c") + b"edwards25519"
_SELF_TEST = b"safeslot: PKCS#11 signer self-test\n"


@dataclass(frozen=True)
class TokenKey:
    """Where the key is: the PKCS#11 module (a shared library), the token's label, the key's label."""

    module: Path
    token_label: str
    key_label: str

    def describe(self) -> str:
        return f"key {self.key_label!r} on token {self.token_label!r} (module {self.module})"


def _ed25519_point(public: Any) -> bytes:
    """The 32 public-key bytes: CKA_EC_POINT is a DER OCTET STRING, or the raw bytes on older tokens."""
    params = bytes(public[Attribute.EC_PARAMS])
    if params not in (ED25519_PARAMS, _ED25519_NAMED):
        raise LogKeyUnusable("The token's key is not an Ed25519 key; the log signs C2SP notes with Ed25519 "
                             "(create it with `safeslot log hsm-keygen`).")
    point = bytes(public[Attribute.EC_POINT])
    if len(point) == 34 and point[:2] == b"\x04\x20":
        return point[2:]
    if len(point) == 32:
        return point
    raise LogKeyUnusable("The token's public key is not a 32-byte Ed25519 point.")


def _open_session(where: TokenKey, pin: str, *, write: bool = False) -> Any:
    if not where.module.is_file():
        raise LogKeyUnusable(f"No PKCS#11 module at {where.module}: install the HSM's or KMS's PKCS#11 library "
                             "and set SAFESLOT_LOG__PKCS11__MODULE to its path.")
    try:
        lib = pkcs11.lib(str(where.module))
        token = lib.get_token(token_label=where.token_label)
    except NoSuchToken as exc:
        raise LogKeyUnusable(f"No token labelled {where.token_label!r} in {where.module}: check "
                             "SAFESLOT_LOG__PKCS11__TOKEN_LABEL.") from exc
    except MultipleObjectsReturned as exc:
        raise LogKeyUnusable(f"Several tokens are labelled {where.token_label!r}: give the log's token a "
                             "label of its own.") from exc
    except PKCS11Error as exc:
        raise LogKeyUnusable(f"The PKCS#11 module {where.module} could not be used ({type(exc).__name__}).") from exc
    try:
        return token.open(user_pin=pin, rw=write)
    except UserAlreadyLoggedIn:
        # PKCS#11 logs in the application, not the session: another session of this process (the
        # signer, while a key is generated) holds the login, so this one opens logged in already.
        return token.open(rw=write)
    except (PinIncorrect, PinInvalid, PinLenRange) as exc:
        raise LogKeyUnusable(f"The token {where.token_label!r} refused the PIN: check SAFESLOT_LOG__PKCS11__PIN_FILE "
                             "(or SAFESLOT_LOG__PKCS11__PIN). Repeated wrong PINs may lock the token.") from exc
    except PKCS11Error as exc:
        raise LogKeyUnusable(f"The token {where.token_label!r} could not be opened ({type(exc).__name__}).") from exc


class Pkcs11Signer(NoteKey):
    """A `note.LogSigner` (the file signer's face: `NoteKey`'s name, key ID, public key and vkey) whose
    key never leaves the token.

    ``name`` is the log's origin, as for the file key; ``key_id`` hashes the token's public key.
    """

    _sig_type = SIG_ED25519

    def __init__(self, name: str, where: TokenKey, pin: str) -> None:
        self._where, self._pin = where, pin
        self._lock = threading.Lock()
        self._session: Any = None
        self._private: Any = None
        super().__init__(name, self._open())
        self._self_test()

    def _open(self) -> bytes:
        session = _open_session(self._where, self._pin)
        label = self._where.key_label
        try:
            private = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC_EDWARDS, label=label)
            public = session.get_key(ObjectClass.PUBLIC_KEY, KeyType.EC_EDWARDS, label=label)
        except NoSuchKey as exc:
            session.close()
            raise LogKeyUnusable(f"No Ed25519 key pair labelled {label!r} on token {self._where.token_label!r}: "
                                 "check SAFESLOT_LOG__PKCS11__KEY_LABEL, or create or import the key "
                                 "(`safeslot log hsm-keygen`, `safeslot log hsm-import`).") from exc
        except MultipleObjectsReturned as exc:
            session.close()
            raise LogKeyUnusable(f"Several keys are labelled {label!r}: the log's key needs a label of its own."
                                 ) from exc
        point = _ed25519_point(public)
        self._session, self._private = session, private
        return point

    def _self_test(self) -> None:
        try:
            signature = self.sign(_SELF_TEST)
            Ed25519PublicKey.from_public_bytes(self._public_bytes).verify(signature, _SELF_TEST)
        except InvalidSignature as exc:
            raise LogKeyUnusable(f"The private and public keys of {self._where.describe()} do not match.") from exc

    def sign(self, message: bytes) -> bytes:
        """Sign in the token (CKM_EDDSA, pure Ed25519 with no context). A dropped session is reopened once;
        a token that still refuses raises `LogKeyUnusable` (503: nothing is published without a signature)."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return bytes(self._private.sign(message, mechanism=Mechanism.EDDSA))
                except PKCS11Error as exc:
                    if attempt == 2:
                        raise LogKeyUnusable(f"The token refused to sign ({type(exc).__name__}) with "
                                             f"{self._where.describe()}.") from exc
                    self.close_session()
                    if self._open() != self._public_bytes:
                        raise LogKeyUnusable("The token now holds another key under the log key's label.") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def close_session(self) -> None:
        if self._session is not None:
            with contextlib.suppress(PKCS11Error):  # the token may have dropped it already
                self._session.close()
            self._session = self._private = None

    def verifier(self) -> Verifier:
        return Verifier(self._name, self._public_bytes)

    def __repr__(self) -> str:
        return f"Pkcs11Signer(name={self._name!r}, key_id={self._key_id.hex()}, {self._where.describe()})"


# -- putting the key in the token (the operator's CLI; tests) ------------------------------------------
def _private_template(label: str) -> dict[Attribute, Any]:
    # Sensitive and never extractable: once in the token, the key signs and nothing reads it out.
    return {Attribute.LABEL: label, Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False, Attribute.SIGN: True}


def _refuse_existing(session: Any, label: str) -> None:
    if any(True for _ in session.get_objects({Attribute.LABEL: label})):
        raise LogKeyUnusable(f"The token holds a key labelled {label!r} already; choose another label "
                             "(keys are never overwritten).")


def generate_key(where: TokenKey, pin: str, name: str) -> Verifier:
    """Generate an Ed25519 key pair inside the token; return its verifier (the vkey to publish)."""
    session = _open_session(where, pin, write=True)
    try:
        _refuse_existing(session, where.key_label)
        public, _ = session.generate_keypair(
            KeyType.EC_EDWARDS, mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN, store=True, label=where.key_label,
            public_template={Attribute.EC_PARAMS: ED25519_PARAMS, Attribute.TOKEN: True, Attribute.VERIFY: True,
                             Attribute.LABEL: where.key_label},
            private_template=_private_template(where.key_label),
        )
        return Verifier(name, _ed25519_point(public))
    except PKCS11Error as exc:
        raise LogKeyUnusable(f"The token could not generate an Ed25519 key ({type(exc).__name__}); "
                             "it may not support CKM_EC_EDWARDS_KEY_PAIR_GEN.") from exc
    finally:
        session.close()


def import_key(where: TokenKey, pin: str, signer: Signer) -> Verifier:
    """Move the log's file key into the token (same key, same key ID: verifiers and witnesses keep
    working). The caller then deletes the file; the token never gives the key back."""
    session = _open_session(where, pin, write=True)
    verifier = signer.verifier()
    try:
        _refuse_existing(session, where.key_label)
        session.create_object({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.EC_EDWARDS,
                               Attribute.EC_PARAMS: ED25519_PARAMS, Attribute.VALUE: signer.seed(),
                               **_private_template(where.key_label)})
        session.create_object({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.KEY_TYPE: KeyType.EC_EDWARDS,
                               Attribute.EC_PARAMS: ED25519_PARAMS, Attribute.TOKEN: True, Attribute.VERIFY: True,
                               Attribute.EC_POINT: b"\x04\x20" + verifier.public_key, Attribute.LABEL: where.key_label})
    except PKCS11Error as exc:
        raise LogKeyUnusable(f"The token refused the key ({type(exc).__name__}); some HSMs accept keys only "
                             "wrapped: generate one inside it instead (`safeslot log hsm-keygen`).") from exc
    finally:
        session.close()
    return verifier
