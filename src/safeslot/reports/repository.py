"""Queries for published reports."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.reports.models import PublishedReport


def latest_for(session: Session, period: str) -> PublishedReport | None:
    stmt = (select(PublishedReport).where(PublishedReport.period == period)
            .order_by(PublishedReport.id.desc()).limit(1))
    return session.scalars(stmt).first()


def all_latest(session: Session) -> Sequence[PublishedReport]:
    """Every published report, newest first (the public index lists each period's latest)."""
    return session.scalars(select(PublishedReport).order_by(PublishedReport.id.desc())).all()


def add(session: Session, row: PublishedReport) -> PublishedReport:
    session.add(row)
    session.flush()
    return row
