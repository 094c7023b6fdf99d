"""Field encryption at rest: AES-256-GCM, a key id on every value.

Names, contacts and accommodation text are sealed one field at a time
(`cryptography`'s AESGCM). The key ring comes from a key file or an
environment variable, never from the database, so a copy of the database
alone reads as noise. Each sealed value carries the id of the key that sealed
it, so `safeslot keys rotate` can re-seal values under a new key while old ones
stay readable.

Per-month data keys (retention, invariant "collect the minimum"): an appointment's
values are sealed, when it is booked, under a key for the month of the visit
(key id ``m2027-03``), kept in the key file beside the master keys. When
retention purges a month it deletes that month's key from the file, so a
database backup that still holds the month's rows can no longer be read, even
one taken a minute after the booking. Month keys are made ahead for the whole
booking window (at start-up and by `safeslot retention run`); a month still
missing at booking time is added to the file then. Every change to the key
file is a read-modify-write under an exclusive lock (`update_key_file`), so a
server adding a month and the CLI rotating or destroying keys never drop each
other's keys.

Layout of a sealed value: ``b"S1" ‖ len(kid) ‖ kid ‖ nonce(12) ‖ ciphertext+tag``.
The associated data binds a value to its column (``appointment.name``) so a
ciphertext moved to another column does not decrypt.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"S1"
RETRY_SECONDS = 60.0  # after the key file refused a write
log = logging.getLogger(__name__)


class KeyMissing(Exception):
    """A sealed value names a key that is not in the key ring."""


class KeyRingInvalid(Exception):
    """The key file or variable is malformed."""


@dataclass
class KeyRing:
    """Master keys by id; ``current`` seals, all of them open."""

    keys: dict[str, bytes]
    current: str
    index_key: bytes
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    month_keys: dict[str, bytes] = field(default_factory=dict, repr=False)  # "2027-03" -> key
    source: Path | None = field(default=None, repr=False, compare=False)  # re-read for keys added later
    _retry_at: float = field(default=0.0, repr=False, compare=False)  # no write attempt before (monotonic)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyRingInvalid("the current key id is not in the key ring")
        if any(kid.startswith("m") for kid in self.keys):
            raise KeyRingInvalid("master key ids must not start with 'm' (reserved for month keys)")
        for kid, key in [*self.keys.items(), *((month_kid(m), k) for m, k in self.month_keys.items())]:
            if len(key) != 32:
                raise KeyRingInvalid(f"key {kid!r} is not 32 bytes (AES-256)")
            self._aead[kid] = AESGCM(key)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def generate(cls) -> KeyRing:
        kid = "k" + secrets.token_hex(4)
        return cls(keys={kid: AESGCM.generate_key(256)}, current=kid, index_key=secrets.token_bytes(32))

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        try:
            raw = json.loads(text)
            return cls(
                keys={k: base64.b64decode(v) for k, v in raw["keys"].items()},
                current=raw["current"],
                index_key=base64.b64decode(raw["index_key"]),
                month_keys={m: base64.b64decode(v) for m, v in raw.get("month_keys", {}).items()},
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise KeyRingInvalid(f"key ring is malformed: {type(exc).__name__}") from exc

    def to_json(self) -> str:
        return json.dumps(
            {
                "current": self.current,
                "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
                "index_key": base64.b64encode(self.index_key).decode(),
                "month_keys": {m: base64.b64encode(v).decode() for m, v in sorted(self.month_keys.items())},
            },
            indent=2,
        )

    def with_new_key(self) -> KeyRing:
        """A ring with a fresh current key; old keys stay to open old values."""
        kid = "k" + secrets.token_hex(4)
        keys = dict(self.keys)
        keys[kid] = AESGCM.generate_key(256)
        return KeyRing(keys=keys, current=kid, index_key=self.index_key, month_keys=dict(self.month_keys),
                       source=self.source)

    def without(self, kid: str) -> KeyRing:
        keys = {k: v for k, v in self.keys.items() if k != kid}
        return KeyRing(keys=keys, current=self.current, index_key=self.index_key, month_keys=dict(self.month_keys),
                       source=self.source)

    def with_month_keys(self, months: list[str]) -> KeyRing:
        """A ring with a fresh data key for each of these months ("YYYY-MM") that has none yet."""
        month_keys = dict(self.month_keys)
        for month in months:
            month_keys.setdefault(month, AESGCM.generate_key(256))
        return KeyRing(keys=dict(self.keys), current=self.current, index_key=self.index_key, month_keys=month_keys,
                       source=self.source)

    def without_months(self, months: list[str]) -> KeyRing:
        """Destroy these months' data keys: values sealed under them become unreadable everywhere."""
        month_keys = {m: k for m, k in self.month_keys.items() if m not in months}
        return KeyRing(keys=dict(self.keys), current=self.current, index_key=self.index_key, month_keys=month_keys,
                       source=self.source)

    # -- use -------------------------------------------------------------------------------
    def seal(self, plaintext: str, context: str, month: str | None = None) -> bytes:
        """Seal under the month's data key (made if the key file has none yet), else the current master key.

        A ring read from an environment variable cannot add keys: a month it lacks seals under the
        master key, and `safeslot retention run` cannot move it (docs/identity-and-privacy.md).
        """
        if month is not None and month not in self.month_keys:
            self.ensure_months([month])
        kid_text = month_kid(month) if month is not None and month in self.month_keys else self.current
        kid = kid_text.encode()
        nonce = os.urandom(12)
        ct = self._aead[kid_text].encrypt(nonce, plaintext.encode(), context.encode())
        return MAGIC + bytes([len(kid)]) + kid + nonce + ct

    def _reload(self) -> None:
        """Pick up keys added to the key file after start-up (month keys written by the CLI)."""
        if self.source is None or not self.source.exists():
            return
        self._merge(KeyRing.from_json(self.source.read_text()))

    def _merge(self, fresh: KeyRing) -> None:
        self.keys.update(fresh.keys)
        self.month_keys.update(fresh.month_keys)
        self._aead.update(fresh._aead)

    def ensure_months(self, months: Iterable[str]) -> list[str]:
        """Make sure these months have data keys, adding them to the key file; returns the months still missing.

        Under the key file's lock the file is read again first, so a month another process has just
        added is taken, never replaced by a second key (which would leave some values unreadable).
        """
        wanted = [m for m in months if m not in self.month_keys]
        if not wanted or self.source is None or time.monotonic() < self._retry_at:
            return wanted
        try:
            fresh = update_key_file(self.source, lambda ring: ring.with_month_keys(wanted))
        except OSError as exc:
            # A read-only key file (a mounted secret): seal under the master key and say so, once a
            # minute at most; `safeslot keys init` or `retention run` with write access adds the months.
            self._retry_at = time.monotonic() + RETRY_SECONDS
            log.warning("cannot add month keys to the key file (%s); sealing under the master key until "
                        "`safeslot retention run` adds them", type(exc).__name__)
            self._reload()  # another process may have added them
            return [m for m in wanted if m not in self.month_keys]
        self._merge(fresh)
        return [m for m in wanted if m not in self.month_keys]

    def open(self, sealed: bytes, context: str) -> str:
        kid = self.key_id_of(sealed)
        aead = self._aead.get(kid)
        if aead is None:
            self._reload()
            aead = self._aead.get(kid)
        if aead is None:
            raise KeyMissing(f"key {kid!r} is not in the key ring (destroyed or not loaded)")
        start = 3 + len(kid)
        try:
            return aead.decrypt(sealed[start : start + 12], sealed[start + 12 :], context.encode()).decode()
        except InvalidTag as exc:
            raise KeyMissing("value does not authenticate under its key (tampered or moved)") from exc

    @staticmethod
    def key_id_of(sealed: bytes) -> str:
        if sealed[:2] != MAGIC:
            raise KeyRingInvalid("not a sealed value")
        n = sealed[2]
        return sealed[3 : 3 + n].decode()

    def blind_index(self, name: str) -> str:
        """Keyed hash of a normalised name: equal names match, the index alone reveals nothing."""
        return hmac.new(self.index_key, normalise_name(name).encode(), hashlib.sha256).hexdigest()


