"""Demo: publish this half-year's transparency report, computed from the demo log.

Runs after the disclosure demo, so a newcomer running `make run` finds a report
at /transparency/report and in the auditor's console.
"""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.reports import service
from safeslot.reports.schemas import Period
from safeslot.transparency import interfaces as log


def load(session: Session, settings: Settings, console: Console) -> None:
    signer = log.open_signer(settings.log, create=settings.is_demo)
    now = dt.datetime.now(dt.UTC)
    period = Period.parse(f"{now.year}H{1 if now.month <= 6 else 2}")
    log.checkpoint(session, signer, now, origin=settings.log.origin)
    report = service.compute_from_log(service.LocalLog(session), signer.verifier(), settings.log.origin, period)
    done = service.publish(session, report, service.sign(report, signer), now)
    log.checkpoint(session, signer, now, origin=settings.log.origin)
    console.print(
        f"Transparency report {report.period}: {report.summary['requests']} requests, published at "
        f"/transparency/report/{report.period} (log entry {done.log_index})."
    )
