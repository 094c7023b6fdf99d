"""Demo accounts: one per role, and one verified agency official. They sign in only in demo mode.

Privileged roles go through the two-person rule as in production: two bootstrap
administrators, then every privileged role proposed by one and approved by the other. The seed
reviewers count at once (this demo needs them to act right away); one live change — a second
counsel proposed by the administrator and approved by the privacy officer — waits out the demo's
cooling-off, and the demo prints its steps in the public log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyotp
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.identity import events, invitations, links, proposals, repository, service
from safeslot.identity.authz import PRIVILEGED_ROLES, Role
from safeslot.identity.models import IdentityMail, PrivilegedEvent, StaffAccount
from safeslot.kit.crypto import load_key_ring

OFFICE = "central"
AGENCY = "Example County Office of the Sheriff"
OFFICIAL_ADDRESS = "officer.example@sheriff.example"
SECOND_ADMIN = "demo-second-admin"


def demo_password(role: str) -> str:
    return f"demo-{role.replace('_', '-')}-password"


def _account(session: Session, ctx: proposals.Context, username: str, role: str, office_id: int | None,
             now: dt.datetime, console: Console) -> StaffAccount:
    existing = repository.account_by_username(session, username)
    if existing is not None:
        console.print(f"  {username}: exists already")
        return existing
    bound = office_id if role in (Role.clerk, Role.supervisor) else None
    account, secret = service.create_account(
        session, ctx.ring, username=username, display_name=f"Demo {role}", password=demo_password(role),
        roles=[] if role in PRIVILEGED_ROLES else [role], office_id=bound, now=now, demo=True,
        email=f"{username}@office.example",
    )
    console.print(f"  {username} / {demo_password(role)} / TOTP secret {secret} "
                  f"(code now: {pyotp.TOTP(secret).now()})")
    return account


def load(session: Session, settings: Settings, console: Console, *, office_id: int | None = None) -> None:
    """Idempotent: existing demo accounts are left as they are (their TOTP secrets were printed before).

    ``office_id`` is the demo office's (scheduling's ``OFFICE``), where the clerk and supervisor work;
    without it they have none (the caller looks it up: identity does not read scheduling)."""
    if not settings.demo_credentials:
        return
    ring = load_key_ring(settings.crypto.key_file, settings.crypto.keys, create=True)
    ctx = proposals.context_for(settings, ring)
    seed = dataclasses.replace(ctx, cooling_off=dt.timedelta(0))  # seed reviewers act at once (demo only)
    now = dt.datetime.now(dt.UTC)
    console.print("[bold]Demo staff accounts[/] (demo mode only). Sign in at /console (the staff console), "
                  'or through the API with POST /api/v1/auth/token {"username", "password", "totp"}. The TOTP code '
                  "comes from an authenticator app with the secret, "
                  "or `python -c \"import pyotp; print(pyotp.TOTP('<secret>').now())\"`.")
    accounts = {role.value: _account(session, ctx, f"demo-{role.value.replace('_', '-')}", role.value, office_id,
                                     now, console) for role in Role}
    admin, second = accounts["admin"], _account(session, ctx, SECOND_ADMIN, "admin", None, now, console)
    for account in (admin, second):
        if "admin" not in account.roles.split():
            invitations.bootstrap_admin(session, ctx, account, now)
    for role, account in accounts.items():
        if role in PRIVILEGED_ROLES and role not in account.roles.split():
            proposal = proposals.propose_role(session, seed, admin.id, account.username, role, now)
            proposals.approve(session, seed, second.id, proposal.id, now)
    officer, counsel = accounts["privacy_officer"], accounts["counsel"]

    if repository.agency_by_name(session, AGENCY) is None:
        # Registration, verification and the key: each proposed by the privacy officer, approved by counsel.
        done = proposals.approve(session, ctx, counsel.id, proposals.propose_agency(
            session, ctx, officer.id, AGENCY, "1 Example Way, Springfield", now).id, now)
        agency_id = int((done.result or {})["agency_id"])
        official = service.add_official(session, agency_id, "Officer Example", "Deputy", "delegate", now,
                                        email=OFFICIAL_ADDRESS, demo=True)
        proposals.approve(session, ctx, counsel.id, proposals.propose_verification(
            session, ctx, officer.id, agency_id, official.id, "phone_callback",
            "Demo: called the agency's published main number and confirmed the deputy.", now).id, now)
        proposals.approve(session, ctx, counsel.id, proposals.propose_key(
            session, ctx, officer.id, agency_id, official.id, now, revoke_others=True).id, now)
        # The demo plays the official too: it opens the claim link mailed to the official's address.
        _, key, _ = invitations.claim_key(session, ctx, _mailed_token(session, ctx, OFFICIAL_ADDRESS), now)
        console.print(f"[bold]Demo agency official[/] Officer Example ({AGENCY}): registered, verified and given a key "
                      "by two people (a privacy officer proposed, counsel approved); the key reached the official "
                      f"through a one-time claim link. API key: {key}\n"
                      "  Use it as `Authorization: Bearer <key>` on /api/v1/disclosure-requests.")
    _live_change(session, ctx, admin, officer, now, console)


def _live_change(session: Session, ctx: proposals.Context, admin: StaffAccount, officer: StaffAccount,
                 now: dt.datetime, console: Console) -> None:
    """One privileged change shown step by step: proposal, approval, the public log, the cooling-off."""
    if repository.account_by_username(session, "demo-counsel-2") is not None:
        return
    proposal = proposals.propose_account(
        session, ctx, admin.id, username="demo-counsel-2", display_name="Demo counsel 2",
        email="demo-counsel-2@office.example", role="counsel", other_roles=[], office_id=None, now=now)
    proposals.approve(session, ctx, officer.id, proposal.id, now)
    rows = [e for e in events.recent(session, 50) if e.proposal_id == proposal.id]
    console.print("[bold]A privileged change, two people[/]: demo-admin proposed a new counsel "
                  f"account, demo-counsel-2 (proposal {proposal.id}); demo-privacy-officer approved it. "
                  "In the public transparency log:")
    for row in sorted(rows, key=lambda e: e.log_index):
        console.print(f"  log index {row.log_index}: {_line(row)}", markup=False)
    console.print(f"  The new counsel counts for approvals only after the cooling-off ({ctx.cooling_off}); the "
                  "holder enrols by the one-time link sent to their own address (sent by `safeslot worker`).")


def _mailed_token(session: Session, ctx: proposals.Context, address: str) -> str:
    """The claim token in the newest message queued for an address (what the official's inbox holds)."""
    for message in sorted(session.scalars(select(IdentityMail)).all(), key=lambda m: -m.id):
        body = ctx.ring.open(message.body_enc, links.BODY_CONTEXT) if message.body_enc else ""
        if ctx.ring.open(message.address_enc, links.ADDRESS_CONTEXT) == address and "ssc_" in body:
            return body[body.index("ssc_"):].split('"')[0]
    raise LookupError("no claim link was queued")


def _line(row: PrivilegedEvent) -> str:
    return f"{row.event} account={row.account} role={row.role} proposer={row.proposer} approver={row.approver}"
