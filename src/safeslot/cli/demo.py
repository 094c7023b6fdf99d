"""`safeslot demo load`: demo data for every domain that has landed."""

from __future__ import annotations

import datetime as dt

import typer

from safeslot.cli.common import console, settings, transaction
from safeslot.optional import import_optional
from safeslot.scheduling import demo as scheduling_demo

app = typer.Typer(help="Demo data.", no_args_is_help=True)

# Later domains add a `demo` module with `load(session, settings, console)`.
DOMAIN_DEMOS = (
    "safeslot.identity.demo",
    "safeslot.transparency.demo",
    "safeslot.disclosure.demo",
    "safeslot.reports.demo",
)


@app.command("load")
def load() -> None:
    """Load the demo office (idempotent), then each domain's demo."""
    if not settings().demo_credentials:
        console.print("[red]Demo data loads only when SAFESLOT_ENVIRONMENT is demo or test.[/]")
        raise typer.Exit(2)
    with transaction() as s:
        office = scheduling_demo.load(s, dt.date.today())
    console.print(f"Demo office [bold]{office}[/] with eight weeks of slots. Walk-ins take a ticket at "
                  f"/queue/{office} (door poster: /queue/{office}/poster); the lobby screen is "
                  f"/queue/{office}/display; clerks call from /console/queue.")
    for name in DOMAIN_DEMOS:
        module = import_optional(name)
        if module is None:
            continue
        with transaction() as s:
            module.load(s, settings(), console)
    log_demo = import_optional("safeslot.transparency.demo")
    if log_demo is not None:  # last: verify the log every demo above appended to
        with transaction() as s:
            log_demo.verify(s, settings(), console)
