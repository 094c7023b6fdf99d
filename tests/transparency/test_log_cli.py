"""`safeslot log keygen|status|checkpoint` and `safeslot witness keygen|serve` as separate processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safeslot.cli import common
from safeslot.cli.transparency import log_app, witness_app
from safeslot.config import Settings
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.kit.crypto import KeyRing
from safeslot.transparency import service
from safeslot.transparency.note import CosignatureVerifier, Verifier, open_checkpoint
from tests.conftest import cli_configured
from tests.transparency.support import NOW_ENTRIES, entries


@pytest.fixture
def cli_env(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    key = tmp_path / "keys" / "log.key"
    with cli_configured(monkeypatch, {"SAFESLOT_ENVIRONMENT": "production", "SAFESLOT_SECRET_KEY": "s" * 40,
                                      "SAFESLOT_DATABASE__URL": fresh_url, "SAFESLOT_LOG__SIGNING_KEY_FILE": str(key)}):
        yield key


def test_keygen_status_and_checkpoint(cli_env: Path, fresh_url: str) -> None:
    runner = CliRunner()
    # Outside demo mode nothing signs without a key.
    assert runner.invoke(log_app, ["checkpoint"]).exit_code != 0
    made = runner.invoke(log_app, ["keygen"])
    assert made.exit_code == 0, made.output
    vkey = made.output.strip().splitlines()[-1]
    Verifier.parse(vkey)
    assert cli_env.stat().st_mode & 0o777 == 0o600
    assert runner.invoke(log_app, ["keygen"]).exit_code == 1  # never overwrites a key

    engine = build_engine(fresh_url)
    with transaction(build_sessionmaker(engine)) as s:
        service.append_raw(s, entries(7), now=NOW_ENTRIES)
    engine.dispose()
    signed = runner.invoke(log_app, ["checkpoint"])
    assert signed.exit_code == 0, signed.output
    assert "size 7" in signed.output
    status = runner.invoke(log_app, ["status"])
    assert "entries: 7 (published in the latest checkpoint: 7)" in status.output
    assert "cosigned by: nobody yet" in status.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_witness_processes_cosign_the_log(cli_env: Path, fresh_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    vkey = runner.invoke(log_app, ["keygen"]).output.strip().splitlines()[-1]
    procs: list[subprocess.Popen[bytes]] = []
    witnesses = []
    try:
        for name in ("oig.test/witness", "court.test/witness"):
            key_file = tmp_path / f"{name.split('.')[0]}.key"
            w_vkey = runner.invoke(witness_app, ["keygen", "--name", name, "--key-file", str(key_file)]).output.strip()
            port = _free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "safeslot.cli.main", "witness", "serve", "--key-file", str(key_file),
                 "--log-vkey", vkey, "--state", str(tmp_path / f"{port}.json"), "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy(),
            ))
            witnesses.append(f"http://127.0.0.1:{port} {w_vkey}")
        for spec in witnesses:
            deadline = time.monotonic() + 60  # a process importing the app on a busy machine takes long
            while True:
                try:
                    httpx.get(spec.split()[0] + "/")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        os.environ["SAFESLOT_LOG__WITNESSES"] = "[" + ",".join(f'"{w}"' for w in witnesses) + "]"
        common.settings.cache_clear()
        engine = build_engine(fresh_url)
        maker = build_sessionmaker(engine)
        for n in (3, 40):
            with transaction(maker) as s:
                service.append_raw(s, entries(n), now=NOW_ENTRIES)
            out = runner.invoke(log_app, ["checkpoint"]).output
            assert out.count(": cosigned") == 2, out
        with transaction(maker) as s:
            note = service.checkpoint_note(s)
        engine.dispose()
        assert note is not None
        cosigners = [CosignatureVerifier.parse(w.split()[1]) for w in witnesses]
        _, sigs = open_checkpoint(note, Verifier.parse(vkey).name, Verifier.parse(vkey), cosigners)
        assert len(sigs) == 3
    finally:
        os.environ.pop("SAFESLOT_LOG__WITNESSES", None)
        for p in procs:
            p.terminate()
            p.wait(10)


def test_demo_load_is_idempotent(session: Session, settings: Settings) -> None:
    from rich.console import Console

    from safeslot.transparency import demo

    for _ in range(2):
        demo.load(session, settings, Console(quiet=True))
    st = service.status(session)
    assert (st.size, st.published_size) == (2, 2)


def test_self_check_records_each_run_and_fails_on_a_tampered_entry(cli_env: Path, fresh_url: str) -> None:
    from sqlalchemy import select, text

    from safeslot.transparency.models import LogVerification
    from tests.conftest import owner_url
    from tests.transparency.support import triggers_disabled

    runner = CliRunner()
    assert runner.invoke(log_app, ["keygen"]).exit_code == 0
    engine = build_engine(fresh_url)
    with transaction(build_sessionmaker(engine)) as s:
        service.append_raw(s, entries(7), now=NOW_ENTRIES)
    assert runner.invoke(log_app, ["checkpoint"]).exit_code == 0
    ok = runner.invoke(log_app, ["self-check"])
    assert ok.exit_code == 0, ok.output
    assert "7 entries" in ok.output and "Recorded" in ok.output
    owner = build_engine(owner_url(fresh_url))  # an insider with the schema owner's rights
    with transaction(build_sessionmaker(owner)) as s, triggers_disabled(s, "log_entry"):
        s.execute(text("UPDATE log_entry SET data = :d WHERE idx = 3"), {"d": b'{"event":"edited"}'})
    bad = runner.invoke(log_app, ["self-check"])
    assert bad.exit_code == 1 and "NOT VERIFIED" in bad.output and "entry 3" in bad.output
    with Session(engine) as s:
        assert [r.ok for r in s.scalars(select(LogVerification).order_by(LogVerification.id))] == [True, False]
    engine.dispose()
    owner.dispose()


def test_self_check_passes_on_a_new_empty_log_and_names_a_deleted_access_record(
    cli_env: Path, fresh_url: str, keyring: KeyRing
) -> None:
    from sqlalchemy import text

    from tests.conftest import owner_url
    from tests.transparency.support import chained_records, triggers_disabled

    runner = CliRunner()
    assert runner.invoke(log_app, ["keygen"]).exit_code == 0
    empty = runner.invoke(log_app, ["self-check"])  # This failed on a new log
    assert empty.exit_code == 0 and "empty" in empty.output, empty.output
    engine = build_engine(fresh_url)  # the app's role writes the records, as the app would
    with transaction(build_sessionmaker(engine)) as s:
        chained_records(s, keyring)
    assert runner.invoke(log_app, ["checkpoint"]).exit_code == 0  # commits the chain heads
    ok = runner.invoke(log_app, ["self-check"])
    assert ok.exit_code == 0 and "chained records intact" in " ".join(ok.output.split()), ok.output
    owner = build_engine(owner_url(fresh_url))  # an insider with the schema owner's rights
    with transaction(build_sessionmaker(owner)) as s, triggers_disabled(s, "access_record"):
        s.execute(text("DELETE FROM access_record WHERE chain_seq = 2"))
    bad = runner.invoke(log_app, ["self-check"])
    assert bad.exit_code == 1 and "access_record record #2 is missing" in " ".join(bad.output.split()), bad.output
    engine.dispose()
    owner.dispose()
