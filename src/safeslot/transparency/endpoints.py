"""The log over HTTP, laid out as C2SP tlog-tiles under ``/log``, plus JSON proof helpers.

``GET /log/checkpoint`` first signs a new checkpoint when entries were appended
since the last one (after the consistency check in `service.checkpoint`) and
submits it to the configured witnesses, so readers always get a current,
cosigned view. Tiles and entry bundles cover only signed checkpoints.
"""

from __future__ import annotations

import base64
import gzip
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from safeslot.config import Settings
from safeslot.deps import NowDep, SessionDep
from safeslot.kit.http import JSON, outgoing_client
from safeslot.transparency import service
from safeslot.transparency.errors import BadLogRequest, WitnessRequired
from safeslot.transparency.interfaces import refresh_checkpoint
from safeslot.transparency.schemas import ConsistencyProofOut, EntryOut, InclusionProofOut
from safeslot.transparency.tiles import TilePathError, parse_tile_path

router = APIRouter(prefix="/log", tags=["transparency log"])

# scope="function": commit *before* the response is sent, so a client that got
# the checkpoint can fetch the tiles it covers (FastAPI's default "request"
# scope commits after the response).

IMMUTABLE = "public, max-age=31536000, immutable"


def setup(app: FastAPI, settings: Settings) -> None:
    """Load the signing key and the witnesses; outside demo mode refuse to start without either."""
    app.state.log_signer = service.open_signer(settings.log, create=settings.is_demo)
    if not settings.is_demo and not settings.log.witnesses:
        # Without a witness, nobody outside would hold the office to its checkpoints
        raise WitnessRequired(
            "Configure at least one witness (SAFESLOT_LOG__WITNESSES='[\"https://witness.example <vkey>\"]'); "
            "see docs/transparency-log.md. `make run` starts a local one in demo mode."
        )
    app.state.log_witnesses = [service.Witness.parse(w) for w in settings.log.witnesses]
    app.state.log_http = outgoing_client  # tests may replace the client factory


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


@router.get("/checkpoint", response_class=Response, summary="The latest signed checkpoint (C2SP tlog-checkpoint)")
def get_checkpoint(request: Request, session: SessionDep, now: NowDep) -> Response:
    refresh_checkpoint(request, session, now)
    note = service.checkpoint_note(session)
    assert note is not None
    return Response(note.encode(), media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/tile/{path:path}", response_class=Response, summary="A Merkle tile or entry bundle (C2SP tlog-tiles)")
def get_tile(path: str, request: Request, session: SessionDep) -> Response:
    try:
        level, index, width = parse_tile_path(path)
    except TilePathError as exc:
        raise BadLogRequest(f"Malformed tile path ({exc}); see c2sp.org/tlog-tiles.") from exc
    body = (
        service.entry_bundle(session, index, width) if level is None else service.tile(session, level, index, width)
    )
    # A tile's content is fixed by its path (a partial tile by its width), so both are immutable.
    headers = {"Cache-Control": IMMUTABLE}
    if level is None:
        # tlog-tiles: entry bundles SHOULD be compressed at the HTTP layer.
        headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/octet-stream", headers=headers)


@router.get("/proof/inclusion", response_model=InclusionProofOut, summary="RFC 9162 inclusion proof")
def get_inclusion(
    session: SessionDep,
    index: Annotated[int, Query(ge=0)],
    size: Annotated[int | None, Query(ge=1, description="Defaults to the latest checkpoint.")] = None,
) -> JSON:
    p = service.inclusion(session, index, size)
    return JSON(
        InclusionProofOut(
            index=p.index, size=p.size, leaf_hash=_b64(p.leaf_hash), root=_b64(p.root),
            proof=[_b64(h) for h in p.proof],
        ).model_dump()
    )


@router.get("/proof/consistency", response_model=ConsistencyProofOut, summary="RFC 9162 consistency proof")
def get_consistency(
    session: SessionDep,
    old: Annotated[int, Query(ge=0)],
    new: Annotated[int | None, Query(ge=0, description="Defaults to the latest checkpoint.")] = None,
) -> JSON:
    new_size = new if new is not None else service.published_size(session)
    proof = service.consistency(session, old, new_size)
    return JSON(ConsistencyProofOut(old=old, new=new_size, proof=[_b64(h) for h in proof]).model_dump())


@router.get("/entry/{index}", response_model=EntryOut, summary="One published entry")
def get_entry(index: int, session: SessionDep) -> JSON:
    data, leaf = service.entry(session, index)
    return JSON(EntryOut(index=index, leaf_hash=_b64(leaf), entry=service.entry_json(data)).model_dump())
