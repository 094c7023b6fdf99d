"""`safeslot log …` (keygen, hsm-keygen, hsm-import, status, checkpoint, verify) and `safeslot witness …`
(keygen, serve)."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from safeslot.cli.common import console, err_console, settings, transaction

log_app = typer.Typer(help="The public transparency log.", no_args_is_help=True)
witness_app = typer.Typer(help="Run a witness that cosigns this (or another) log.", no_args_is_help=True)


@log_app.command("keygen")
def keygen(
    key_file: Annotated[Path | None, typer.Option(help="Defaults to SAFESLOT_LOG__SIGNING_KEY_FILE.")] = None,
) -> None:
    """Write the log's signing key (0600) and print its verifier key for publication."""
    from safeslot.transparency.keyfiles import write_key_file
    from safeslot.transparency.note import Signer

    s = settings()
    path = key_file or s.log.signing_key_file
    if path.exists():
        err_console.print(f"[red]{path} exists; refusing to overwrite a signing key.[/]")
        raise typer.Exit(1)
    signer = Signer.generate(s.log.origin)
    write_key_file(path, signer.to_skey())
    console.print(f"Signing key written to {path} (mode 0600). Publish the verifier key:")
    print(signer.to_vkey())


def _token_and_pin() -> tuple[Any, str]:
    from safeslot.transparency import hsm

    s = settings()
    pin = s.log.pkcs11.read_pin()
    if pin is None:
        err_console.print("[red]Set SAFESLOT_LOG__PKCS11__PIN_FILE (or SAFESLOT_LOG__PKCS11__PIN) to the token's "
                          "user PIN.[/]")
        raise typer.Exit(1)
    return hsm.TokenKey(s.log.pkcs11.module, s.log.pkcs11.token_label, s.log.pkcs11.key_label), pin


@log_app.command("hsm-keygen")
def hsm_keygen() -> None:
    """Generate the log's Ed25519 key inside the PKCS#11 token (SAFESLOT_LOG__PKCS11__*) and print its
    verifier key. The key never leaves the token; set SAFESLOT_LOG__SIGNER=pkcs11 to sign with it."""
    from safeslot.transparency import hsm
    from safeslot.transparency.errors import LogKeyUnusable

    where, pin = _token_and_pin()
    try:
        verifier = hsm.generate_key(where, pin, settings().log.origin)
    except LogKeyUnusable as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"Generated {where.describe()}. Publish the verifier key:")
    print(verifier.to_vkey())


@log_app.command("hsm-import")
def hsm_import(
    key_file: Annotated[Path | None, typer.Option(help="Defaults to SAFESLOT_LOG__SIGNING_KEY_FILE.")] = None,
) -> None:
    """Move the log's key file into the PKCS#11 token: same key and key ID, so verifiers and witnesses
    need no change. Then set SAFESLOT_LOG__SIGNER=pkcs11 and destroy the file (shred -u)."""
    from safeslot.transparency import hsm
    from safeslot.transparency.errors import LogKeyUnusable
    from safeslot.transparency.note import Signer

    s = settings()
    path = key_file or s.log.signing_key_file
    if not path.exists():
        err_console.print(f"[red]No key file at {path}.[/]")
        raise typer.Exit(1)
    where, pin = _token_and_pin()
    try:
        verifier = hsm.import_key(where, pin, Signer.parse(path.read_text()))
    except LogKeyUnusable as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"Imported into {where.describe()}; the verifier key is unchanged:")
    print(verifier.to_vkey())
    console.print(f"Now set SAFESLOT_LOG__SIGNER=pkcs11, check `safeslot log vkey`, and destroy {path}.")


@log_app.command("vkey")
def vkey() -> None:
    """Print the log's verifier key (what witnesses and verifiers are given); demo mode makes the key if missing."""
    from safeslot.transparency import keyfiles

    s = settings()
    print(keyfiles.open_signer(s.log, create=s.is_demo).to_vkey())


