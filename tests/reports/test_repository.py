"""Published reports (reports/repository.py): a period published again (a correction) is read as its
newest version, older versions stay listed (nothing published is taken back), and a period never published
has no report. How a report is built and published is in test_service.py. SQLite only: the SQL is the same
on both databases."""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeslot.reports import repository
from safeslot.reports.models import PublishedReport
from tests.conftest import NOW, ON_SQLITE


def _published(session: Session, period: str, size: int) -> PublishedReport:
    return repository.add(session, PublishedReport(
        period=period, sha256=f"{size:064x}", checkpoint_size=size, checkpoint_root="cm9vdA==", log_index=size,
        signature="signed note", document=b"{}", published_at=NOW))


@ON_SQLITE
def test_a_period_reads_as_its_newest_version_and_every_version_stays_listed(session: Session) -> None:
    first = _published(session, "2027-Q1", 10)
    other = _published(session, "2027-02", 11)
    correction = _published(session, "2027-Q1", 12)
    latest = repository.latest_for(session, "2027-Q1")
    assert latest is not None and latest.id == correction.id and latest.checkpoint_size == 12
    assert [r.id for r in repository.all_latest(session)] == [correction.id, other.id, first.id]
    assert repository.latest_for(session, "2026-Q4") is None
