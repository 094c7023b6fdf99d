"""Witnessed by default: `make run` starts a witness with its own key (scripts/witness);
it cosigns the office's checkpoints and refuses a fork; outside demo mode a witness is required.

The witness here is started by the very script `make run` starts (scripts/run → scripts/witness).
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.transparency import merkle, service
from safeslot.transparency.errors import WitnessRequired
from safeslot.transparency.note import Checkpoint, CosignatureSigner, CosignatureVerifier, Signer, open_note, sign_note
from safeslot.transparency.verify import VerificationError, verify_log
from tests.transparency.support import NOW_ENTRIES, entries

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "safeslot.localhost/log"  # the default origin: the script reads the office's own settings


@dataclass
class LocalWitness:
    url: str
    verifier: CosignatureVerifier
    log: Signer  # the office's log key, as `safeslot log vkey` made it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def local_witness(tmp_path: Path) -> Iterator[LocalWitness]:
    port = _free_port()
    log_key = tmp_path / "keys" / "log-signing.key"
    witness_key = tmp_path / "keys" / "witness.key"
    env = {**os.environ, "SAFESLOT_ENVIRONMENT": "demo", "SAFESLOT_LOG__SIGNING_KEY_FILE": str(log_key),
           "SAFESLOT_WITNESS_KEY_FILE": str(witness_key), "SAFESLOT_WITNESS_STATE": str(tmp_path / "w.json"),
           "BIN": str(Path(sys.executable).parent)}
    proc = subprocess.Popen([str(ROOT / "scripts" / "witness"), str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Generous: the script runs two CLI commands before serving, slow on a loaded 2-core machine.
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()  # before reading stderr: a live process would never end the read
                    _, err = proc.communicate(timeout=10)
                    raise RuntimeError(f"scripts/witness did not start: {err!r}") from None
                time.sleep(0.1)
        yield LocalWitness(f"http://127.0.0.1:{port}", CosignatureSigner.parse(witness_key.read_text()).verifier(),
                           Signer.parse(log_key.read_text()))
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()


LEAVES = [merkle.leaf_hash(b"entry %d" % i) for i in range(20)]


def _note(log: Signer, size: int, root: bytes | None = None) -> str:
    root = root if root is not None else merkle.root_from_leaves(LEAVES[:size])
    return sign_note(Checkpoint(log.name, size, root).to_text(), [log])


def _body(old: int, note: str, proof: list[bytes]) -> bytes:
    return (f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n" + note).encode()


@pytest.mark.slow
def test_the_witness_make_run_starts_refuses_a_forked_checkpoint(local_witness: LocalWitness) -> None:
    w, log = local_witness, local_witness.log
    with httpx.Client(base_url=w.url, timeout=10) as http:
        first = _note(log, 5)
        ok = http.post("/add-checkpoint", content=_body(0, first, []))
        assert ok.status_code == 200, ok.text
        open_note(first + ok.text, [w.verifier])  # its own key cosigned it
        forked = _note(log, 5, root=b"\x05" * 32)  # same size, another history
        assert http.post("/add-checkpoint", content=_body(5, forked, [])).status_code == 409
        get = lambda s, e: merkle.root_from_leaves(LEAVES[s:e])  # noqa: E731
        proof = merkle.consistency_proof(5, 9, get)
        fork_later = _note(log, 9, root=b"\x09" * 32)  # a larger tree that does not extend size 5
        assert http.post("/add-checkpoint", content=_body(5, fork_later, proof)).status_code == 422
        rollback = http.post("/add-checkpoint", content=_body(0, _note(log, 3), []))
        assert rollback.status_code == 409 and rollback.text.strip() == "5"  # it holds size 5: no going back
        grown = http.post("/add-checkpoint", content=_body(5, _note(log, 9), proof))
        assert grown.status_code == 200


@pytest.mark.slow
def test_the_office_publishes_checkpoints_cosigned_by_that_witness(
    local_witness: LocalWitness, app_factory: Callable[..., TestClient], session: Session, tmp_path: Path
) -> None:
    w = local_witness
    settings = Settings(environment=Environment.test, crypto={"key_file": tmp_path / "keys.json"},
                        log={"signing_key_file": tmp_path / "keys" / "log-signing.key",
                             "witnesses": [f"{w.url} {w.verifier.to_vkey()}"]})
    client = app_factory(settings=settings)
    service.append_raw(session, entries(4), now=NOW_ENTRIES)
    note = client.get("/log/checkpoint").text
    assert f"— {w.verifier.name} " in note  # published with the witness's cosignature
    vkey = w.log.verifier().to_vkey()
    result = verify_log(client, "http://testserver/log", vkey, witnesses=[w.verifier.to_vkey()], quorum=1)
    assert result.cosigned_by == [w.verifier.name]
    other = CosignatureSigner.generate("witness.other.example").verifier().to_vkey()
    with pytest.raises(VerificationError, match="cosigned by 1 of the witnesses given"):
        verify_log(client, "http://testserver/log", vkey, witnesses=[w.verifier.to_vkey(), other], quorum=2)


def test_outside_demo_mode_the_app_refuses_to_start_without_a_witness(
    engine: Engine, connection: Connection, keyring: KeyRing, tmp_path: Path
) -> None:
    key_file = tmp_path / "log.key"
    service.write_key_file(key_file, Signer.generate(ORIGIN).to_skey())
    production = Settings(environment=Environment.production, secret_key="p" * 40,
                          log={"signing_key_file": key_file})
    with pytest.raises(WitnessRequired, match="at least one witness"):
        create_app(production, engine=engine, bind=connection, keyring=keyring)
    witnessed = production.model_copy(update={"log": production.log.model_copy(update={
        "witnesses": [f"https://witness.example {CosignatureSigner.generate('witness.example').verifier().to_vkey()}"]
    })})
    create_app(witnessed, engine=engine, bind=connection, keyring=keyring)