@log_app.command("status")
def status() -> None:
    """Size, root, last checkpoint and witness cosignatures."""
    from safeslot.transparency import service

    s = settings()
    with transaction() as session:
        st = service.status(session)
    console.print(f"origin: {s.log.origin}")
    console.print(f"entries: {st.size} (published in the latest checkpoint: {st.published_size})")
    console.print(f"root: {base64.b64encode(st.root).decode()}")
    console.print(f"last checkpoint: {st.last_checkpoint_at.isoformat() if st.last_checkpoint_at else 'none yet'}")
    console.print(f"configured witnesses: {len(s.log.witnesses)}")
    for w in s.log.witnesses:
        console.print(f"  {w.split(' ', 1)[0]}")
    console.print(f"cosigned by: {', '.join(st.cosigners) or 'nobody yet'}")
    from safeslot import chain

    with transaction() as session:
        current, new = chain.pending(session)
    for table in chain.chained_tables():
        state = "empty" if table not in current else ("not yet committed" if table in new else "committed")
        console.print(f"record chain {table}: {state}")


@log_app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint now (after the consistency check) and submit it to the witnesses."""
    from safeslot.kit.http import outgoing_client
    from safeslot.transparency import service

    s = settings()
    signer = service.open_signer(s.log, create=s.is_demo)
    now = dt.datetime.now(dt.UTC)
    with transaction() as session:
        cp = service.checkpoint(session, signer, now, origin=s.log.origin)
        outcomes = {}
        if s.log.witnesses:
            with outgoing_client() as http:
                outcomes = service.submit_to_witnesses(
                    session, cp, [service.Witness.parse(w) for w in s.log.witnesses], now, http
                )
    console.print(f"Checkpoint of size {cp.size} signed.")
    for name, outcome in outcomes.items():
        console.print(f"  witness {name}: {outcome}")


@log_app.command("self-check")
def self_check() -> None:
    """Verify this office's log end to end from its database, as an outside verifier would; record the run.

    The auditor's console shows the last run. Run it from cron; it exits 1 when the log does not verify.
    """
    from safeslot.transparency import interfaces, service

    s = settings()
    signer = service.open_signer(s.log, create=s.is_demo)
    with transaction() as session:
        row = interfaces.self_verify(session, signer.verifier(), s.log.origin, dt.datetime.now(dt.UTC), method="cli")
        ok, size, detail = row.ok, row.size, row.detail
    if not ok:
        err_console.print(f"[red]NOT VERIFIED[/] (checkpoint of size {size}): {detail}")
        raise typer.Exit(1)
    console.print(f"Verified: {detail} (checkpoint of size {size}). Recorded for the auditors.")


@log_app.command("verify")
def verify(
    url: Annotated[str, typer.Option(help="The log's prefix, e.g. https://office.example/log")],
    vkey: Annotated[str, typer.Option(help="The log's verifier key (name+id+key).")],
    state: Annotated[
        Path | None, typer.Option(help="Remembers the last checkpoint, to detect rollbacks and forks.")
    ] = None,
    origin: Annotated[str | None, typer.Option(help="Checkpoint origin; defaults to the key name.")] = None,
    witness: Annotated[
        list[str] | None, typer.Option(help="A witness's cosignature verifier key; repeat for several.")
    ] = None,
    quorum: Annotated[int | None, typer.Option(help="Cosignatures required (default: every --witness).")] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(help="A signed checkpoint of this log seen elsewhere; the log must extend it. Repeatable."),
    ] = None,
    records: Annotated[
        list[Path] | None,
        typer.Option(help="An export from `safeslot log export-records`: check it against the chain heads the "
                     "log committed. Repeatable."),
    ] = None,
) -> None:
    """Independently verify every entry, tile and the signed root of a log over HTTP."""
    from safeslot.kit.http import outgoing_client
    from safeslot.transparency.verify import VerificationError, verify_log

    try:
        published = [p.read_text() for p in checkpoint or ()]
        with outgoing_client(timeout=30.0, follow_redirects=True) as client:
            result = verify_log(
                client, url, vkey, origin=origin, state_file=state, witnesses=witness or (), quorum=quorum,
                published=published,
            )
    except VerificationError as exc:
        err_console.print(f"[red]NOT VERIFIED:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"Verified: {result.size} entries, {result.tiles_checked} tiles, root "
        f"{base64.b64encode(result.root).decode()}"
        + (f", cosigned by {', '.join(result.cosigned_by)}." if result.cosigned_by else ".")
    )
    if published:
        console.print(f"It extends all {len(published)} checkpoints given.")
    for path in records or ():
        _verify_export(path, result.record_heads)
    if result.record_heads:
        console.print(f"Record chain heads committed: {len(result.record_heads)} times, the latest at entry "
                      f"{result.record_heads[-1][0]} ({', '.join(sorted(result.record_heads[-1][1]))}).")


def _verify_export(path: Path, record_heads: list[tuple[int, dict[str, bytes]]]) -> None:
    import json

    from safeslot import chain

    try:
        with path.open() as f:
            lines = (json.loads(line) for line in f if line.strip())
            first: dict[str, object] = next(lines, {})
            table = str(first.get("table"))
            commits = [(i, heads[table]) for i, heads in record_heads if table in heads]
            w = chain.walk_export([first, *lines], (h for _, h in commits))
            chain.check_commitments(w, commits)
    except (OSError, ValueError, chain.ChainError) as exc:
        err_console.print(f"[red]NOT VERIFIED:[/] {path}: {exc}")
        raise typer.Exit(1) from exc
    console.print(f"{path}: {table}, {w.count} records, every link holds and all {len(commits)} committed heads "
                  "are in it.")


@log_app.command("export-records")
def export_records(
    table: Annotated[str, typer.Option(help="A chained table, e.g. access_record or disclosure_accounting.")],
    out: Annotated[Path, typer.Option(help="Where to write the JSON lines (it holds staff and record ids).")],
) -> None:
    """Export a hash-chained table for an auditor, who checks it with `safeslot log verify --records`."""
    import json

    from safeslot import chain

    if table not in chain.chained_tables():
        err_console.print(f"[red]{table} is not a chained table;[/] one of: {', '.join(chain.chained_tables())}.")
        raise typer.Exit(1)
    n = -1
    with transaction() as session, out.open("w") as f:
        for n, line in enumerate(chain.export_lines(session.connection(), table)):  # noqa: B007
            f.write(json.dumps(line, sort_keys=True) + "\n")
    console.print(f"{n} records of {table} written to {out}.")


@witness_app.command("keygen")
def witness_keygen(
    name: Annotated[str, typer.Option(help="The witness name, e.g. oig.example/witness")],
    key_file: Annotated[Path, typer.Option(help="Where to write the secret key (0600).")],
    exist_ok: Annotated[bool, typer.Option(help="If the key file exists, print its verifier key instead.")] = False,
) -> None:
    """Create a witness cosigning key and print its verifier key."""
    from safeslot.transparency.keyfiles import write_key_file
    from safeslot.transparency.note import CosignatureSigner

    if key_file.exists():
        if exist_ok:
            print(CosignatureSigner.parse(key_file.read_text()).to_vkey())
            return
        err_console.print(f"[red]{key_file} exists; refusing to overwrite.[/]")
        raise typer.Exit(1)
    signer = CosignatureSigner.generate(name)
    write_key_file(key_file, signer.to_skey())
    print(signer.to_vkey())


@witness_app.command("serve")
def witness_serve(
    key_file: Annotated[Path, typer.Option(help="The witness's secret key (from `safeslot witness keygen`).")],
    log_vkey: Annotated[list[str], typer.Option(help="Verifier key of a log to witness; repeat for several.")],
    state: Annotated[Path, typer.Option(help="JSON file holding the latest cosigned checkpoint per log.")],
    host: str = "127.0.0.1",
    port: int = 8100,
) -> None:
    """Serve C2SP tlog-witness add-checkpoint."""
    import uvicorn

    from safeslot.transparency.note import CosignatureSigner, Verifier
    from safeslot.transparency.witness import create_witness_app

    signer = CosignatureSigner.parse(key_file.read_text())
    app = create_witness_app(signer, [Verifier.parse(v) for v in log_vkey], state)
    console.print(f"Witness {signer.name}: {signer.to_vkey()}")
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
