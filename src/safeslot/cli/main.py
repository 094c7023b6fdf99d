"""The `safeslot` command. Domain commands live beside this file and are mounted if present."""

from __future__ import annotations

import typer

from safeslot.cli import scheduling
from safeslot.cli.common import console, engine, settings
from safeslot.optional import import_optional

app = typer.Typer(help="safeslot: appointments for a public office, with a disclosure gate and a public log.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(scheduling.office_app, name="office")
app.add_typer(scheduling.service_app, name="service")
app.add_typer(scheduling.staff_app, name="staff")
app.add_typer(scheduling.hours_app, name="hours")
app.add_typer(scheduling.slots_app, name="slots")

# (module, attribute, command name): each domain adds its own Typer app here.
OPTIONAL = (
    ("safeslot.cli.demo", "app", "demo"),
    ("safeslot.cli.identity", "app", "account"),
    ("safeslot.cli.privacy", "keys_app", "keys"),
    ("safeslot.cli.privacy", "retention_app", "retention"),
    ("safeslot.cli.privacy", "access_app", "access"),
    ("safeslot.cli.transparency", "log_app", "log"),
    ("safeslot.cli.transparency", "witness_app", "witness"),
    ("safeslot.cli.disclosure", "policy_app", "policy"),
    ("safeslot.cli.disclosure", "request_app", "request"),
    ("safeslot.cli.disclosure", "notices_app", "notices"),
    ("safeslot.cli.reports", "app", "report"),
)
for module_name, attr, name in OPTIONAL:
    module = import_optional(module_name)
    if module is None:
        continue
    app.add_typer(getattr(module, attr), name=name)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (Alembic)."""
    from safeslot import migrate

    migrate.upgrade(engine())
    console.print(f"Database at {sorted(migrate.current_heads(engine()))}.")


@app.command()
def serve(
    host: str | None = None,
    port: int | None = None,
    workers: int = typer.Option(1, min=1, max=16),
) -> None:
    """Serve the API, the public pages and the console."""
    import uvicorn

    s = settings()
    uvicorn.run(
        "safeslot.asgi:app", host=host or s.server.host, port=port or s.server.port, workers=workers,
        log_level="info", access_log=False,  # access logs would hold codes in paths: personal data
    )


@app.command()
def worker(once: bool = typer.Option(False, help="One round, then exit (for cron or a test).")) -> None:
    """Send what the outbox holds: reminders and notices, retried with backoff; `make run` starts it."""
    import datetime as dt
    import logging
    import signal
    import threading

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
    total = notifications_worker.run(transaction, keyring(), s, lambda: dt.datetime.now(dt.UTC), router=router,
                                     stop=stop, once=once)
    console.print(f"Sent {total.sent}, to retry {total.retried}, dead letters {total.dead}, "
                  f"cancelled {total.cancelled}, interrupted {total.interrupted}.")


if __name__ == "__main__":
    app()
