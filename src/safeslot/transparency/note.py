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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The format's primitives and the keys live beside this module (note_base.py, note_keys.py);
# callers import every name from here.
from safeslot.transparency.note_base import (
    CONTROL,
    DECIMAL,
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    MAX_TREE_SIZE,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    SIG_PREFIX,
    CheckpointFormatError,
    InvalidSignatureError,
    KeyFormatError,
    LogSigner,
    MalformedNoteError,
    NoteError,
    NoteKey,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    UnverifiedNoteError,
    b64decode,
    b64encode,
    key_id,
    valid_name,
)
from safeslot.transparency.note_keys import CosignatureSigner, CosignatureVerifier, Signer, Verifier

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "Checkpoint",
    "CheckpointFormatError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "InvalidSignatureError",
    "KeyFormatError",
    "LogSigner",
    "MalformedNoteError",
    "NoteError",
    "NoteKey",
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
    if CONTROL.search(msg):
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
        if not line.startswith(SIG_PREFIX):
            raise MalformedNoteError("a signature line starts with an em dash and a space")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        try:
            raw_sig = b64decode(b64)
        except ValueError as exc:
            raise MalformedNoteError("signature is not valid base64") from exc
        if not valid_name(name) or len(raw_sig) < 5:
            raise MalformedNoteError("malformed signature line")
        sigs.append(NoteSignature(name, raw_sig[:4], raw_sig[4:]))
    return text, sigs


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` (which must end in a newline) with each signer in turn."""
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end in a newline")
    if CONTROL.search(text):
        raise MalformedNoteError("note text must not contain control characters")
    if not signers:
        raise ValueError("a signed note needs at least one signature")
    message = text.encode()
    lines = []
    for signer in signers:
        if not valid_name(signer.name):
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
            if not line or "\n" in line or CONTROL.search(line):
                raise CheckpointFormatError("origin and extension lines must be non-empty single lines")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointFormatError(f"tree size {self.size} is out of range")
        if len(self.root_hash) != 32:
            raise CheckpointFormatError("the root hash is a 32-byte SHA-256 hash")

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
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
        if not DECIMAL.fullmatch(size_line):
            raise CheckpointFormatError(f"tree size {size_line!r} is not a decimal without leading zeros")
        try:
            root = b64decode(root_line)
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
