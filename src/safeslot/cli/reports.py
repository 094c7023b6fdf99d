"""`safeslot report …`: build, publish and verify transparency reports from the log alone."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from safeslot.cli.common import console, err_console, settings, transaction
from safeslot.kit.http import outgoing_client

app = typer.Typer(help="Transparency reports: what was asked, by whom, and what was given.", no_args_is_help=True)


class _LateProgress:
    """A Rich progress bar that appears only once a build has taken more than a second."""

    def __init__(self, label: str, delay: float = 1.0) -> None:
        self.label, self.delay, self.started = label, delay, time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < self.delay:
                return
            self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                console=err_console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        assert self.task is not None
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("build")
def build(
    period: Annotated[str, typer.Option(help="2026H2, 2026Q3, 2026-07 or 2026.")],
    out: Annotated[Path | None, typer.Option(help="Write report-<period>.json/.html/.csv here.")] = None,
    publish: Annotated[bool, typer.Option(help="Sign it, append its hash to the log, serve it publicly.")] = True,
) -> None:
    """Compute the report from the log's entries up to a fresh signed checkpoint."""
    from safeslot.kit.errors import DomainError
    from safeslot.reports import render, service
    from safeslot.reports.schemas import Period
    from safeslot.transparency import service as log

    s = settings()
    signer = log.open_signer(s.log, create=s.is_demo)
    progress = _LateProgress("Reading the log")
    try:
        p = Period.parse(period)
        with transaction() as session:  # a short transaction: the sequencer is not held while we read
            log.checkpoint(session, signer, dt.datetime.now(dt.UTC), origin=s.log.origin)
        with transaction() as session:
            report = service.compute_from_log(service.LocalLog(session), signer.verifier(), s.log.origin, p,
                                              progress=progress)
    except DomainError as exc:
        err_console.print(f"[red]{exc.title}:[/] {exc.detail}")
        raise typer.Exit(1) from exc
    finally:
        progress.close()
    signature = service.sign(report, signer)
    sha = render.sha256(report)
    if publish:
        now = dt.datetime.now(dt.UTC)
        with transaction() as session:
            done = service.publish(session, report, signature, now)
            log.checkpoint(session, signer, now, origin=s.log.origin)
        console.print(f"Published: log entry {done.log_index} holds the report's SHA-256.")
    assert report.checkpoint is not None
    console.print(f"Report {report.period}: {report.summary['requests']} requests, from the first "
                  f"{report.checkpoint.size} log entries (root {report.checkpoint.root_hash}).")
    console.print(f"SHA-256 {sha}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"report-{report.period}"
        stem.with_suffix(".json").write_bytes(render.to_json(report, signature))
        stem.with_suffix(".csv").write_bytes(render.to_csv(report))
        stem.with_suffix(".html").write_bytes(render.to_html(report, signature, sha=sha))
        console.print(f"Wrote {stem}.json, .csv and .html")


@app.command("verify")
def verify(
    report: Annotated[Path, typer.Argument(help="A published report-<period>.json, or the .html page "
                                                "(it carries the JSON).")],
    url: Annotated[str | None, typer.Option(help="The log's prefix, e.g. https://office.example/log; "
                                                 "default: this office's own log database.")] = None,
    vkey: Annotated[str | None, typer.Option(help="The log's verifier key; required with --url.")] = None,
    origin: Annotated[str | None, typer.Option(help="The log's origin; defaults to the key name.")] = None,
) -> None:
    """Recompute a report from the log's tiles alone; fail on any difference."""
    from safeslot.kit.errors import DomainError
    from safeslot.reports import service
    from safeslot.reports.errors import ReportMismatch
    from safeslot.transparency import service as log
    from safeslot.transparency.note import NoteError, Verifier

    progress = _LateProgress("Recomputing from the log")
    try:
        document = report.read_bytes()
        if url is not None:
            if vkey is None:
                err_console.print("[red]Give the log's verifier key with --vkey.[/]")
                raise typer.Exit(2)
            verifier = Verifier.parse(vkey)
            with outgoing_client(timeout=30.0, follow_redirects=True) as client:
                actual = service.verify(document, service.HttpLog(client, url), verifier, origin or verifier.name,
                                        progress=progress)
        else:
            s = settings()
            verifier = (Verifier.parse(vkey) if vkey else
                        log.open_signer(s.log, create=False).verifier())
            with transaction() as session:
                actual = service.verify(document, service.LocalLog(session), verifier, origin or s.log.origin,
                                        progress=progress)
    except ReportMismatch as exc:
        progress.close()
        err_console.print("[red]NOT VERIFIED:[/] the report differs from the log:")
        for line in exc.differences[:50]:
            err_console.print(f"  {line}")
        raise typer.Exit(1) from exc
    except (DomainError, NoteError, OSError) as exc:
        progress.close()
        err_console.print(f"[red]NOT VERIFIED:[/] {getattr(exc, 'detail', exc)}")
        raise typer.Exit(1) from exc
    progress.close()
    assert actual.checkpoint is not None
    console.print(f"Verified: report {actual.period} matches the first {actual.checkpoint.size} log entries "
                  f"(root {actual.checkpoint.root_hash}) and its signature.")
