"""All privacy queries: access log, alerts and monthly counts (appointments are read through scheduling.interfaces)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.privacy.models import AccessAlert, AccessRecord, MonthlyCount


def records_between(session: Session, start: dt.datetime, end: dt.datetime) -> Sequence[AccessRecord]:
    return session.scalars(
        select(AccessRecord).where(AccessRecord.at >= start, AccessRecord.at < end).order_by(AccessRecord.id)
    ).all()


def distinct_records_read(session: Session, staff_id: int, record_type: str, since: dt.datetime) -> int:
    stmt = select(func.count(func.distinct(AccessRecord.record_id))).where(
        AccessRecord.staff_id == staff_id, AccessRecord.record_type == record_type, AccessRecord.at >= since
    )
    return int(session.scalar(stmt) or 0)


def alert_exists(session: Session, staff_id: int, rule: str, since: dt.datetime) -> bool:
    stmt = select(AccessAlert.id).where(
        AccessAlert.staff_id == staff_id, AccessAlert.rule == rule, AccessAlert.at >= since
    ).limit(1)
    return session.scalar(stmt) is not None


def alerts(session: Session, limit: int = 500) -> Sequence[AccessAlert]:
    return session.scalars(select(AccessAlert).order_by(AccessAlert.id.desc()).limit(limit)).all()


def records_of_type(session: Session, staff_id: int, record_type: str, since: dt.datetime) -> int:
    """How many access records of one type a staff member wrote since a time (e.g. name look-ups)."""
    stmt = select(func.count(AccessRecord.id)).where(
        AccessRecord.staff_id == staff_id, AccessRecord.record_type == record_type, AccessRecord.at >= since
    )
    return int(session.scalar(stmt) or 0)


def reads_of(session: Session, record_type: str, record_id: str) -> Sequence[AccessRecord]:
    """Every recorded staff read of one record, oldest first (for the person's own view)."""
    return session.scalars(select(AccessRecord).where(
        AccessRecord.record_type == record_type, AccessRecord.record_id == record_id
    ).order_by(AccessRecord.at, AccessRecord.id)).all()


def monthly_count(
    session: Session, month: str, office_id: int, service_id: int, status: str, language: str
) -> MonthlyCount | None:
    return session.scalars(select(MonthlyCount).where(
        MonthlyCount.month == month, MonthlyCount.office_id == office_id, MonthlyCount.service_id == service_id,
        MonthlyCount.status == status, MonthlyCount.language == language,
    )).one_or_none()


