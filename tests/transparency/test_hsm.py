"""The log key in a PKCS#11 token (SoftHSM2 here, an HSM or a KMS in production): checkpoints it signs are
accepted by the unchanged verifier and cosigned by a witness; a wrong PIN or label stops start-up."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pkcs11
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.testclient import TestClient as WitnessClient
from typer.testing import CliRunner

from safeslot.app import create_app
from safeslot.cli import common
from safeslot.cli.transparency import log_app
from safeslot.config import Pkcs11Settings, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.transparency import hsm, service
from safeslot.transparency.errors import LogKeyUnusable
from safeslot.transparency.note import (
    CosignatureSigner,
    NoteKey,
    Signer,
    Verifier,
    open_checkpoint,
    open_note,
)
from safeslot.transparency.verify import verify_log
from safeslot.transparency.witness import create_witness_app
from tests.transparency.support import NOW_ENTRIES, entries

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN = "safeslot-test"
PIN = "4921-test"


@pytest.fixture(scope="session")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A SoftHSM2 token in a temp dir; SOFTHSM2_CONF is read when the module is first loaded."""
    util = shutil.which("softhsm2-util")
    if not MODULE.is_file() or util is None:
        pytest.skip("SoftHSM2 is not installed (scripts/test-deps installs Debian's softhsm2)")
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run([util, "--init-token", "--free", "--label", TOKEN, "--so-pin", "so-4921", "--pin", PIN],
                   check=True, capture_output=True)
    yield MODULE
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before


@pytest.fixture(autouse=True)
def logged_out(token: Path) -> Iterator[None]:
    """Each test starts with no session open: PKCS#11 logs a whole process in, so a signer left open by
    the test before would make the next one's PIN check moot."""
    yield
    pkcs11.lib(str(token)).reinitialize()


def _label() -> str:
    return f"log-{uuid.uuid4().hex[:8]}"


def _pkcs11(settings: Settings, module: Path, label: str, pin_file: Path, changes: dict[str, object] | None = None
            ) -> Settings:
    configured = settings.model_copy(deep=True)
    configured.log.signer = "pkcs11"
    token = Pkcs11Settings(module=module, token_label=TOKEN, key_label=label, pin_file=pin_file)
    configured.log.pkcs11 = token.model_copy(update=changes or {})
    return configured


@pytest.fixture
def pin_file(tmp_path: Path) -> Path:
    path = tmp_path / "pin"
    path.write_text(PIN + "\n")
    path.chmod(0o600)
    return path


def test_a_token_key_signs_checkpoints_the_verifier_and_a_witness_accept(
    token: Path, pin_file: Path, settings: Settings, app_factory: Callable[..., TestClient], session: Session,
    tmp_path: Path,
) -> None:
    label = _label()
    published = hsm.generate_key(hsm.TokenKey(token, TOKEN, label), PIN, settings.log.origin)
    client = app_factory(settings=_pkcs11(settings, token, label, pin_file))
    signer = client.app.state.log_signer  # type: ignore[attr-defined]
    assert isinstance(signer, hsm.Pkcs11Signer)
    assert signer.to_vkey() == published.to_vkey()  # the public key and key ID come from the token

    service.append_raw(session, entries(9), now=NOW_ENTRIES)
    session.flush()
    note = client.get("/log/checkpoint").text
    checkpoint, _ = open_checkpoint(note, settings.log.origin, Verifier.parse(published.to_vkey()))
    assert checkpoint.size == 9
    # The independent verifier, given only the published vkey, checks the served log.
    assert verify_log(client, "http://testserver/log", published.to_vkey()).size == 9

    # A witness that knows only the vkey cosigns the token-signed checkpoint.
    witness = CosignatureSigner.generate("witness.test/hsm")
    app = create_witness_app(witness, [Verifier.parse(published.to_vkey())], tmp_path / "w.json",
                             clock=lambda: 1_800_000_000)
    answer = WitnessClient(app).post("/add-checkpoint", content=b"old 0\n\n" + note.encode())
    assert answer.status_code == 200, answer.text
    _, sigs = open_note(note + answer.text, [witness.verifier()])
    assert [s.name for s in sigs] == ["witness.test/hsm"]


