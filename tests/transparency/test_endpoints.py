"""The log over HTTP, as C2SP tlog-tiles lays it out, plus the JSON proof helpers."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
import rfc8785
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.transparency import merkle, service
from safeslot.transparency.errors import LogKeyMissing
from safeslot.transparency.note import Signer, open_checkpoint
from safeslot.transparency.tiles import encode_index
from tests.transparency.support import entries

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)


def signer_of(client: TestClient) -> Signer:
    signer: Signer = client.app.state.log_signer  # type: ignore[attr-defined]
    return signer


def published(client: TestClient, session: Session, n: int) -> list[bytes]:
    service.append_raw(session, entries(n), now=NOW)
    session.flush()
    assert client.get("/log/checkpoint").status_code == 200
    return [rfc8785.dumps(e) for e in entries(n)]


def test_checkpoint_is_signed_plain_text_and_not_cached(client: TestClient, session: Session) -> None:
    datas = published(client, session, 3)
    r = client.get("/log/checkpoint")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    origin = client.app.state.settings.log.origin  # type: ignore[attr-defined]
    cp, _ = open_checkpoint(r.text, origin, signer_of(client).verifier())
    assert cp.size == 3
    assert cp.root_hash == merkle.root_from_leaves([merkle.leaf_hash(d) for d in datas])


def test_tiles_and_entry_bundles(client: TestClient, session: Session) -> None:
    datas = published(client, session, 300)
    leaves = [merkle.leaf_hash(d) for d in datas]
    full = client.get("/log/tile/0/000")
    assert full.status_code == 200
    assert full.headers["content-type"] == "application/octet-stream"
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.content == b"".join(leaves[:256])
    assert client.get("/log/tile/0/001.p/44").content == b"".join(leaves[256:])
    assert client.get("/log/tile/0/001.p/3").content == b"".join(leaves[256:259])
    assert client.get("/log/tile/1/000.p/1").content == merkle.root_from_leaves(leaves[:256])
    bundle = client.get("/log/tile/entries/001.p/44")
    assert bundle.headers["content-type"] == "application/octet-stream"
    assert bundle.headers["content-encoding"] == "gzip"  # httpx asks for gzip and decodes it
    assert bundle.content == b"".join(len(d).to_bytes(2, "big") + d for d in datas[256:])
    plain = client.get("/log/tile/entries/001.p/44", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == bundle.content


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/log/tile/0/001", 404),  # only 300 entries: the second full tile does not exist yet
        ("/log/tile/0/001.p/45", 404),
        ("/log/tile/1/000", 404),
        ("/log/tile/entries/002.p/1", 404),
        ("/log/tile/0/1", 400),
        ("/log/tile/00/000", 400),
        ("/log/tile/64/000", 400),
        ("/log/tile/0/000.p/256", 400),
        ("/log/tile/0/000.p/0", 400),
        ("/log/tile/0/x000/001", 400),
        ("/log/tile/0/001/002", 400),
        ("/log/tile/entries", 400),
    ],
)
def test_bad_or_unpublished_tiles_are_problems(client: TestClient, session: Session, path: str, status: int) -> None:
    published(client, session, 300)
    r = client.get(path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"


def test_unsigned_entries_are_not_served_until_the_next_checkpoint(client: TestClient, session: Session) -> None:
    published(client, session, 2)
    service.append_raw(session, entries(1, 2), now=NOW)
    session.flush()
    assert client.get("/log/tile/entries/000.p/3").status_code == 404
    assert client.get("/log/proof/inclusion", params={"index": 2}).status_code == 400
    client.get("/log/checkpoint")
    assert client.get("/log/tile/entries/000.p/3").status_code == 200


def test_inclusion_and_consistency_helpers(client: TestClient, session: Session) -> None:
    datas = published(client, session, 21)
    root = merkle.root_from_leaves([merkle.leaf_hash(d) for d in datas])
    body = client.get("/log/proof/inclusion", params={"index": 12, "size": 21}).json()
    proof = [base64.b64decode(p) for p in body["proof"]]
    merkle.verify_inclusion(12, 21, merkle.leaf_hash(datas[12]), proof, root)
    assert base64.b64decode(body["root"]) == root
    old_root = merkle.root_from_leaves([merkle.leaf_hash(d) for d in datas[:5]])
    body = client.get("/log/proof/consistency", params={"old": 5, "new": 21}).json()
    merkle.verify_consistency(5, 21, [base64.b64decode(p) for p in body["proof"]], old_root, root)
    entry = client.get("/log/entry/12").json()
    assert entry["entry"] == entries(21)[12]
    assert base64.b64decode(entry["leaf_hash"]) == merkle.leaf_hash(datas[12])


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/log/proof/inclusion", {"index": 5, "size": 5}, 400),
        ("/log/proof/inclusion", {"index": 0, "size": 6}, 404),
        ("/log/proof/inclusion", {"index": -1}, 422),
        ("/log/proof/consistency", {"old": 0, "new": 5}, 400),
        ("/log/proof/consistency", {"old": 4, "new": 3}, 400),
        ("/log/proof/consistency", {"old": 3, "new": 9}, 404),
        ("/log/entry/5", {}, 404),
        ("/log/entry/-1", {}, 400),
    ],
)
def test_bad_proof_parameters_are_problems(
    client: TestClient, session: Session, path: str, params: dict[str, int], status: int
) -> None:
    published(client, session, 5)
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_outside_demo_mode_the_log_refuses_to_start_without_a_key(
    engine: Engine, connection: Connection, keyring: KeyRing, tmp_path: Path
) -> None:
    settings = Settings(
        environment=Environment.production,
        secret_key="p" * 40,
        log={"signing_key_file": tmp_path / "missing.key"},
    )
    with pytest.raises(LogKeyMissing, match="safeslot log keygen"):
        create_app(settings, engine=engine, bind=connection, keyring=keyring)


def test_in_test_mode_a_key_is_created_once_and_kept_private(
    engine: Engine, connection: Connection, keyring: KeyRing, settings: Settings
) -> None:
    first = create_app(settings, engine=engine, bind=connection, keyring=keyring)
    second = create_app(settings, engine=engine, bind=connection, keyring=keyring)
    assert first.state.log_signer.to_vkey() == second.state.log_signer.to_vkey()
    assert settings.log.signing_key_file.stat().st_mode & 0o777 == 0o600


def test_tile_index_encoding() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1234067) == "x001/x234/067"
