"""The office verifies its own log exactly as an outsider would, and keeps a record of each run.

`verify.verify_log` is the independent verifier: it speaks only C2SP
tlog-tiles over HTTP. Here it runs unchanged, but its HTTP client is wired
(``httpx.MockTransport``) to the same service functions the public
``/log/checkpoint``, ``/log/tile/…`` and ``/log/proof/consistency`` endpoints
call, in the caller's transaction. So a check needs no network and no public
URL, and checks what the office serves: every entry against its leaf hash,
every tile against the tiles below, the leaves against the signed root, the
log's signature, and that the checkpoint extends the last one verified.

Each run, passed or failed, is a row in ``log_verification`` (append-only):
the auditor's "last verification" (console) and `safeslot log self-check`.
Outside verifiers still run `safeslot log verify` against the public URL.
"""

from __future__ import annotations

import base64
import datetime as dt

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.errors import DomainError, status_for
from safeslot.transparency import service
from safeslot.transparency.models import LogVerification
from safeslot.transparency.note import Verifier
from safeslot.transparency.verify import TilePathError, VerificationError, parse_tile_path, verify_log

BASE = "http://log.internal/log"


def _served(session: Session, request: httpx.Request) -> httpx.Response:
    """What the public log endpoints would answer, from the same service functions."""
    path = request.url.path.removeprefix("/log")
    try:
        if path == "/checkpoint":
            note = service.checkpoint_note(session)
            if note is None:
                return httpx.Response(404)
            return httpx.Response(200, content=note.encode())
        if path.startswith("/tile/"):
            level, index, width = parse_tile_path(path.removeprefix("/tile/"))
            body = (service.entry_bundle(session, index, width) if level is None
                    else service.tile(session, level, index, width))
            return httpx.Response(200, content=body)
        if path == "/proof/consistency":
            old, new = int(request.url.params["old"]), int(request.url.params["new"])
            proof = service.consistency(session, old, new)
            return httpx.Response(200, json={"proof": [base64.b64encode(h).decode() for h in proof]})
    except (TilePathError, KeyError, ValueError):
        return httpx.Response(400)
    except DomainError as exc:
        return httpx.Response(status_for(exc))
    return httpx.Response(404)


def last(session: Session, limit: int = 5) -> list[LogVerification]:
    """The latest runs, newest first."""
    return list(session.scalars(select(LogVerification).order_by(LogVerification.id.desc()).limit(limit)))


def _previous(session: Session, origin: str) -> dict[str, object] | None:
    """The last checkpoint verified, for the rollback and fork checks."""
    row = session.scalars(
        select(LogVerification).where(LogVerification.ok, LogVerification.size > 0)
        .order_by(LogVerification.id.desc()).limit(1)
    ).first()
    if row is None or row.root is None:
        return None
    return {"origin": origin, "size": row.size, "root": base64.b64encode(row.root).decode()}


def self_verify(
    session: Session, verifier: Verifier, origin: str, now: dt.datetime, *, method: str, staff_id: int | None = None
) -> LogVerification:
    """Verify the served log end to end; record and return the outcome (a failure is recorded, not raised)."""
    previous = _previous(session, origin)
    transport = httpx.MockTransport(lambda request: _served(session, request))
    try:
        with httpx.Client(transport=transport) as client:
            result = verify_log(client, BASE, verifier.to_vkey(), origin=origin, previous=previous)
        tiles = f"{result.tiles_checked} tile" + ("s" if result.tiles_checked != 1 else "")
        row = LogVerification(at=now, method=method, staff_id=staff_id, size=result.size, root=result.root, ok=True,
                              detail=f"{result.entries_checked} entries and {tiles} match the signed root")
    except VerificationError as exc:
        row = LogVerification(at=now, method=method, staff_id=staff_id, size=service.published_size(session),
                              root=None, ok=False, detail=str(exc).replace(BASE, "/log")[:500])
    session.add(row)
    session.flush()
    return row
