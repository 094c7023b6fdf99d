"""`safeslot policy …` (check, explain, propose, approve), `safeslot request …` (list, expire)
and `safeslot notices send`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeslot.cli.common import console, err_console, settings, transaction
from safeslot.disclosure.policy import PROFILES, SCHEMA_FILE, PolicyEngine, PolicyInvalid
from safeslot.disclosure.schemas import Actor
from safeslot.kit.errors import DomainError

policy_app = typer.Typer(help="The Cedar disclosure policy: check, explain, change.", no_args_is_help=True)
request_app = typer.Typer(help="Disclosure requests.", no_args_is_help=True)
notices_app = typer.Typer(help="Notices to people whose records were disclosed.", no_args_is_help=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _load(directory: Path, profile: str) -> PolicyEngine:
    try:
        return PolicyEngine.load(directory, profile)
    except PolicyInvalid as exc:
        for message in exc.messages:
            err_console.print(f"[red]{message}[/]")
        raise typer.Exit(1) from exc


def _staff(username: str) -> Actor:
    from safeslot.identity import service as identity

    with transaction() as session:
        account = identity.get_account(session, username)
        return Actor("staff", account.id, frozenset(account.roles.split()))


@policy_app.command("check")
def check(
    directory: Annotated[Path | None, typer.Option("--dir", help="Defaults to SAFESLOT_POLICIES_DIR.")] = None,
) -> None:
    """Validate every profile against the schema; print each policy-set hash."""
    path = directory or settings().policies_dir
    for profile in PROFILES:
        engine = _load(path, profile)
        console.print(f"{profile}: {len(engine.policies)} policies valid, policy-set hash {engine.policy_set_hash}")


@policy_app.command("explain")
def explain(request_id: int) -> None:
    """Why request REQUEST_ID was decided as it was, in words."""
    from safeslot.disclosure import service

    s = settings()
    engine = _load(s.policies_dir, s.policy_profile)
    try:
        with transaction() as session:
            lines = service.explain(session, engine, request_id)
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    for line in lines:
        console.print(line, markup=False, highlight=False)


def _files(directory: Path, profile: str) -> dict[str, str]:
    files = {SCHEMA_FILE: (directory / SCHEMA_FILE).read_text()}
    for sub in PROFILES[profile]:
        for path in sorted((directory / sub).glob("*.cedar")):
            files[path.relative_to(directory).as_posix()] = path.read_text()
    return files


@policy_app.command("propose")
def propose(
    directory: Annotated[Path, typer.Option("--dir", help="Folder holding the proposed schema and policies.")],
    by: Annotated[str, typer.Option(help="Your staff username (privacy officer, counsel or admin).")],
    summary: Annotated[str, typer.Option(help="What changes and why, in a sentence.")],
    profile: Annotated[str | None, typer.Option(help="Defaults to SAFESLOT_POLICY_PROFILE.")] = None,
) -> None:
    """Propose a validated policy set; it takes effect after two approvals (logged)."""
    from safeslot.disclosure import service

    chosen = profile or settings().policy_profile
    engine = _load(directory, chosen)
    actor = _staff(by)
    try:
        with transaction() as session:
            change = service.propose_policy(session, actor, engine, _files(directory, chosen), summary, _now())
            change_id = change.id
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    console.print(f"Proposed change {change_id} (policy set {engine.policy_set_hash}); it needs two approvals.")


@policy_app.command("approve")
def approve(
    change_id: int,
    by: Annotated[str, typer.Option(help="Your staff username; not the proposer.")],
) -> None:
    """Approve a proposed change; the second approval writes it to SAFESLOT_POLICIES_DIR."""
    from safeslot.disclosure import policy_files, service

    actor = _staff(by)
    try:
        with transaction() as session:
            change = service.approve_policy(session, actor, change_id, _now())
            status, files = change.status, dict(change.files)
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    if status != "adopted":
        console.print(f"Approval recorded for change {change_id}; one more is needed.")
        return
    target = settings().policies_dir
    policy_files.install(files, target)  # as the HTTP approval does
    console.print(f"Change {change_id} adopted and written to {target}; restart safeslot to load it.")


@request_app.command("list")
def list_requests(status: Annotated[str | None, typer.Option(help="Only this status.")] = None) -> None:
    """Requests with their deadlines; overdue ones are flagged."""
    from safeslot.disclosure import service

    s = settings()
    engine = _load(s.policies_dir, s.policy_profile)
    table = Table("id", "status", "agency", "instrument", "people", "deadline", "")
    now = _now()
    with transaction() as session:
        for request in service.list_requests(session, Actor("system", 0), status):
            view = service.view(session, engine, request, now)
            table.add_row(str(view.id), view.status, view.agency, view.instrument_type, str(view.subject_count),
                          view.deadline.isoformat() if view.deadline else "", "[red]OVERDUE[/]" if view.overdue else "")
    console.print(table)


@request_app.command("expire")
def expire() -> None:
    """Close requests whose deadline passed without a release (logged: disclosure.expired)."""
    from safeslot.disclosure import review

    with transaction() as session:
        closed = review.expire_stale(session, _now())
    console.print(f"Expired {len(closed)} request(s){': ' + ', '.join(map(str, closed)) if closed else ''}.")


@notices_app.command("send")
def send_notices() -> None:
    """Queue notices for entries whose non-disclosure order expired, then send each queued notice once."""
    from safeslot.cli.common import keyring
    from safeslot.disclosure import notices
    from safeslot.notifications.worker import router_for

    s = settings()
    router = router_for(s)  # the worker's senders, from the settings' mail and sms sections
    channels = [c for c in (router.channel("email"), router.channel("phone")) if c is not None]
    if not channels:
        err_console.print("[red]Set SAFESLOT_MAIL__HOST (and __PORT, __FROM_ADDRESS) to send notices.[/]")
        raise typer.Exit(1)
    queued, sent, failed = notices.send_all(transaction, keyring(), router, _now, s.server.public_url)
    console.print(f"Queued {queued}, sent {sent}, failed {failed} (via {', '.join(channels)}).")
