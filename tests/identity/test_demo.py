"""`safeslot demo load` creates one account per role and a verified official, only in demo mode."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import Environment, Settings
from safeslot.identity import demo
from safeslot.identity.authz import Role
from safeslot.identity.models import AgencyOfficial, StaffAccount
from safeslot.scheduling import service as scheduling
from safeslot.transparency.models import LogEntry


def test_demo_accounts_one_per_role_and_a_verified_official(session: Session, settings: Settings,
                                                            office: str) -> None:
    console = Console(record=True, width=200)
    office_id = scheduling.get_office(session, office).id
    demo.load(session, settings, console, office_id=office_id)
    accounts = session.scalars(select(StaffAccount).where(StaffAccount.demo.is_(True))).all()
    # one per role, and a second administrator: privileged roles need a second person
    assert sorted(a.roles for a in accounts) == sorted([*(r.value for r in Role), "admin"])
    official = session.scalars(select(AgencyOfficial)).one()
    assert official.verified_at is not None
    out = console.export_text()
    assert "demo-clerk" in out and "TOTP secret" in out and "API key" in out
    # one privileged change shown through proposal, approval and the log: an invited second counsel
    invited = session.scalars(select(StaffAccount).where(StaffAccount.username == "demo-counsel-2")).one()
    assert invited.roles == "counsel" and invited.enrolled_at is None
    assert "identity.change_proposed" in out and "identity.role_granted" in out and "demo-counsel-2" in out
    logged = [json.loads(d)["event"] for d in session.scalars(select(LogEntry.data))]
    # privacy_officer, counsel, auditor and demo-counsel-2 (the two admins are bootstrapped, also logged)
    assert logged.count("identity.role_granted") == 4 and logged.count("identity.admin_bootstrapped") == 2
    total = len(session.scalars(select(StaffAccount)).all())
    demo.load(session, settings, Console(record=True), office_id=office_id)  # idempotent
    assert len(session.scalars(select(StaffAccount)).all()) == total


def test_no_demo_accounts_outside_demo_mode(session: Session, tmp_path: Path) -> None:
    production = Settings(environment=Environment.production, secret_key="p" * 40,
                          crypto={"key_file": tmp_path / "k.json"})
    demo.load(session, production, Console(record=True))
    assert session.scalars(select(StaffAccount)).all() == []
