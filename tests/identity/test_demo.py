"""`safeslot demo load` creates one account per role and a verified official, only in demo mode."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import Environment, Settings
from safeslot.identity import demo
from safeslot.identity.authz import Role
from safeslot.identity.models import AgencyOfficial, StaffAccount


def test_demo_accounts_one_per_role_and_a_verified_official(session: Session, settings: Settings,
                                                            office: str) -> None:
    console = Console(record=True, width=200)
    demo.load(session, settings, console)
    accounts = session.scalars(select(StaffAccount)).all()
    assert sorted(a.roles for a in accounts) == sorted(r.value for r in Role)
    assert all(a.demo for a in accounts)
    official = session.scalars(select(AgencyOfficial)).one()
    assert official.verified_at is not None
    out = console.export_text()
    assert "demo-clerk" in out and "TOTP secret" in out and "API key" in out
    demo.load(session, settings, Console(record=True))  # idempotent
    assert len(session.scalars(select(StaffAccount)).all()) == len(Role)


def test_no_demo_accounts_outside_demo_mode(session: Session, tmp_path: Path) -> None:
    production = Settings(environment=Environment.production, secret_key="p" * 40,
                          crypto={"key_file": tmp_path / "k.json"})
    demo.load(session, production, Console(record=True))
    assert session.scalars(select(StaffAccount)).all() == []
