"""The independent verifier, talking HTTP to the real app, against honest and dishonest logs."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safeslot.app import create_app
from safeslot.cli.transparency import log_app
from safeslot.config import Settings
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.kit.crypto import KeyRing
from safeslot.transparency import service
from safeslot.transparency.note import Checkpoint, Signer, sign_note
from safeslot.transparency.verify import VerificationError, verify_log
from tests.conftest import cli_configured, owner_url
from tests.live import serve
from tests.transparency.support import entries, triggers_disabled

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
URL = "http://testserver/log"

# These tests tamper with the log as an insider with the schema owner's rights would.
pytestmark = pytest.mark.as_owner


def publish(client: TestClient, session: Session, n: int) -> str:
    start = service.status(session).size
    service.append_raw(session, entries(n, start), now=NOW)
    session.flush()
    r = client.get("/log/checkpoint")
    assert r.status_code == 200
    return r.text


def signer_of(client: TestClient) -> Signer:
    signer: Signer = client.app.state.log_signer  # type: ignore[attr-defined]
    return signer


def vkey(client: TestClient) -> str:
    return signer_of(client).to_vkey()


def serving_checkpoint(client: TestClient, note: str) -> httpx.Client:
    """A dishonest mirror: the real log, except that /log/checkpoint answers ``note``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/log/checkpoint":
            return httpx.Response(200, text=note)
        real = client.get(str(request.url))
        headers = {k: v for k, v in real.headers.items() if k not in ("content-encoding", "content-length")}
        return httpx.Response(real.status_code, content=real.content, headers=headers)  # already decoded

    return httpx.Client(transport=httpx.MockTransport(handle))


def forged(client: TestClient, size: int) -> str:
    origin = client.app.state.settings.log.origin  # type: ignore[attr-defined]
    return sign_note(Checkpoint(origin, size, secrets.token_bytes(32)).to_text(), [signer_of(client)])