def month_kid(month: str) -> str:
    """The key id of a month's data key: ``m2027-03``."""
    return f"m{month}"


def normalise_name(name: str) -> str:
    """Case-, accent- and spacing-insensitive form used for matching named subjects."""
    if name.isascii():  # NFKD leaves ASCII as it is and it has no combining marks: the same result, cheaper
        letters = name
    else:
        decomposed = unicodedata.normalize("NFKD", name)
        letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.casefold().replace("-", " ").replace(".", " ").split())


def load_key_ring(key_file: Path, inline: str | None, *, create: bool) -> KeyRing:
    """Read the ring from the variable or the file; create the file only when allowed (dev/demo/test)."""
    if inline:
        return KeyRing.from_json(inline)
    if key_file.exists():
        ring = KeyRing.from_json(key_file.read_text())
        ring.source = key_file
        return ring
    if not create:
        raise KeyRingInvalid(
            f"no field-encryption keys: create {key_file} with `safeslot keys init` or set SAFESLOT_CRYPTO__KEYS"
        )
    with key_file_lock(key_file):  # two processes starting at once must not make two different rings
        if key_file.exists():
            ring = KeyRing.from_json(key_file.read_text())
        else:
            ring = KeyRing.generate()
            write_key_file(key_file, ring)
    ring.source = key_file
    return ring


@contextlib.contextmanager
def key_file_lock(key_file: Path) -> Iterator[None]:
    """An exclusive lock shared by every process that changes this key file (servers and CLI)."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def update_key_file(key_file: Path, change: Callable[[KeyRing], KeyRing]) -> KeyRing:
    """Read the key file, apply ``change`` and write the result, all under the file's lock."""
    with key_file_lock(key_file):
        current = KeyRing.from_json(key_file.read_text())
        ring = change(current)
        if ring.to_json() != current.to_json():
            write_key_file(key_file, ring)
    ring.source = key_file
    return ring


def months_between(first: dt.datetime, last: dt.datetime) -> list[str]:
    """Every month ("YYYY-MM", UTC) from ``first``'s to ``last``'s, both included."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The span ("YYYY-MM", UTC) whose values a month's data key seals: [first instant, first of the next)."""
    year, mon = (int(x) for x in month.split("-"))
    return dt.datetime(year, mon, 1, tzinfo=dt.UTC), dt.datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=dt.UTC)


def write_key_file(key_file: Path, ring: KeyRing) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = key_file.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(ring.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, key_file)
