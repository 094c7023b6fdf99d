"""The `safeslot` command: every domain's commands, wired here explicitly so the type checker sees them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import typer

from safeslot.cli.common import console, err_console, settings
from safeslot.cli.lazy import LazyGroup, Loader

if TYPE_CHECKING:
    from safeslot.config import Settings

# Each group's module is imported when the group runs (cli/lazy.py): `safeslot witness keygen` does not
# load the web app, the database layer or the demo data. The help here is the group's own (the module's
# `typer.Typer(help=...)`); tests/test_cli_startup.py holds them equal.


def _office() -> typer.Typer:
    from safeslot.cli import scheduling

    return scheduling.office_app


def _service() -> typer.Typer:
    from safeslot.cli import scheduling

    return scheduling.service_app


def _staff() -> typer.Typer:
    from safeslot.cli import scheduling

    return scheduling.staff_app


def _hours() -> typer.Typer:
    from safeslot.cli import scheduling

    return scheduling.hours_app


def _slots() -> typer.Typer:
    from safeslot.cli import scheduling

    return scheduling.slots_app


def _demo() -> typer.Typer:
    from safeslot.cli import demo

    return demo.app


def _account() -> typer.Typer:
    from safeslot.cli import identity

    return identity.app


def _keys() -> typer.Typer:
    from safeslot.cli import privacy

    return privacy.keys_app


def _retention() -> typer.Typer:
    from safeslot.cli import privacy

    return privacy.retention_app


def _access() -> typer.Typer:
    from safeslot.cli import privacy

    return privacy.access_app


def _log() -> typer.Typer:
    from safeslot.cli import transparency

    return transparency.log_app


def _witness() -> typer.Typer:
    from safeslot.cli import transparency

    return transparency.witness_app


def _policy() -> typer.Typer:
    from safeslot.cli import disclosure

    return disclosure.policy_app


def _request() -> typer.Typer:
    from safeslot.cli import disclosure

    return disclosure.request_app


def _notices() -> typer.Typer:
    from safeslot.cli import disclosure

    return disclosure.notices_app


def _report() -> typer.Typer:
    from safeslot.cli import reports

    return reports.app


class SafeslotGroup(LazyGroup):
    lazy: ClassVar[Mapping[str, tuple[str, Loader]]] = {
        "office": ("Offices.", _office),
        "service": ("Services an office offers.", _service),
        "staff": ("Staff who serve the public, their languages and services.", _staff),
        "hours": ("Weekly opening hours.", _hours),
        "slots": ("Materialised slot capacity.", _slots),
        "demo": ("Demo data.", _demo),
        "account": ("Staff accounts and roles.", _account),
        "keys": ("Field-encryption keys.", _keys),
        "retention": ("Retention: delete contacts and purge old appointments.", _retention),
        "access": ("The staff access log.", _access),
        "log": ("The public transparency log.", _log),
        "witness": ("Run a witness that cosigns this (or another) log.", _witness),
        "policy": ("The Cedar disclosure policy: check, explain, change.", _policy),
        "request": ("Disclosure requests.", _request),
        "notices": ("Notices to people whose records were disclosed.", _notices),
        "report": ("Transparency reports: what was asked, by whom, and what was given.", _report),
    }


app = typer.Typer(help="safeslot: appointments for a public office, with a disclosure gate and a public log.",
                  no_args_is_help=True, cls=SafeslotGroup)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration as the schema owner, then grant the app role only what the app needs.

    Connects with SAFESLOT_DATABASE__OWNER_URL (else SAFESLOT_DATABASE__URL). On PostgreSQL the app role is
    the user of SAFESLOT_DATABASE__URL; see docs/database-roles.md for the roles and the grants.
    """
    from sqlalchemy import make_url

    from safeslot import migrate
    from safeslot.cli.common import engine, owner_engine

    s = settings()
    owner = owner_engine()
    migrate.upgrade(owner)
    console.print(f"Database at {sorted(migrate.current_heads(owner))}.")
    if owner.dialect.name == "postgresql":
        app_role = make_url(s.database.url).username
        if app_role and app_role != owner.url.username:
            migrate.grant_app_role(owner, app_role)
            console.print(f"Granted role {app_role} what the app needs (no TRUNCATE, no DDL, no trigger changes, "
                          "no UPDATE or DELETE on append-only tables).")
        else:
            err_console.print("[yellow]The app logs in as the schema owner: it could disable the append-only "
                              "triggers. Set SAFESLOT_DATABASE__OWNER_URL to the owner and SAFESLOT_DATABASE__URL "
                              "to an app role (docs/database-roles.md).[/]")
    if owner is not engine():
        owner.dispose()


