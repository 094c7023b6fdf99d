"""A C2SP tlog-witness: cosigns a log's checkpoints only if they extend what it saw before.

A small standalone Starlette app, so that another institution (an inspector
general, a court, a civil-society group) can run it without safeslot's
database: ``safeslot witness serve --key-file … --log-vkey … --state …``.
Its state is a JSON file ``{origin: {"size": n, "root": base64}}``, replaced
atomically; check-and-update runs under one lock, as the spec requires.

``POST /add-checkpoint`` (tlog-witness "add-checkpoint"):

* body: ``old <size>\\n``, up to 63 base64 proof lines, an empty line, the
  signed checkpoint note; anything else → 400;
* unknown origin → 404; no valid signature by the log's key → 403;
* old size > checkpoint size → 400;
* old size ≠ the size this witness last cosigned → 409, body ``<size>\\n``,
  ``Content-Type: text/x.tlog.size``;
* same size, different root → 409; consistency proof fails → 422;
* otherwise persist, then 200 with the tlog-cosignature/v1 line.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from safeslot.transparency import merkle
from safeslot.transparency.note import (
    CheckpointFormatError,
    CosignatureSigner,
    InvalidSignatureError,
    NoteError,
    UnverifiedNoteError,
    Verifier,
    open_checkpoint,
)

MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63


class WitnessState:
    """The latest cosigned (size, root) per origin, persisted in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def load(self) -> dict[str, dict[str, object]]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text())
        assert isinstance(data, dict)
        return data

    def save(self, data: dict[str, dict[str, object]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(self.path)  # atomic: a crash leaves the old or the new state


def _text(status: int, message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status)


def create_witness_app(
    signer: CosignatureSigner,
    logs: Iterable[Verifier],
    state_file: Path,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """``logs``: the log verifier keys this witness trusts; each key's name is the log's origin."""
    known = {v.name: v for v in logs}
    state = WitnessState(state_file)

    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return _text(400, "request body too large")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _text(400, "the body is not UTF-8")
        head, sep, note = text.partition("\n\n")
        if not sep:
            return _text(400, "no empty line before the checkpoint")
        lines = head.split("\n")
        if not lines[0].startswith("old "):
            return _text(400, "the first line must be 'old <size>'")
        old_text = lines[0][4:]
        if not old_text.isdigit() or (old_text != "0" and old_text.startswith("0")):
            return _text(400, "the old size is a decimal without leading zeros")
        old = int(old_text)
        if len(lines) - 1 > MAX_PROOF_LINES:
            return _text(400, f"more than {MAX_PROOF_LINES} proof lines")
        try:
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
        except (binascii.Error, ValueError):
            return _text(400, "a proof line is not base64")
        origin = note.split("\n", 1)[0]
        verifier = known.get(origin)
        if verifier is None:
            return _text(404, "unknown log origin")
        try:
            cp, _ = open_checkpoint(note, origin, verifier)
        except (UnverifiedNoteError, InvalidSignatureError):
            return _text(403, "no valid signature from the log's key")
        except (CheckpointFormatError, NoteError):
            return _text(400, "not a well-formed signed checkpoint")
        if old > cp.size:
            return _text(400, "the old size is larger than the checkpoint size")
        with state.lock:
            data = state.load()
            mine = data.get(origin)
            known_size = int(str(mine["size"])) if mine else 0
            known_root = base64.b64decode(str(mine["root"])) if mine else None
            if old != known_size:
                # Exactly this media type, without a charset (tlog-witness).
                return Response(f"{known_size}\n", status_code=409, headers={"Content-Type": "text/x.tlog.size"})
            if old == cp.size and known_root is not None and known_root != cp.root_hash:
                return _text(409, "same size, different root: the log forked")
            try:
                merkle.verify_witness_consistency(old, cp.size, proof, known_root, cp.root_hash)
            except merkle.ProofError:
                return _text(422, "the consistency proof does not verify")
            data[origin] = {"size": cp.size, "root": base64.b64encode(cp.root_hash).decode()}
            state.save(data)  # persist before answering (tlog-witness)
        sig = signer.cosign(cp, int(clock()))
        return PlainTextResponse(sig.to_line(), media_type="text/plain; charset=utf-8")

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"])])
