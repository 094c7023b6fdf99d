"""Commands for offices, services, staff, hours, closures and slots."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from safeslot.cli.common import console, transaction
from safeslot.scheduling import interfaces, service, staffing

office_app = typer.Typer(help="Offices.", no_args_is_help=True)
service_app = typer.Typer(help="Services an office offers.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff who serve the public, their languages and services.", no_args_is_help=True)
hours_app = typer.Typer(help="Weekly opening hours.", no_args_is_help=True)
slots_app = typer.Typer(help="Materialised slot capacity.", no_args_is_help=True)


@office_app.command("add")
def office_add(slug: str, name: str, address: str, timezone: Annotated[str, typer.Option(help="IANA zone")]) -> None:
    with transaction() as s:
        service.add_office(s, slug, name, address, timezone)
    console.print(f"Added office [bold]{slug}[/] ({timezone}).")


@office_app.command("locate")
def office_locate(
    slug: str,
    latitude: Annotated[float, typer.Argument(min=-90, max=90, help="WGS 84 degrees north")],
    longitude: Annotated[float, typer.Argument(min=-180, max=180, help="WGS 84 degrees east")],
) -> None:
    """Where the office is, for the public office finder (west of Greenwich: `office locate -- slug 42.1 -72.6`)."""
    with transaction() as s:
        service.set_location(s, service.get_office(s, slug), latitude, longitude)
    console.print(f"Office [bold]{slug}[/] is at {latitude}, {longitude}.")


@office_app.command("list")
def office_list() -> None:
    table = Table("slug", "name", "time zone", "address")
    with transaction() as s:
        for o in service.list_offices(s, open_only=True):
            table.add_row(o.slug, o.name, o.timezone, o.address)
    console.print(table)


@service_app.command("add")
def service_add(
    office: str, slug: str, name: str, description: str,
    minutes: Annotated[int, typer.Option(help="Duration, a multiple of 15")] = 30,
) -> None:
    with transaction() as s:
        service.add_service(s, service.get_office(s, office), slug, name, description, minutes)
    console.print(f"Added service [bold]{slug}[/] at {office}.")


@service_app.command("list")
def service_list(office: str) -> None:
    table = Table("slug", "name", "minutes", "description")
    with transaction() as s:
        for sv in service.list_services(s, service.get_office(s, office)):
            table.add_row(sv.slug, sv.name, str(sv.duration_minutes), sv.description)
    console.print(table)


@staff_app.command("add")
def staff_add(
    office: str, display_name: str,
    languages: Annotated[str, typer.Option(help="Space-separated, e.g. 'en es'")] = "en",
    services: Annotated[str, typer.Option(help="Space-separated service slugs")] = "",
) -> None:
    with transaction() as s:
        service.add_staff(s, service.get_office(s, office), display_name, languages.split(), services.split())
    console.print(f"Added staff member to {office}.")


@staff_app.command("list")
def staff_list(office: str) -> None:
    table = Table("id", "name", "languages", "services")
    with transaction() as s:
        for m in staffing.active_staff(s, service.get_office(s, office)):
            table.add_row(str(m.id), m.display_name, m.languages, m.services)
    console.print(table)


@staff_app.command("reassign")
def staff_reassign(office: str) -> None:
    """Give every visit still to come that no one serves (or whose people can no longer serve it) to a
    qualified free person; those no one can take are listed by GET /api/v1/offices/OFFICE/unassigned."""
    with transaction() as s:
        done = service.reassign(s, service.get_office(s, office), dt.datetime.now(dt.UTC))
        left = len(done.unassigned)
    console.print(f"{len(done.moved)} visits assigned; {left} still without anyone "
                  "(the office's supervisor sees them on the office page).")


@hours_app.command("set")
def hours_set(office: str, weekday: int, opens: str, closes: str) -> None:
    with transaction() as s:
        service.set_hours(s, service.get_office(s, office), weekday, dt.time.fromisoformat(opens),
                          dt.time.fromisoformat(closes))
    console.print("Hours saved. Run `safeslot slots generate` to open the new slots.")


@hours_app.command("list")
def hours_list(office: str) -> None:
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    table = Table("day", "opens", "closes")
    with transaction() as s:
        for h in interfaces.weekly_hours(s, service.get_office(s, office)):
            table.add_row(names[h.weekday], h.opens.isoformat("minutes"), h.closes.isoformat("minutes"))
    console.print(table)


@slots_app.command("generate")
def slots_generate(office: str, weeks: Annotated[int, typer.Option(min=1, max=26)] = 8) -> None:
    today = dt.date.today()
    written = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Opening slots", total=weeks)
        for w in range(weeks):
            with transaction() as s:
                first = today + dt.timedelta(weeks=w)
                written += service.generate_slots(s, service.get_office(s, office), first, first + dt.timedelta(days=6))
            progress.advance(task)
    console.print(f"{written} capacity rows written for {weeks} weeks.")
