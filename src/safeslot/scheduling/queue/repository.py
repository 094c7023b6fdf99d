"""All queue queries. Nothing here commits; the caller's transaction holds every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from safeslot.scheduling.queue.models import QueueCounter, QueueDailyCount, QueueTicket

OPEN_STATUSES = ("waiting", "called")


def next_number(session: Session, office_id: int, day: dt.date) -> int:
    """The next ticket number of the office's day, taken under the counter row's lock.

    Insert-if-missing then increment-and-return: two check-ins at once (PostgreSQL,
    READ COMMITTED) queue on the row lock and get consecutive numbers; SQLite's
    write lock serialises them anyway.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(QueueCounter).values(office_id=office_id, day=day, last=0).on_conflict_do_nothing())
    number: int = session.execute(
        update(QueueCounter)
        .where(QueueCounter.office_id == office_id, QueueCounter.day == day)
        .values(last=QueueCounter.last + 1)
        .returning(QueueCounter.last)
    ).scalar_one()
    return number


def by_token(session: Session, token: str) -> QueueTicket | None:
    return session.scalars(select(QueueTicket).where(QueueTicket.token == token)).one_or_none()


def by_id(session: Session, ticket_id: int, *, for_update: bool = False) -> QueueTicket | None:
    stmt = select(QueueTicket).where(QueueTicket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def by_appointment(session: Session, appointment_id: int) -> QueueTicket | None:
    return session.scalars(select(QueueTicket).where(QueueTicket.appointment_id == appointment_id)).one_or_none()


def waiting(session: Session, office_id: int, day: dt.date) -> Sequence[QueueTicket]:
    """The day's waiting tickets (a ticket left waiting on an earlier day is never called)."""
    return session.scalars(
        select(QueueTicket).where(QueueTicket.office_id == office_id, QueueTicket.day == day,
                                  QueueTicket.status == "waiting")
        .order_by(QueueTicket.queued_at, QueueTicket.id)
    ).all()


def open_tickets(session: Session, office_id: int, day: dt.date) -> Sequence[QueueTicket]:
    """The day's waiting and called tickets, oldest first (the supervisor's live view)."""
    return session.scalars(
        select(QueueTicket).where(QueueTicket.office_id == office_id, QueueTicket.day == day,
                                  QueueTicket.status.in_(OPEN_STATUSES))
        .order_by(QueueTicket.queued_at, QueueTicket.id)
    ).all()


def claim(session: Session, ticket_id: int, staff_id: int, desk: str, now: dt.datetime) -> bool:
    """Call a ticket if it is still waiting. The WHERE re-checks the status after any lock wait
    (PostgreSQL READ COMMITTED), so two desks calling at once never both get it."""
    result = session.execute(
        update(QueueTicket)
        .where(QueueTicket.id == ticket_id, QueueTicket.status == "waiting")
        .values(status="called", staff_id=staff_id, desk=desk, called_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def at_desk(session: Session, office_id: int, staff_id: int, day: dt.date) -> Sequence[QueueTicket]:
    """Tickets this staff member called today and has not finished, latest call first."""
    return session.scalars(
        select(QueueTicket).where(QueueTicket.office_id == office_id, QueueTicket.staff_id == staff_id,
                                  QueueTicket.day == day, QueueTicket.status == "called")
        .order_by(QueueTicket.called_at.desc(), QueueTicket.id.desc())
    ).all()


def recently_called(session: Session, office_id: int, since: dt.datetime, limit: int) -> Sequence[QueueTicket]:
    return session.scalars(
        select(QueueTicket).where(QueueTicket.office_id == office_id, QueueTicket.status == "called",
                                  QueueTicket.called_at >= since)
        .order_by(QueueTicket.called_at.desc(), QueueTicket.id.desc()).limit(limit)
    ).all()


def service_minutes(session: Session, office_id: int, service_id: int, since: dt.datetime) -> list[float]:
    """How long each visit of this service took at the desk (last call to done), recently."""
    rows = session.execute(
        select(QueueTicket.called_at, QueueTicket.finished_at).where(
            QueueTicket.office_id == office_id, QueueTicket.service_id == service_id,
            QueueTicket.status == "done", QueueTicket.finished_at >= since, QueueTicket.called_at.is_not(None))
    ).all()
    return [(end - start).total_seconds() / 60 for start, end in rows if start is not None and end is not None]


def active_callers(session: Session, office_id: int, since: dt.datetime) -> set[int]:
    """Staff who called a ticket recently: the desks open now."""
    return {sid for sid in session.scalars(
        select(QueueTicket.staff_id).where(QueueTicket.office_id == office_id, QueueTicket.called_at >= since,
                                           QueueTicket.staff_id.is_not(None)).distinct()) if sid is not None}


def of_day(session: Session, office_id: int, day: dt.date) -> Sequence[QueueTicket]:
    return session.scalars(
        select(QueueTicket).where(QueueTicket.office_id == office_id, QueueTicket.day == day)
    ).all()


def expired(session: Session, before: dt.date, limit: int) -> Sequence[QueueTicket]:
    return session.scalars(
        select(QueueTicket).where(QueueTicket.day < before).order_by(QueueTicket.day, QueueTicket.id).limit(limit)
    ).all()


def delete_tickets(session: Session, ids: Sequence[int], before: dt.date) -> None:
    """Delete purged tickets, and the counters of the days they came from."""
    session.execute(delete(QueueTicket).where(QueueTicket.id.in_(list(ids)))
                    .execution_options(synchronize_session=False))
    session.execute(delete(QueueCounter).where(QueueCounter.day < before)
                    .execution_options(synchronize_session=False))


def erase_names(session: Session, before: dt.date) -> int:
    result = session.execute(
        update(QueueTicket).where(QueueTicket.day < before, QueueTicket.name_enc.is_not(None))
        .values(name_enc=None).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def daily_count(
    session: Session, day: dt.date, office_id: int, service_id: int, kind: str, language: str, outcome: str,
    band: str,
) -> QueueDailyCount | None:
    return session.scalars(select(QueueDailyCount).where(
        QueueDailyCount.day == day, QueueDailyCount.office_id == office_id, QueueDailyCount.service_id == service_id,
        QueueDailyCount.kind == kind, QueueDailyCount.language == language, QueueDailyCount.outcome == outcome,
        QueueDailyCount.wait_band == band)).one_or_none()


