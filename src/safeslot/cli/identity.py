"""`safeslot account …`: staff accounts (the admin's work, also possible over the API)."""

from __future__ import annotations

import datetime as dt

import pyotp
import typer
from rich.table import Table

from safeslot.cli.common import console, err_console, keyring, transaction
from safeslot.identity import interfaces, service
from safeslot.identity.errors import UnknownRole
from safeslot.kit.errors import DomainError
from safeslot.scheduling import service as scheduling

app = typer.Typer(help="Staff accounts and roles.", no_args_is_help=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@app.command("create")
def create(
    username: str,
    display_name: str = typer.Option(..., "--name", help="Name shown in the console."),
    role: list[str] = typer.Option(..., "--role", help="clerk, supervisor, privacy_officer, counsel, auditor, admin"),
    office: str | None = typer.Option(None, help="Office slug (clerks and supervisors)."),
    email: str | None = typer.Option(None, help="The holder's own work address, for their invitation."),
) -> None:
    """Create an account at the server's command line.

    The first two administrators (bootstrap, logged publicly) are the holders at this terminal: they
    choose their password here and see their TOTP secret once. Every other account is for someone
    else, so it gets no password here: its holder enrols through a one-time invitation sent to their
    own address, and nobody at this terminal sees their password or codes. Every other privileged
    role is a proposal another person approves (API or console).
    """
    from safeslot.cli.common import settings
    from safeslot.identity import invitations, proposals
    from safeslot.identity.authz import PRIVILEGED_ROLES

    privileged = set(role) & PRIVILEGED_ROLES
    try:
        if privileged - {"admin"}:
            raise UnknownRole("Privacy officers, counsel and auditors are proposed by an administrator and approved "
                              "by a second person (POST /api/v1/accounts, or the console).")
        password = (typer.prompt("Password", hide_input=True, confirmation_prompt=True) if privileged
                    else None)
        with transaction() as s:
            office_id = scheduling.get_office(s, office).id if office else None
            account, secret = service.create_account(
                s, keyring(), username=username, display_name=display_name, password=password,
                roles=[r for r in role if r != "admin"] or [], office_id=office_id, now=_now(), email=email)
            ctx = proposals.context_for(settings(), keyring())
            if privileged:
                invitations.bootstrap_admin(s, ctx, account, _now())
            else:
                invitations.send_invitation(s, ctx, account, _now())
    except DomainError as exc:
        err_console.print(f"[red]{exc.title}[/]: {exc.detail}")
        raise typer.Exit(1) from exc
    if not privileged:
        console.print(f"Account [bold]{account.username}[/] ({account.roles}): an invitation went to the holder's "
                      "address; they choose their password and codes there (`safeslot worker` sends it).")
        return
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name="safeslot")
    console.print(f"Account [bold]{account.username}[/] ({account.roles}). TOTP secret: [bold]{secret}[/]\n{uri}")


@app.command("list")
def list_accounts() -> None:
    """Accounts, roles and lock state."""
    table = Table("username", "roles", "office", "active", "locked until")
    with transaction() as s:
        for a in interfaces.accounts(s):
            table.add_row(a.username, a.roles, str(a.office_id or ""), str(a.active),
                          a.locked_until.isoformat() if a.locked_until else "")
    console.print(table)


@app.command("roles")
def roles(username: str, role: list[str] = typer.Option(..., "--role")) -> None:
    """Replace an account's clerk and supervisor roles (privileged roles are proposals: API or console)."""
    from safeslot.identity.authz import PRIVILEGED_ROLES

    try:
        with transaction() as s:
            current = set(service.get_account(s, username).roles.split())
            if (set(role) ^ current) & PRIVILEGED_ROLES:
                raise UnknownRole("Privileged roles are given and taken away by proposal and a second person's "
                                  "approval (POST /api/v1/accounts/{username}/roles, or the console).")
            account = service.set_roles(s, username, role)
    except DomainError as exc:
        err_console.print(f"[red]{exc.title}[/]: {exc.detail}")
        raise typer.Exit(1) from exc
    console.print(f"{account.username}: {account.roles}")


@app.command("unlock")
def unlock(username: str) -> None:
    """Clear the failed sign-in count and any lock."""
    with transaction() as s:
        service.unlock(s, username)
    console.print(f"{username} unlocked.")


@app.command("link-oidc")
def link_oidc(
    username: str,
    subject: str | None = typer.Argument(None, help="Value of the link claim (oidc.link_claim); omit to unlink."),
) -> None:
    """Let an identity at the agency's OpenID Connect provider sign in as this existing account."""
    from safeslot.identity import oidc

    try:
        with transaction() as s:
            account = oidc.link_subject(s, username, subject or None)
    except DomainError as exc:
        err_console.print(f"[red]{exc.title}[/]: {exc.detail}")
        raise typer.Exit(1) from exc
    console.print(f"{account.username}: " + ("linked." if account.oidc_subject else "not linked."))