@app.command()
def serve(
    host: str | None = None,
    port: int | None = None,
    workers: int | None = typer.Option(None, min=1, max=16, help="Processes (default: SAFESLOT_SERVER__WORKERS, 1)."),
) -> None:
    """Serve the API, the public pages and the console."""
    import uvicorn

    from safeslot.server import TimedH11Protocol, TimedHttpToolsProtocol

    s = settings()
    workers = workers or s.server.workers
    # Each worker process reads its settings afresh: it learns how many share the server from the environment
    # (the booking writers are shared out among them, scheduling/fastfront.py).
    os.environ["SAFESLOT_SERVER__WORKERS"] = str(workers)
    try:
        import httptools  # noqa: F401  (uvicorn[standard])

        protocol: type = TimedHttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn without extras
        protocol = TimedH11Protocol
    _refuse_owner_role(s)
    uvicorn.run(
        "safeslot.asgi:app", host=host or s.server.host, port=port or s.server.port, workers=workers,
        log_level="info", access_log=False,  # access logs would hold codes in paths: personal data
        http=protocol,  # a deadline for request heads (safeslot/server.py); bodies: the body-limit middleware
        timeout_keep_alive=5,
        # uvicorn kills a worker that has not answered its supervisor's ping within this many seconds. A
        # spawned worker answers only after importing the whole app, which took 30 s (3.7 s of CPU)
        # on a busy 2-core machine: every worker was killed and respawned for ever (--workers 2 never served).
        timeout_worker_healthcheck=60,
    )


def _refuse_owner_role(s: Settings) -> None:
    """Least privilege: outside demo mode the app does not serve as the schema owner on PostgreSQL."""
    from sqlalchemy.exc import SQLAlchemyError

    from safeslot import migrate
    from safeslot.cli.common import engine

    try:
        owner = migrate.owns_schema(engine())
    except SQLAlchemyError:
        return  # unreachable now: /healthz says so once serving
    if not owner:
        return
    message = ("SAFESLOT_DATABASE__URL logs in as the owner of the tables (or a superuser), which can disable the "
               "append-only triggers. Use an app role: docs/database-roles.md.")
    if not s.is_demo:
        err_console.print(f"[red]Refusing to serve:[/] {message}")
        raise typer.Exit(2)
    err_console.print(f"[yellow]{message}[/]")


@app.command()
def worker(once: bool = typer.Option(False, help="One round, then exit (for cron or a test).")) -> None:
    """Send what the outbox holds: reminders and notices, retried with backoff; `make run` starts it."""
    import datetime as dt
    import logging
    import signal
    import threading

    from safeslot.cli import outbox_kinds
    from safeslot.cli.common import keyring, transaction
    from safeslot.notifications import worker as notifications_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    s = settings()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        router = notifications_worker.router_for(s)
    except ValueError as exc:  # a half-configured SMTP or SMS provider: say which setting
        raise typer.BadParameter(str(exc)) from None
    console.print(f"Worker: e-mail via {router.channel('email') or 'nothing (set SAFESLOT_MAIL__HOST)'}, "
                  f"texts via {router.channel('phone') or 'nothing (set SAFESLOT_SMS__PROVIDER)'}; "
                  f"every {s.notifications.poll_seconds:g} s.")
    outbox_kinds.register_all()
    total = notifications_worker.run(transaction, keyring(), s, lambda: dt.datetime.now(dt.UTC), router=router,
                                     stop=stop, once=once)
    console.print(f"Sent {total.sent}, to retry {total.retried}, dead letters {total.dead}, "
                  f"cancelled {total.cancelled}, interrupted {total.interrupted}.")


if __name__ == "__main__":
    app()
