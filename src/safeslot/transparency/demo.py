"""Demo data for the log: a few events, then a signed checkpoint (idempotent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.transparency import entries, service

DEMO_TIME = "2027-01-04T09:00:00Z"


def load(session: Session, settings: Settings, console: Console) -> None:
    if service.status(session).size == 0:
        # A refusal names the recipient by registry id and holds no commitment (nothing was kept).
        service.append(
            session,
            [
                entries.PolicyChange(time=DEMO_TIME, policy_set_hash="0" * 64, profile="federal"),
                entries.Refused(time=DEMO_TIME, agency="unregistered", instrument_type="administrative_warrant",
                                purpose="civil_immigration", categories=["appointment_schedule"], subjects=1,
                                nondisclosure_order=False, emergency=False),
            ],
        )
    signer = service.open_signer(settings.log, create=settings.is_demo)
    cp = service.checkpoint(session, signer, dt.datetime.now(dt.UTC), origin=settings.log.origin)
    details: dict[str, Any] = {"size": cp.size, "vkey": signer.to_vkey()}
    console.print(f"Transparency log: {details['size']} entries, verifier key {details['vkey']}")


def verify(session: Session, settings: Settings, console: Console) -> None:
    """After every domain's demo: sign what they appended, then verify it, so the auditor's page has a last run."""
    from safeslot.transparency import selfcheck

    signer = service.open_signer(settings.log, create=settings.is_demo)
    now = dt.datetime.now(dt.UTC)
    service.checkpoint(session, signer, now, origin=settings.log.origin)
    run = selfcheck.self_verify(session, signer.verifier(), settings.log.origin, now, method="cli")
    console.print(f"Transparency log verified: {run.detail}." if run.ok else f"[red]Log NOT verified:[/] {run.detail}")
