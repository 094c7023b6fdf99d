"""The office verifies its own log exactly as an outsider would, and keeps a record of each run.

`verify.verify_log` is the independent verifier: it speaks only C2SP
tlog-tiles over HTTP. Here it runs unchanged, but its HTTP client is wired
(``httpx.MockTransport``) to the same service functions the public
``/log/checkpoint``, ``/log/tile/…`` and ``/log/proof/consistency`` endpoints
call, in the caller's transaction. So a check needs no network and no public
URL, and checks what the office serves: every entry against its leaf hash,
every tile against the tiles below, the leaves against the signed root, the
log's signature, and that the checkpoint extends the last one verified.

Beyond what an outsider sees, it holds the log to everything the office ever
published: the tree must be at least as large as, and consistent with, *every*
checkpoint in ``log_checkpoint`` (no rollback below anything published), and
every hash-chained table (safeslot/chain.py) must verify link by link and hold
every chain head that a ``records.heads`` entry committed; a failure names the
first broken record.

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

from safeslot import chain
from safeslot.kit.errors import DomainError, status_for
from safeslot.transparency import merkle, repository, service
from safeslot.transparency.models import LogVerification
from safeslot.transparency.note import Verifier
from safeslot.transparency.tiles import TilePathError, parse_tile_path
from safeslot.transparency.verify import VerificationError, verify_log

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


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _below_published(session: Session) -> None:
    """Refuse a tree smaller than the largest checkpoint ever published (a rollback)."""
    size = repository.head(session).size
    latest = repository.latest_checkpoint(session)
    if latest is not None and latest.size > size:
        raise VerificationError(
            f"the log holds {size} entries, fewer than the checkpoint of size {latest.size} published "
            f"{_stamp(latest.signed_at)}: entries {size}..{latest.size - 1} are gone (rollback below a "
            "published checkpoint)"
        )


def _against_every_checkpoint(session: Session, size: int, root: bytes) -> int:
    """Every published checkpoint must be a prefix of the verified tree; returns how many were checked."""
    published = repository.checkpoints(session)
    for cp in published:
        old_root = bytes(cp.root)
        if cp.size > size:
            raise VerificationError(
                f"the checkpoint of size {cp.size} published {_stamp(cp.signed_at)} is larger than the "
                f"{size} entries served (rollback below a published checkpoint)"
            )
        try:
            if cp.size == 0:
                ok = old_root == merkle.EMPTY_ROOT
            elif cp.size == size:
                ok = old_root == root
            else:
                merkle.verify_consistency(cp.size, size, service.consistency(session, cp.size, size), old_root, root)
                ok = True
        except (merkle.ProofError, DomainError):
            ok = False
        if not ok:
            raise VerificationError(
                f"the checkpoint of size {cp.size} published {_stamp(cp.signed_at)} is not a prefix of the "
                "verified log: history it covered was rewritten (fork)"
            )
    return len(published)


def _chains(session: Session, record_heads: list[tuple[int, dict[str, bytes]]]) -> list[str]:
    """Walk every chained table against the heads the log committed; returns one phrase per table."""
    conn = session.connection()
    out = []
    tables = sorted(set(chain.chained_tables()) | {t for _, heads in record_heads for t in heads})
    for table in tables:
        commits = [(i, heads[table]) for i, heads in record_heads if table in heads]
        if table not in chain.chained_tables():
            raise VerificationError(f"the log committed heads of {table}, which this office does not keep")
        try:
            w = chain.walk_table(conn, table, (h for _, h in commits))
            chain.check_commitments(w, commits)
        except chain.ChainError as exc:
            raise VerificationError(str(exc)) from exc
        out.append(f"{table} {w.count}")
    return out


def self_verify(
    session: Session, verifier: Verifier, origin: str, now: dt.datetime, *, method: str, staff_id: int | None = None
) -> LogVerification:
    """Verify the served log end to end; record and return the outcome (a failure is recorded, not raised)."""
    previous = _previous(session, origin)
    transport = httpx.MockTransport(lambda request: _served(session, request))
    try:
        _below_published(session)
        if repository.latest_checkpoint(session) is None and repository.head(session).size == 0:
            chains = _chains(session, [])
            row = LogVerification(at=now, method=method, staff_id=staff_id, size=0, root=merkle.EMPTY_ROOT, ok=True,
                                  detail="the log is empty and nothing was published yet; chained records intact ("
                                  + ", ".join(chains) + ")")
        else:
            with httpx.Client(transport=transport) as client:
                result = verify_log(client, BASE, verifier.to_vkey(), origin=origin, previous=previous)
            published = _against_every_checkpoint(session, result.size, result.root)
            chains = _chains(session, result.record_heads)
            tiles = f"{result.tiles_checked} tile" + ("s" if result.tiles_checked != 1 else "")
            row = LogVerification(
                at=now, method=method, staff_id=staff_id, size=result.size, root=result.root, ok=True,
                detail=(f"{result.entries_checked} entries and {tiles} match the signed root, which extends all "
                        f"{published} published checkpoints; chained records intact ({', '.join(chains)})")[:500],
            )
    except VerificationError as exc:
        row = LogVerification(at=now, method=method, staff_id=staff_id, size=service.published_size(session),
                              root=None, ok=False, detail=str(exc).replace(BASE, "/log")[:500])
    session.add(row)
    session.flush()
    return row
