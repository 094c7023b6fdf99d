"""Witnesses (C2SP tlog-witness): cosign a log that only grows, refuse a fork with 409 or 422."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.testclient import TestClient as WitnessClient

from safeslot.config import Settings
from safeslot.transparency import merkle, service
from safeslot.transparency.note import (
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    Signer,
    open_checkpoint,
    open_note,
    sign_note,
)
from safeslot.transparency.verify import VerificationError, verify_log
from safeslot.transparency.witness import create_witness_app
from tests.live import serve
from tests.transparency.support import entries

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "safeslot.test/log"
LOG = Signer.generate(ORIGIN)
LEAVES = [merkle.leaf_hash(b"entry %d" % i) for i in range(40)]


def note(size: int, root: bytes | None = None, signer: Signer = LOG) -> str:
    root = root if root is not None else merkle.root_from_leaves(LEAVES[:size])
    return sign_note(Checkpoint(signer.name, size, root).to_text(), [signer])


def body(old: int, new_note: str, proof: list[bytes] | None = None) -> bytes:
    if proof is None:
        new = int(new_note.split("\n")[1])
        get = lambda s, e: merkle.root_from_leaves(LEAVES[s:e])  # noqa: E731
        proof = merkle.consistency_proof(old, new, get) if 0 < old < new else []
    return (f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n" + new_note).encode()


def witness(tmp_path: Path, name: str = "witness.test/w1") -> tuple[WitnessClient, CosignatureVerifier]:
    signer = CosignatureSigner.generate(name)
    app = create_witness_app(signer, [LOG.verifier()], tmp_path / f"{name.replace('/', '_')}.json",
                             clock=lambda: 1_800_000_000)
    return WitnessClient(app), signer.verifier()


def test_a_witness_cosigns_a_growing_log(tmp_path: Path) -> None:
    w, v = witness(tmp_path)
    for old, new in ((0, 5), (5, 13), (13, 13), (13, 40)):
        r = w.post("/add-checkpoint", content=body(old, note(new)))
        assert r.status_code == 200, r.text
        _, sigs = open_note(note(new) + r.text, [v])
        assert CosignatureVerifier.timestamp(sigs[0]) == 1_800_000_000


def test_stale_old_size_gets_409_with_the_known_size(tmp_path: Path) -> None:
    w, _ = witness(tmp_path)
    assert w.post("/add-checkpoint", content=body(0, note(8))).status_code == 200
    r = w.post("/add-checkpoint", content=body(3, note(20)))
    assert r.status_code == 409
    assert r.headers["content-type"] == "text/x.tlog.size"
    assert r.text == "8\n"
    # The state survives a restart of the witness.
    w2, _ = witness(tmp_path)
    assert w2.post("/add-checkpoint", content=body(0, note(20))).text == "8\n"


def test_a_fork_is_refused(tmp_path: Path) -> None:
    w, _ = witness(tmp_path)
    assert w.post("/add-checkpoint", content=body(0, note(8))).status_code == 200
    # Same size, another root: 409. A bigger tree that does not extend the old one: 422.
    assert w.post("/add-checkpoint", content=body(8, note(8, secrets.token_bytes(32)))).status_code == 409
    forked = note(20, secrets.token_bytes(32))
    good_proof = merkle.consistency_proof(8, 20, lambda s, e: merkle.root_from_leaves(LEAVES[s:e]))
    assert w.post("/add-checkpoint", content=body(8, forked, good_proof)).status_code == 422
    # And it still accepts the honest log afterwards.
    assert w.post("/add-checkpoint", content=body(8, note(20))).status_code == 200


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda: body(0, note(5, signer=Signer.generate("other.test/log"))), 404),
        (lambda: body(0, note(5, signer=Signer.generate(ORIGIN))), 403),
        (lambda: body(9, note(5)), 400),
        (lambda: body(0, note(5), [b"\0" * 32]), 422),
        (lambda: b"old 01\n\n" + note(5).encode(), 400),
        (lambda: b"new 0\n\n" + note(5).encode(), 400),
        (lambda: b"old 0\n" + note(5).encode(), 400),
        (lambda: b"old 0\n" + b"AAAA\n" * 64 + b"\n" + note(5).encode(), 400),
        (lambda: b"old 0\n\nnot a checkpoint\n", 404),
    ],
    ids=["unknown-origin", "unknown-key", "old-bigger", "proof-from-0", "leading-zero", "no-old", "no-blank",
         "64-proof-lines", "garbage"],
)
def test_status_codes_follow_the_spec(tmp_path: Path, make: Callable[[], bytes], status: int) -> None:
    w, _ = witness(tmp_path)
    assert w.post("/add-checkpoint", content=make()).status_code == status


def test_two_witnesses_on_loopback_cosign_the_log_and_refuse_a_fork(
    app_factory: Callable[..., TestClient], settings: Settings, session: Session, tmp_path: Path
) -> None:
    w1, w2 = CosignatureSigner.generate("oig.test/witness"), CosignatureSigner.generate("court.test/witness")
    probe = app_factory()
    log_signer: Signer = probe.app.state.log_signer  # type: ignore[attr-defined]
    apps = [create_witness_app(w, [log_signer.verifier()], tmp_path / f"w{i}.json") for i, w in enumerate((w1, w2))]
    with serve(apps[0]) as url1, serve(apps[1]) as url2:
        configured = settings.model_copy(deep=True)
        configured.log.witnesses = [f"{url1} {w1.to_vkey()}", f"{url2} {w2.to_vkey()}"]
        client = app_factory(settings=configured)
        verifiers = [w1.verifier(), w2.verifier()]
        for n in (5, 300):
            service.append_raw(session, entries(n), now=NOW)
            session.flush()
            served = client.get("/log/checkpoint").text
            cp, sigs = open_checkpoint(served, settings.log.origin, log_signer.verifier(), verifiers)
            assert {s.name for s in sigs} == {settings.log.origin, "oig.test/witness", "court.test/witness"}
        assert service.status(session).cosigners == ["court.test/witness", "oig.test/witness"]

        # A forked log (the same key, another history) gets no cosignature from either witness.
        same_size = sign_note(Checkpoint(cp.origin, cp.size, secrets.token_bytes(32)).to_text(), [log_signer])
        bigger = sign_note(Checkpoint(cp.origin, cp.size + 10, secrets.token_bytes(32)).to_text(), [log_signer])
        service.append_raw(session, entries(10, 1000), now=NOW)
        session.flush()
        proof = service.consistency_for_witness(session, cp.size, cp.size + 10)  # a real proof, wrong root
        lines = "".join(base64.b64encode(p).decode() + "\n" for p in proof)
        for url in (url1, url2):
            r = httpx.post(f"{url}/add-checkpoint", content=f"old {cp.size}\n\n{same_size}")
            assert r.status_code == 409
            r = httpx.post(f"{url}/add-checkpoint", content=f"old {cp.size}\n{lines}\n{bigger}")
            assert r.status_code == 422
        # The honest next checkpoint is still cosigned by both, and the verifier can require it.
        served = client.get("/log/checkpoint").text
        _, sigs = open_checkpoint(served, settings.log.origin, log_signer.verifier(), verifiers)
        assert len(sigs) == 3
        keys = [w1.to_vkey(), w2.to_vkey()]
        result = verify_log(client, "http://testserver/log", log_signer.to_vkey(), witnesses=keys)
        assert result.cosigned_by == ["court.test/witness", "oig.test/witness"]
        absent = CosignatureSigner.generate("absent.test/witness").to_vkey()
        with pytest.raises(VerificationError, match="cosigned by 2 of the witnesses given"):
            verify_log(client, "http://testserver/log", log_signer.to_vkey(), witnesses=[*keys, absent])
        assert verify_log(client, "http://testserver/log", log_signer.to_vkey(), witnesses=[*keys, absent],
                          quorum=2).size == cp.size + 10


def test_the_log_catches_up_a_witness_that_answers_409(
    app_factory: Callable[..., TestClient], settings: Settings, session: Session, tmp_path: Path
) -> None:
    plain = app_factory()
    log_signer: Signer = plain.app.state.log_signer  # type: ignore[attr-defined]
    service.append_raw(session, entries(5), now=NOW)
    session.flush()
    first = plain.get("/log/checkpoint").text
    w = CosignatureSigner.generate("ngo.test/witness")
    app = create_witness_app(w, [log_signer.verifier()], tmp_path / "w.json")
    assert WitnessClient(app).post("/add-checkpoint", content=b"old 0\n\n" + first.encode()).status_code == 200
    with serve(app) as url:
        configured = settings.model_copy(deep=True)
        configured.log.witnesses = [f"{url} {w.to_vkey()}"]
        client = app_factory(settings=configured)
        service.append_raw(session, entries(30, 5), now=NOW)
        session.flush()
        served = client.get("/log/checkpoint").text  # the log first sends "old 0", learns 5, then proves 5 -> 35
    _, sigs = open_checkpoint(served, settings.log.origin, log_signer.verifier(), [w.verifier()])
    assert [s.name for s in sigs] == [settings.log.origin, "ngo.test/witness"]
