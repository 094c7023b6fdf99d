"""All scheduling queries. Capacity changes are single conditional UPDATEs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from safeslot.scheduling.models import (
    Appointment,
    Closure,
    IdempotencyRecord,
    InterpreterCapacity,
    Office,
    Service,
    SlotCapacity,
    Staff,
    WeeklyHours,
)


def office_by_slug(session: Session, slug: str) -> Office | None:
    return session.scalars(select(Office).where(Office.slug == slug)).one_or_none()


def offices(session: Session) -> Sequence[Office]:
    return session.scalars(select(Office).order_by(Office.slug)).all()


def service_by_slug(session: Session, office_id: int, slug: str) -> Service | None:
    return session.scalars(
        select(Service).where(Service.office_id == office_id, Service.slug == slug)
    ).one_or_none()


def services(session: Session, office_id: int) -> Sequence[Service]:
    return session.scalars(
        select(Service).where(Service.office_id == office_id).order_by(Service.slug)
        .options(selectinload(Service.translations))  # the pages show them: one query for all services
    ).all()


def staff(session: Session, office_id: int) -> Sequence[Staff]:
    return session.scalars(
        select(Staff).where(Staff.office_id == office_id, Staff.active.is_(True)).order_by(Staff.id)
    ).all()


def all_staff(session: Session, office_id: int) -> Sequence[Staff]:
    """Active and former staff (the supervisor's list; only active ones give capacity)."""
    return session.scalars(select(Staff).where(Staff.office_id == office_id).order_by(Staff.id)).all()


def hours(session: Session, office_id: int) -> Sequence[WeeklyHours]:
    return session.scalars(
        select(WeeklyHours).where(WeeklyHours.office_id == office_id).order_by(WeeklyHours.weekday, WeeklyHours.opens)
    ).all()


def closures(session: Session, office_id: int, start: dt.date, end: dt.date) -> Sequence[Closure]:
    return session.scalars(
        select(Closure).where(Closure.office_id == office_id, Closure.day >= start, Closure.day <= end)
    ).all()


def free_slots(
    session: Session, service_id: int, start: dt.datetime, end: dt.datetime, limit: int | None = None
) -> Sequence[tuple[int, dt.datetime, int]]:
    """(id, starts_at, free) of slots with room, in time order."""
    stmt = (
        select(SlotCapacity.id, SlotCapacity.starts_at, SlotCapacity.capacity - SlotCapacity.booked)
        .where(
            SlotCapacity.service_id == service_id,
            SlotCapacity.starts_at >= start,
            SlotCapacity.starts_at < end,
            SlotCapacity.booked < SlotCapacity.capacity,
        )
        .order_by(SlotCapacity.starts_at)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def free_slots_before(
    session: Session, service_id: int, before: dt.datetime, after: dt.datetime, limit: int
) -> Sequence[tuple[int, dt.datetime, int]]:
    stmt = (
        select(SlotCapacity.id, SlotCapacity.starts_at, SlotCapacity.capacity - SlotCapacity.booked)
        .where(
            SlotCapacity.service_id == service_id,
            SlotCapacity.starts_at < before,
            SlotCapacity.starts_at > after,
            SlotCapacity.booked < SlotCapacity.capacity,
        )
        .order_by(SlotCapacity.starts_at.desc())
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def interpreter_free(
    session: Session, office_id: int, language: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, int]:
    rows = session.execute(
        select(InterpreterCapacity.starts_at, InterpreterCapacity.capacity - InterpreterCapacity.booked).where(
            InterpreterCapacity.office_id == office_id,
            InterpreterCapacity.language == language,
            InterpreterCapacity.starts_at >= start,
            InterpreterCapacity.starts_at < end,
            InterpreterCapacity.booked < InterpreterCapacity.capacity,
        )
    )
    return {r[0]: r[1] for r in rows}


def slot_at(session: Session, service_id: int, starts_at: dt.datetime) -> SlotCapacity | None:
    return session.scalars(
        select(SlotCapacity).where(SlotCapacity.service_id == service_id, SlotCapacity.starts_at == starts_at)
    ).one_or_none()


def take_slot(session: Session, slot_id: int) -> bool:
    """Take one place if one is left; the database decides, so concurrent callers never overbook."""
    result = session.execute(
        update(SlotCapacity)
        .where(SlotCapacity.id == slot_id, SlotCapacity.booked < SlotCapacity.capacity)
        .values(booked=SlotCapacity.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def release_slot(session: Session, slot_id: int) -> None:
    session.execute(
        update(SlotCapacity)
        .where(SlotCapacity.id == slot_id, SlotCapacity.booked > 0)
        .values(booked=SlotCapacity.booked - 1)
        .execution_options(synchronize_session=False)
    )


def take_interpreter(
    session: Session, office_id: int, language: str, start: dt.datetime, end: dt.datetime, steps: int
) -> bool:
    """Take one interpreter for every 15-minute step of [start, end); all or nothing.

    Returns False when any step is full or missing; the caller raises and the
    transaction's rollback undoes the steps that were taken.
    """
    result = session.execute(
        update(InterpreterCapacity)
        .where(
            InterpreterCapacity.office_id == office_id,
            InterpreterCapacity.language == language,
            InterpreterCapacity.starts_at >= start,
            InterpreterCapacity.starts_at < end,
            InterpreterCapacity.booked < InterpreterCapacity.capacity,
        )
        .values(booked=InterpreterCapacity.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == steps  # type: ignore[attr-defined,no-any-return]


def release_interpreter(session: Session, office_id: int, language: str, start: dt.datetime, end: dt.datetime) -> None:
    session.execute(
        update(InterpreterCapacity)
        .where(
            InterpreterCapacity.office_id == office_id,
            InterpreterCapacity.language == language,
            InterpreterCapacity.starts_at >= start,
            InterpreterCapacity.starts_at < end,
            InterpreterCapacity.booked > 0,
        )
        .values(booked=InterpreterCapacity.booked - 1)
        .execution_options(synchronize_session=False)
    )


def appointment_by_code(session: Session, code: str, *, for_update: bool = False) -> Appointment | None:
    stmt = select(Appointment).where(Appointment.code == code)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def appointments_between(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime
) -> Sequence[Appointment]:
    return session.scalars(
        select(Appointment)
        .where(Appointment.office_id == office_id, Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()


def count_appointments(session: Session, slot_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Appointment)
    if slot_id is not None:
        stmt = stmt.where(Appointment.slot_id == slot_id, Appointment.status != "cancelled")
    return int(session.scalar(stmt) or 0)


def existing_slot_starts(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, dt.datetime], SlotCapacity]:
    rows = session.scalars(
        select(SlotCapacity).where(
            SlotCapacity.office_id == office_id, SlotCapacity.starts_at >= start, SlotCapacity.starts_at < end
        )
    )
    return {(r.service_id, r.starts_at): r for r in rows}


def existing_interpreter_steps(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime
) -> dict[tuple[str, dt.datetime], InterpreterCapacity]:
    rows = session.scalars(
        select(InterpreterCapacity).where(
            InterpreterCapacity.office_id == office_id,
            InterpreterCapacity.starts_at >= start,
            InterpreterCapacity.starts_at < end,
        )
    )
    return {(r.language, r.starts_at): r for r in rows}


def delete_unbooked_slots_on(session: Session, office_id: int, start: dt.datetime, end: dt.datetime) -> None:
    cond = and_(
        SlotCapacity.office_id == office_id,
        SlotCapacity.starts_at >= start,
        SlotCapacity.starts_at < end,
        SlotCapacity.booked == 0,
    )
    session.execute(delete(SlotCapacity).where(cond).execution_options(synchronize_session=False))


def idempotency_record(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.get(IdempotencyRecord, (scope, key))
