"""Demo accounts: one per role, and one verified agency official. They sign in only in demo mode."""

from __future__ import annotations

import datetime as dt

import pyotp
from rich.console import Console
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.identity import repository, service
from safeslot.identity.authz import Role
from safeslot.identity.service import Principal
from safeslot.kit.crypto import load_key_ring
from safeslot.scheduling import repository as scheduling_repo

OFFICE = "central"
AGENCY = "Example County Office of the Sheriff"


def demo_password(role: str) -> str:
    return f"demo-{role.replace('_', '-')}-password"


def load(session: Session, settings: Settings, console: Console) -> None:
    """Idempotent: existing demo accounts are left as they are (their TOTP secrets were printed before)."""
    if not settings.demo_credentials:
        return
    ring = load_key_ring(settings.crypto.key_file, settings.crypto.keys, create=True)
    now = dt.datetime.now(dt.UTC)
    office = scheduling_repo.office_by_slug(session, OFFICE)
    office_id = office.id if office else None
    console.print("[bold]Demo staff accounts[/] (demo mode only). Sign in at /console (the staff console), "
                  'or through the API with POST /api/v1/auth/token {"username", "password", "totp"}. The TOTP code '
                  "comes from an authenticator app with the secret, "
                  "or `python -c \"import pyotp; print(pyotp.TOTP('<secret>').now())\"`.")
    officer = None
    for role in Role:
        username = f"demo-{role.value.replace('_', '-')}"
        existing = repository.account_by_username(session, username)
        if existing is not None:
            console.print(f"  {username}: exists already")
            if role is Role.privacy_officer:
                officer = existing
            continue
        bound = office_id if role in (Role.clerk, Role.supervisor) else None
        account, secret = service.create_account(
            session, ring, username=username, display_name=f"Demo {role.value}", password=demo_password(role.value),
            roles=[role.value], office_id=bound, now=now, demo=True,
        )
        if role is Role.privacy_officer:
            officer = account
        console.print(f"  {username} / {demo_password(role.value)} / TOTP secret {secret} "
                      f"(code now: {pyotp.TOTP(secret).now()})")
    if repository.agency_by_name(session, AGENCY) is None and officer is not None:
        agency = service.create_agency(session, AGENCY, "1 Example Way, Springfield", now)
        official = service.add_official(session, agency.id, "Officer Example", "Deputy", "delegate", now, demo=True)
        by = Principal("staff", officer.id, officer.username, frozenset({"privacy_officer"}), None, 0, "demo", "")
        service.record_verification(session, agency.id, official.id, by, "phone_callback",
                                    "Demo: called the agency's published main number and confirmed the deputy.", now)
        _, key = service.issue_credential(session, "agency", now, official=official)
        console.print(f"[bold]Demo agency official[/] Officer Example ({AGENCY}), verified. API key: {key}\n"
                      "  Use it as `Authorization: Bearer <key>` on /api/v1/disclosure-requests.")
