"""`safeslot demo load` publishes this half-year's report, computed from the log."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.reports import demo, service
from safeslot.transparency import service as log


def test_the_demo_publishes_a_report_from_the_log(session: Session, settings: Settings) -> None:
    log.append_raw(session, [{"event": "policy.change", "policy_set_hash": "0" * 64, "time": "2026-11-25T00:00:00Z"}])
    console = Console(record=True)
    demo.load(session, settings, console)
    published = service.published_periods(session)
    assert len(published) == 1
    report = published[0]
    assert "/transparency/report/" + report.period in console.export_text().replace("\n", "")
    # the report names the checkpoint it was computed from, and its hash is in the log after it
    assert report.checkpoint_size >= 1
    assert report.log_index >= report.checkpoint_size
