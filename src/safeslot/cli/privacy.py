"""`safeslot keys rotate`, `safeslot retention run`, `safeslot access report`."""

from __future__ import annotations

import datetime as dt

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from safeslot.cli.common import console, err_console, keyring, settings, transaction
from safeslot.kit.crypto import KeyRing, key_file_lock, update_key_file, write_key_file
from safeslot.privacy import retention, rotation
from safeslot.privacy import service as privacy

keys_app = typer.Typer(help="Field-encryption keys.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention: delete contacts and purge old appointments.", no_args_is_help=True)
access_app = typer.Typer(help="The staff access log.", no_args_is_help=True)


def rotate_all(ring: KeyRing, batch_size: int, max_batches: int | None = None) -> int:
    """Re-seal pending values batch by batch, one transaction each; returns rows re-sealed."""
    with transaction() as s:
        total = rotation.pending(s, ring)
    done = 0
    with Progress(TextColumn("re-sealing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("reseal", total=total)
        batches = 0
        while max_batches is None or batches < max_batches:
            with transaction() as s:
                n = rotation.reseal_batch(s, ring, batch_size)
            if n == 0:
                break
            done += n
            batches += 1
            progress.update(task, advance=n)
    return done


@keys_app.command("init")
def init() -> None:
    """Create the key file (a master key, the blind-index key, and month keys for the booking window)."""
    s = settings()
    if s.crypto.keys:
        err_console.print("Keys come from SAFESLOT_CRYPTO__KEYS: there is no key file to create.")
        raise typer.Exit(2)
    key_file = s.crypto.key_file
    with key_file_lock(key_file):
        if key_file.exists():
            err_console.print(f"{key_file} already exists; nothing changed. Use `safeslot keys rotate` for a new key.")
            raise typer.Exit(1)
        write_key_file(key_file, KeyRing.generate())
    ring = update_key_file(key_file, lambda r: r.with_month_keys(
        retention.months_to_key(s.retention, dt.datetime.now(dt.UTC))))
    console.print(f"Created {key_file} (mode 600) with master key [bold]{ring.current}[/] and "
                  f"{len(ring.month_keys)} month keys. Back it up apart from the database.")


@keys_app.command("rotate")
def rotate(
    batch_size: int = typer.Option(500, min=1, help="Rows per transaction."),
    retire_old: bool = typer.Option(False, help="Then remove old keys that no value uses any more."),
    max_batches: int | None = typer.Option(None, hidden=True, help="Stop after this many batches (testing)."),
) -> None:
    """Add a new key and re-seal every value under it. Safe to interrupt: run again to continue."""
    s = settings()
    if s.crypto.keys:
        err_console.print("Keys come from SAFESLOT_CRYPTO__KEYS: rotate them in your secrets manager, "
                          "then run `safeslot keys rotate` with the new ring in that variable.")
        raise typer.Exit(2)
    ring = keyring()
    with transaction() as session:
        left = rotation.pending(session, ring)
    if left == 0:
        ring = update_key_file(s.crypto.key_file, lambda r: r.with_new_key())
        console.print(f"New current key [bold]{ring.current}[/] added to {s.crypto.key_file}. "
                      "Restart the servers so they seal with it.")
    else:
        console.print(f"Resuming: {left} rows still use an older key.")
    done = rotate_all(ring, batch_size, max_batches)
    with transaction() as session:
        left = rotation.pending(session, ring)
        used = rotation.keys_in_use(session)
    console.print(f"Re-sealed {done} rows; {left} left under older keys.")
    if retire_old:
        if left:
            err_console.print("Not retiring: some values still use old keys. Run `safeslot keys rotate` again.")
            raise typer.Exit(1)
        retired = [k for k in ring.keys if k != ring.current and k not in used]

        def retire(r: KeyRing) -> KeyRing:
            for kid in retired:
                r = r.without(kid)
            return r

        update_key_file(s.crypto.key_file, retire)
        for kid in retired:
            console.print(f"Retired key {kid}.")


@retention_app.command("run")
def run(batch_size: int = typer.Option(1000, min=1)) -> None:
    """Make month keys ahead, move stragglers under their month's key, purge (counts kept), destroy old month keys."""
    now = dt.datetime.now(dt.UTC)
    s = settings()
    ring = keyring()
    by_file = ring.source is not None and not s.crypto.keys
    if by_file:
        ahead = retention.months_to_key(s.retention, now)
        ring = update_key_file(s.crypto.key_file, lambda r: r.with_month_keys(ahead))
        moved = 0  # values sealed under the master key: booked before month keys, or while the ring lacked one
        for month in sorted(ring.month_keys):
            while True:
                with transaction() as session:
                    n = rotation.seal_by_month_batch(session, ring, month, batch_size)
                if n == 0:
                    break
                moved += n
        console.print(f"Moved {moved} appointments under their month's data key.")
    else:
        err_console.print("Keys come from SAFESLOT_CRYPTO__KEYS: per-month data keys need the key file; skipped.")
    with transaction() as session:
        result = retention.run(session, s.retention, now, batch_size)
        gone = retention.destroyable_months(session, ring, s.retention, now) if by_file else []
    console.print(f"Contacts deleted: {result.contacts_deleted}; appointments purged: {result.appointments_purged}; "
                  f"idempotency answers purged: {result.idempotency_purged}; walk-in names erased: "
                  f"{result.ticket_names_erased}; tickets purged: {result.tickets_purged}.")
    if gone:
        update_key_file(s.crypto.key_file, lambda r: r.without_months(gone))
        console.print(f"Destroyed the data keys of {', '.join(gone)}: backups of those months can no longer be read.")


@access_app.command("report")
def report(
    date_from: dt.datetime = typer.Option(..., "--from", help="Start (UTC), e.g. 2027-03-01"),
    date_to: dt.datetime = typer.Option(..., "--to", help="End (UTC, exclusive)"),
) -> None:
    """Print the staff access log for a period, and the alerts."""
    start = date_from.replace(tzinfo=date_from.tzinfo or dt.UTC)
    end = date_to.replace(tzinfo=date_to.tzinfo or dt.UTC)
    table = Table("at", "staff", "role", "record", "purpose", "reason",
                  title=f"Staff access {start.date()} to {end.date()}")
    with transaction() as session:
        rows = privacy.records(session, start, end)
        for r in rows:
            table.add_row(r.at.isoformat(timespec="seconds"), str(r.staff_id), r.role or "",
                          f"{r.record_type} {r.record_id}", r.purpose, r.reason or "")
        alerts = [a for a in privacy.alerts(session) if start <= a.at < end]
    console.print(table)
    console.print(f"{len(rows)} reads.")
    for a in alerts:
        console.print(f"[red]ALERT[/] {a.at.isoformat(timespec='seconds')} staff {a.staff_id} {a.rule}: {a.detail}")
