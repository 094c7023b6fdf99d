"""All scheduling queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import case, delete, func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from safeslot.scheduling.models import (
    Appointment,
    Closure,
    IdempotencyRecord,
    Office,
    Service,
    SlotCapacity,
    Staff,
    StaffHold,
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


def slot_at(session: Session, service_id: int, starts_at: dt.datetime) -> SlotCapacity | None:
    return session.scalars(
        select(SlotCapacity).where(SlotCapacity.service_id == service_id, SlotCapacity.starts_at == starts_at)
    ).one_or_none()


# -- people held --------------------------------------------------------------------------------
def take_locks(session: Session, keys: Iterable[int]) -> None:
    """Take the assignment locks (rules.lock_keys) in ascending order, until the transaction ends.

    PostgreSQL: transaction-level advisory locks. SQLite: nothing to do, every write
    transaction already holds the database's one write lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        session.execute(select(func.pg_advisory_xact_lock(key)))


def busy_staff(session: Session, office_id: int, start: dt.datetime, end: dt.datetime) -> set[int]:
    """Staff held for any unit of [start, end)."""
    return set(session.scalars(
        select(StaffHold.staff_id).distinct().where(
            StaffHold.office_id == office_id, StaffHold.starts_at >= start, StaffHold.starts_at < end
        )
    ))


def holds_between(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime
) -> Sequence[tuple[int, dt.datetime]]:
    """(staff_id, unit start) of every hold in [start, end)."""
    rows = session.execute(
        select(StaffHold.staff_id, StaffHold.starts_at).where(
            StaffHold.office_id == office_id, StaffHold.starts_at >= start, StaffHold.starts_at < end
        )
    )
    return [(r[0], r[1]) for r in rows]


def held_masks(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime, bits: dict[int, int]
) -> dict[dt.datetime, int]:
    """For each unit of [start, end) with a hold: the OR of ``bits[staff_id]`` of the people held then
    (the database adds the bits, one row per unit; each (person, unit) is held at most once)."""
    if not bits:
        return {}
    mask = func.sum(case(bits, value=StaffHold.staff_id, else_=0))
    rows = session.execute(
        select(StaffHold.starts_at, mask)
        .where(StaffHold.office_id == office_id, StaffHold.starts_at >= start, StaffHold.starts_at < end,
               StaffHold.staff_id.in_(list(bits)))
        .group_by(StaffHold.starts_at)
    )
    return {unit: int(held) for unit, held in rows}


def insert_holds(session: Session, rows: list[dict[str, object]]) -> None:
    if rows:
        session.execute(insert(StaffHold), rows)


def release_holds(session: Session, appointment_id: int, role: str | None = None) -> None:
    stmt = delete(StaffHold).where(StaffHold.appointment_id == appointment_id)
    if role is not None:
        stmt = stmt.where(StaffHold.role == role)
    session.execute(stmt.execution_options(synchronize_session=False))


def holding_appointments(
    session: Session, office_id: int, after: dt.datetime, staff_ids: Collection[int] | None = None
) -> Sequence[Appointment]:
    """Booked or checked-in appointments ending after ``after``: those of ``staff_ids`` (as server
    or interpreter) and those no one serves; all of them when ``staff_ids`` is None."""
    stmt = select(Appointment).where(
        Appointment.office_id == office_id, Appointment.ends_at > after,
        Appointment.status.in_(("booked", "checked-in")),
    )
    if staff_ids is not None:
        ids = list(staff_ids)
        stmt = stmt.where(or_(Appointment.staff_id.in_(ids), Appointment.interpreter_id.in_(ids),
                              Appointment.staff_id.is_(None)))
    return session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id)).all()


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


def appointments_by_name_index(
    session: Session, index: str, office_id: int | None, start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Sequence[Appointment]:
    """Appointments whose name has this blind index, in one office (or all), starting in [start, end)."""
    stmt = select(Appointment).where(Appointment.name_index == index)
    if office_id is not None:
        stmt = stmt.where(Appointment.office_id == office_id)
    if start is not None:
        stmt = stmt.where(Appointment.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Appointment.starts_at < end)
    return session.scalars(stmt.order_by(Appointment.starts_at)).all()


def existing_slot_starts(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, dt.datetime], SlotCapacity]:
    rows = session.scalars(
        select(SlotCapacity).where(
            SlotCapacity.office_id == office_id, SlotCapacity.starts_at >= start, SlotCapacity.starts_at < end
        )
    )
    return {(r.service_id, r.starts_at): r for r in rows}


def idempotency_record(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.get(IdempotencyRecord, (scope, key))


def last_slot_start(session: Session, office_id: int) -> dt.datetime | None:
    """The latest start time materialised for the office (how far ahead it is open)."""
    return session.scalar(select(func.max(SlotCapacity.starts_at)).where(SlotCapacity.office_id == office_id))