def test_the_file_key_moved_into_the_token_keeps_its_vkey(token: Path, pin_file: Path, settings: Settings) -> None:
    file_key = Signer.generate(settings.log.origin)
    where = hsm.TokenKey(token, TOKEN, _label())
    assert hsm.import_key(where, PIN, file_key).to_vkey() == file_key.to_vkey()
    in_token = service.open_signer(_pkcs11(settings, token, where.key_label, pin_file).log, create=False)
    assert in_token.to_vkey() == file_key.to_vkey()  # witnesses and verifiers need no change
    # The same public face (note.NoteKey) wherever the secret is: the signature lines name the same key.
    assert isinstance(in_token, NoteKey)
    assert (in_token.name, in_token.key_id, in_token.public_key) == (file_key.name, file_key.key_id,
                                                                     file_key.public_key)
    assert in_token.verifier().to_vkey() == file_key.to_vkey()
    message = b"safeslot.test/log\n1\n" + b"A" * 43 + b"=\n"
    assert file_key.verifier().verify(message, in_token.sign(message))
    with pytest.raises(LogKeyUnusable, match="already"):  # a key is never overwritten
        hsm.import_key(where, PIN, Signer.generate(settings.log.origin))


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"pin": "0000"}, "refused the PIN"),
        ({"key_label": "no-such-key"}, "KEY_LABEL"),
        ({"token_label": "no-such-token"}, "TOKEN_LABEL"),
        ({"module": Path("/nonexistent/libpkcs11.so")}, "No PKCS#11 module"),
        ({"pin_file": Path("/nonexistent/pin")}, "no PIN is readable"),
    ],
)
def test_a_token_that_cannot_sign_stops_start_up_with_what_to_fix(
    token: Path, pin_file: Path, settings: Settings, keyring: KeyRing, tmp_path: Path, change: dict[str, object],
    says: str,
) -> None:
    label = _label()
    hsm.generate_key(hsm.TokenKey(token, TOKEN, label), PIN, settings.log.origin)
    change = dict(change)
    if "pin" in change:  # a PIN file that holds the wrong PIN
        wrong = tmp_path / "wrong-pin"
        wrong.write_text(str(change.pop("pin")))
        change["pin_file"] = wrong
    configured = _pkcs11(settings, token, label, pin_file, change)
    with pytest.raises(LogKeyUnusable, match=says):
        create_app(configured, keyring=keyring)


def test_the_cli_generates_the_key_in_the_token_and_prints_its_vkey(
    token: Path, pin_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    label = _label()
    monkeypatch.setenv("SAFESLOT_ENVIRONMENT", "production")
    monkeypatch.setenv("SAFESLOT_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("SAFESLOT_LOG__SIGNER", "pkcs11")
    monkeypatch.setenv("SAFESLOT_LOG__PKCS11__MODULE", str(token))
    monkeypatch.setenv("SAFESLOT_LOG__PKCS11__TOKEN_LABEL", TOKEN)
    monkeypatch.setenv("SAFESLOT_LOG__PKCS11__KEY_LABEL", label)
    monkeypatch.setenv("SAFESLOT_LOG__PKCS11__PIN_FILE", str(pin_file))
    common.settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(log_app, ["hsm-keygen"])
        assert made.exit_code == 0, made.output
        vkey = made.output.strip().splitlines()[-1]
        Verifier.parse(vkey)
        shown = runner.invoke(log_app, ["vkey"])
        assert shown.output.strip() == vkey  # `log vkey` reads the same key from the token
        assert runner.invoke(log_app, ["hsm-keygen"]).exit_code == 1  # never a second key under one label
    finally:
        common.settings.cache_clear()


def test_a_session_the_token_dropped_is_reopened_and_signing_goes_on(
    token: Path, pin_file: Path, settings: Settings
) -> None:
    label = _label()
    hsm.generate_key(hsm.TokenKey(token, TOKEN, label), PIN, settings.log.origin)
    signer = service.open_signer(_pkcs11(settings, token, label, pin_file).log, create=False)
    pkcs11.lib(str(token)).reinitialize()  # the HSM restarted: every session and login is gone
    message = b"safeslot.test/log\n2\n" + b"B" * 43 + b"=\n"
    assert signer.verifier().verify(message, signer.sign(message))