def test_an_honest_log_verifies_and_the_state_follows_it(client: TestClient, session: Session, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    publish(client, session, 600)
    result = verify_log(client, URL, vkey(client), state_file=state)
    assert (result.size, result.tiles_checked) == (600, 4)  # 3 entry tiles + 1 level-1 tile
    assert json.loads(state.read_text())["size"] == 600
    publish(client, session, 70)
    assert verify_log(client, URL, vkey(client), state_file=state).size == 670
    assert json.loads(state.read_text())["size"] == 670


def test_an_empty_log_verifies(client: TestClient) -> None:
    assert verify_log(client, URL, vkey(client)).size == 0


@pytest.mark.parametrize(
    ("column", "index"),
    [("data", 300), ("leaf_hash", 17)],
)
def test_one_changed_byte_in_one_entry_is_found(client: TestClient, session: Session, column: str, index: int) -> None:
    publish(client, session, 600)
    with triggers_disabled(session, "log_entry"):
        value = bytearray(session.execute(text(f"SELECT {column} FROM log_entry WHERE idx = {index}")).scalar_one())
        value[-3] ^= 0x01  # inside the last string value: still valid JSON
        session.execute(text(f"UPDATE log_entry SET {column} = :v WHERE idx = {index}"), {"v": bytes(value)})
    with pytest.raises(VerificationError, match=f"entry {index}: its hash differs"):
        verify_log(client, URL, vkey(client))


def test_a_changed_stored_node_hash_is_found(client: TestClient, session: Session) -> None:
    publish(client, session, 600)
    with triggers_disabled(session, "log_node"):
        session.execute(text("UPDATE log_node SET hash = :h WHERE level = 8 AND idx = 1"), {"h": b"\x07" * 32})
    with pytest.raises(VerificationError, match=r"entries 256\.\.511: hash 1 of tile 1/000"):
        verify_log(client, URL, vkey(client))


def test_an_older_checkpoint_is_a_rollback(client: TestClient, session: Session, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    old_note = publish(client, session, 300)
    publish(client, session, 300)
    verify_log(client, URL, vkey(client), state_file=state)
    with pytest.raises(VerificationError, match="size 300, older than size 600"):
        verify_log(serving_checkpoint(client, old_note), URL, vkey(client), state_file=state)
    assert json.loads(state.read_text())["size"] == 600  # the state is not moved back


def test_a_forked_checkpoint_is_refused(client: TestClient, session: Session, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    publish(client, session, 40)
    verify_log(client, URL, vkey(client), state_file=state)
    with pytest.raises(VerificationError, match="root differs from the one seen before"):
        verify_log(serving_checkpoint(client, forged(client, 40)), URL, vkey(client), state_file=state)
    publish(client, session, 10)
    with pytest.raises(VerificationError, match="does not extend the one of size 40"):
        verify_log(serving_checkpoint(client, forged(client, 50)), URL, vkey(client), state_file=state)
    # Without a state file the fork is still caught: the entries do not hash to the forged root.
    with pytest.raises(VerificationError, match="not the signed root"):
        verify_log(serving_checkpoint(client, forged(client, 50)), URL, vkey(client))


def test_a_checkpoint_signed_by_another_key_is_refused(client: TestClient, session: Session) -> None:
    publish(client, session, 3)
    other = Signer.generate(signer_of(client).name)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_log(client, URL, other.to_vkey())


def test_the_verify_command_over_real_http(
    fresh_url: str, settings: Settings, keyring: KeyRing, tmp_path: Path
) -> None:
    # A real server needs its own committed database: threads must not share the test's connection.
    engine = build_engine(fresh_url)
    app = create_app(settings, engine=engine, keyring=keyring, clock=lambda: NOW)
    maker = build_sessionmaker(engine)
    with transaction(maker) as s:
        service.append_raw(s, entries(20), now=NOW)
    key = app.state.log_signer.to_vkey()
    runner = CliRunner()
    with serve(app) as base:
        ok = runner.invoke(log_app, ["verify", "--url", f"{base}/log", "--vkey", key,
                                     "--state", str(tmp_path / "s.json")])
        assert ok.exit_code == 0, ok.output
        assert "Verified: 20 entries" in ok.output
        owner = build_engine(owner_url(fresh_url))
        with transaction(build_sessionmaker(owner)) as s, triggers_disabled(s, "log_entry"):
            s.execute(text("UPDATE log_entry SET data = :d WHERE idx = 7"),
                      {"d": b'{"event":"disclosure.decision","request_id":"req-X"}'})
        bad = runner.invoke(log_app, ["verify", "--url", f"{base}/log", "--vkey", key])
    engine.dispose()
    owner.dispose()
    assert bad.exit_code == 1
    assert "entry 7" in bad.output


def test_the_log_must_extend_every_published_checkpoint_given(client: TestClient, session: Session) -> None:
    # A log smaller than, or inconsistent with, any published checkpoint fails
    old_note = publish(client, session, 300)
    publish(client, session, 10)
    assert verify_log(client, URL, vkey(client), published=[old_note]).size == 310
    with pytest.raises(VerificationError, match="size 310, older than size 400 seen before"):
        verify_log(client, URL, vkey(client), published=[old_note, forged(client, 400)])
    with pytest.raises(VerificationError, match="does not extend the one of size 40"):
        verify_log(client, URL, vkey(client), published=[forged(client, 40)])
    stranger = Signer.generate(signer_of(client).name)
    with pytest.raises(VerificationError, match="published checkpoint 1 is not signed by this log"):
        verify_log(client, URL, vkey(client),
                   published=[sign_note(Checkpoint(stranger.name, 5, b"\1" * 32).to_text(), [stranger])])


def test_an_outside_auditor_checks_an_exported_access_log_against_the_public_log(
    fresh_url: str, settings: Settings, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.transparency.support import chained_records

    engine = build_engine(fresh_url)  # the app's role writes, as the app would
    app = create_app(settings, engine=engine, keyring=keyring, clock=lambda: NOW)
    with transaction(build_sessionmaker(engine)) as s:
        chained_records(s, keyring)
    export = tmp_path / "access.jsonl"
    runner = CliRunner()
    try:
        with cli_configured(monkeypatch, {"SAFESLOT_ENVIRONMENT": "test", "SAFESLOT_DATABASE__URL": fresh_url}):
            made = runner.invoke(log_app, ["export-records", "--table", "access_record", "--out", str(export)])
            assert made.exit_code == 0 and "3 records of access_record" in made.output, made.output
            key = app.state.log_signer.to_vkey()
            with serve(app) as base:
                args = ["verify", "--url", f"{base}/log", "--vkey", key, "--records", str(export)]
                ok = runner.invoke(log_app, args)  # the checkpoint commits the heads first
                assert ok.exit_code == 0, ok.output
                said = " ".join(ok.output.split())
                assert "access_record, 3 records, every link holds and all 1 committed heads" in said
                lines = export.read_text().splitlines()
                export.write_text("\n".join([lines[0], lines[1], lines[3]]) + "\n")  # the auditor's copy lost one
                gone = runner.invoke(log_app, args)
                assert gone.exit_code == 1 and "access_record record #2 is missing" in " ".join(gone.output.split())
                export.write_text("\n".join([lines[0], lines[1], lines[2]]) + "\n")  # or its newest record
                cut = runner.invoke(log_app, args)
                assert cut.exit_code == 1 and "committed at log entry" in " ".join(cut.output.split())
    finally:
        engine.dispose()
