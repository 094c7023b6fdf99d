"""The witness client: submit each signed checkpoint to the configured witnesses (C2SP
tlog-witness ``add-checkpoint``) and keep the cosignatures they return. The standalone
witness *server* is `witness.py`.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session

from safeslot.transparency import merkle, repository
from safeslot.transparency.models import LogCheckpoint
from safeslot.transparency.note import CosignatureVerifier, NoteError, open_note
from safeslot.transparency.proofs import prefetched


@dataclass(frozen=True)
class Witness:
    url: str
    verifier: CosignatureVerifier

    @classmethod
    def parse(cls, spec: str) -> Witness:
        """A settings entry: ``"<URL> <vkey>"``."""
        url, _, vkey = spec.strip().partition(" ")
        return cls(url.rstrip("/"), CosignatureVerifier.parse(vkey.strip()))


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def submit_to_witnesses(
    session: Session, cp: LogCheckpoint, witnesses: Iterable[Witness], now: dt.datetime, http: httpx.Client
) -> dict[str, str]:
    """tlog-witness add-checkpoint to each witness; store verified cosignatures.

    Returns ``{witness name: outcome}``. A witness that is down or refuses does
    not stop the log: the checkpoint is served with the cosignatures it got.
    """
    outcomes: dict[str, str] = {}
    have = {c.witness for c in repository.cosignatures(session, cp.size)}
    for w in witnesses:
        if w.verifier.name in have:
            outcomes[w.verifier.name] = "cosigned"
            continue
        old = repository.last_cosigned_size(session, w.verifier.name)
        if old > cp.size:
            old = 0
        outcome = "error"
        for _attempt in range(2):
            proof = [] if old in (0, cp.size) else consistency_for_witness(session, old, cp.size)
            body = f"old {old}\n" + "".join(_b64(p) + "\n" for p in proof) + "\n" + cp.note
            try:
                resp = http.post(f"{w.url}/add-checkpoint", content=body.encode(), timeout=5.0)
            except httpx.HTTPError as exc:
                outcome = f"unreachable ({type(exc).__name__})"
                break
            if resp.status_code == 409 and resp.headers.get("content-type", "").startswith("text/x.tlog.size"):
                try:
                    known = int(resp.text.strip())
                except ValueError:
                    outcome = "409 with a malformed size"
                    break
                if known == old or known > cp.size:
                    outcome = f"refused: the witness holds size {known}"
                    break
                old = known
                continue
            if resp.status_code != 200:
                outcome = f"refused with HTTP {resp.status_code}"
                break
            try:
                _, sigs = open_note(cp.note + resp.text, [w.verifier])
            except NoteError:
                outcome = "answered without a valid cosignature"
                break
            line = sigs[0].to_line().rstrip("\n")
            repository.add_cosignature(session, cp.size, w.verifier.name, line, now)
            outcome = "cosigned"
            break
        outcomes[w.verifier.name] = outcome
    return outcomes


def consistency_for_witness(session: Session, old: int, new: int) -> list[bytes]:
    return prefetched(session, lambda get: merkle.consistency_proof(old, new, get))
