"""The log's signing key on disk or in a token: what `safeslot log vkey` and `safeslot witness keygen`
need, without the database layer or the web stack (the service re-exports these names)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from safeslot.transparency.errors import LogKeyMissing, LogKeyUnusable
from safeslot.transparency.note import LogSigner, Signer

if TYPE_CHECKING:
    from safeslot.config import LogSettings


def write_key_file(path: Path, secret: str) -> None:
    """Write a secret key readable by its owner only (0600); never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")


def load_signer(path: Path, origin: str, *, create: bool) -> Signer:
    """The log's signing key; generated on first use only when ``create`` (demo/dev/test)."""
    if path.exists():
        return Signer.parse(path.read_text())
    if not create:
        raise LogKeyMissing(
            f"No log signing key at {path}. Run `safeslot log keygen` and set SAFESLOT_LOG__SIGNING_KEY_FILE."
        )
    signer = Signer.generate(origin)
    write_key_file(path, signer.to_skey())
    return signer


def open_signer(log: LogSettings, *, create: bool) -> LogSigner:
    """The log's signing key where the settings keep it: the key file (`load_signer`) or a PKCS#11
    token (`hsm.Pkcs11Signer`, opened and self-tested now so that a wrong PIN or label stops start-up)."""
    if log.signer == "file":
        return load_signer(log.signing_key_file, log.origin, create=create)
    from safeslot.transparency import hsm  # the PKCS#11 binding loads only where a token is configured

    pin = log.pkcs11.read_pin()
    if pin is None:
        raise LogKeyUnusable("The log key is in a PKCS#11 token but no PIN is readable: set SAFESLOT_LOG__PKCS11__"
                             "PIN_FILE to a file the service can read (or SAFESLOT_LOG__PKCS11__PIN).")
    where = hsm.TokenKey(log.pkcs11.module, log.pkcs11.token_label, log.pkcs11.key_label)
    return hsm.Pkcs11Signer(log.origin, where, pin)
