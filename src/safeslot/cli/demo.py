"""`safeslot demo load`: demo data for every domain that has landed."""

from __future__ import annotations

import datetime as dt

import typer

from safeslot.cli.common import console, settings, transaction
from safeslot.disclosure import demo as disclosure_demo
from safeslot.identity import demo as identity_demo
from safeslot.reports import demo as reports_demo
from safeslot.scheduling import demo as scheduling_demo
from safeslot.scheduling import service as scheduling
from safeslot.transparency import demo as transparency_demo

app = typer.Typer(help="Demo data.", no_args_is_help=True)

# Each domain's demo is `load(session, settings, console)`, run in this order, each in its own transaction
# (identity's first, apart: it is told the demo office's id).
DOMAIN_DEMOS = (transparency_demo, disclosure_demo, reports_demo)


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
    with transaction() as s:
        identity_demo.load(s, settings(), console, office_id=scheduling.get_office(s, office).id)
    for module in DOMAIN_DEMOS:
        with transaction() as s:
            module.load(s, settings(), console)
    with transaction() as s:  # last: verify the log every demo above appended to
        transparency_demo.verify(s, settings(), console)
