"""All scheduling queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, case, delete, exists, func, insert, not_, or_, select
from sqlalchemy.orm import Session, selectinload

from safeslot.scheduling.duty import Duty, LocalVisit, duties_from_rows
from safeslot.scheduling.models import (
    Appointment,
    Closure,
    IdempotencyRecord,
    Office,
    Service,
    SlotCapacity,
    Staff,
    StaffAbsence,
    StaffHold,
    StaffHours,
    WeeklyHours,
)
from safeslot.scheduling.rules import lock_order, office_lock_key


def office_by_slug(session: Session, slug: str) -> Office | None:
    return session.scalars(select(Office).where(Office.slug == slug)).one_or_none()


def offices(session: Session, *, open_only: bool = False) -> Sequence[Office]:
    stmt = select(Office).order_by(Office.slug)
    if open_only:  # a closed office keeps its records (reports, accounting) but leaves the public lists
        stmt = stmt.where(Office.closed_at.is_(None))
    return session.scalars(stmt).all()


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


def spoken_language_lists(session: Session) -> Sequence[str]:
    """The distinct language lists of the active staff of open offices: one statement whatever the number of
    offices (a network's few thousand staff rows share a few dozen lists)."""
    return session.scalars(
        select(Staff.languages).join(Office, Office.id == Staff.office_id)
        .where(Staff.active.is_(True), Office.closed_at.is_(None)).distinct()
    ).all()


def all_staff(session: Session, office_id: int) -> Sequence[Staff]:
    """Active and former staff (the supervisor's list; only active ones give capacity)."""
    return session.scalars(select(Staff).where(Staff.office_id == office_id).order_by(Staff.id)).all()


def duties(
    session: Session, office_id: int, first: dt.date, last: dt.date, own: Collection[int] | None = None
) -> dict[int, Duty]:
    """The working hours of the office's active staff who keep their own, and the absences of any of
    them touching local days [first, last] (duty.Duty; staff with neither have no entry). ``own``: the
    ids of those who keep their own hours, when the caller has just read the staff (one query less)."""
    if own is None:
        own = list(session.scalars(select(Staff.id).where(
            Staff.office_id == office_id, Staff.active.is_(True), Staff.own_hours.is_(True))))
    windows: Iterable[tuple[int, int, dt.time, dt.time]] = session.execute(
        select(StaffHours.staff_id, StaffHours.weekday, StaffHours.opens, StaffHours.closes)
        .join(Staff, Staff.id == StaffHours.staff_id)
        .where(Staff.office_id == office_id, Staff.active.is_(True), Staff.own_hours.is_(True))
    ).tuples() if own else []
    away = session.execute(
        select(StaffAbsence.staff_id, StaffAbsence.first_day, StaffAbsence.last_day)
        .join(Staff, Staff.id == StaffAbsence.staff_id)
        .where(Staff.office_id == office_id, Staff.active.is_(True), StaffAbsence.last_day >= first,
               StaffAbsence.first_day <= last)
    ).tuples()
    return duties_from_rows(own, windows, away)


def off_duty(session: Session, staff_ids: Collection[int], visit: LocalVisit) -> set[int]:
    """Of ``staff_ids``, those not working during the visit, read from the tables in the caller's
    transaction (the same test as fastsql.BOOK_SQL's: own hours without a window holding the whole
    visit, or an absence that day)."""
    if not staff_ids:
        return set()
    # Each look-up names the people too (redundant with the join): PostgreSQL may run an EXISTS as one hashed
    # read of every matching row, and without them that reads every office's hours for the weekday.
    ids = list(staff_ids)
    covered = exists().where(
        StaffHours.staff_id.in_(ids), StaffHours.staff_id == Staff.id, StaffHours.weekday == visit.weekday,
        StaffHours.opens <= visit.start, StaffHours.closes >= visit.end,
    )
    absent = exists().where(
        StaffAbsence.staff_id.in_(ids), StaffAbsence.staff_id == Staff.id, StaffAbsence.first_day <= visit.day,
        StaffAbsence.last_day >= visit.day,
    )
    hours_miss = and_(Staff.own_hours.is_(True), not_(covered)) if visit.same_day else Staff.own_hours.is_(True)
    return set(session.scalars(select(Staff.id).where(Staff.id.in_(ids), or_(hours_miss, absent))))


def staff_hours(session: Session, staff_id: int) -> Sequence[StaffHours]:
    return session.scalars(
        select(StaffHours).where(StaffHours.staff_id == staff_id).order_by(StaffHours.weekday, StaffHours.opens)
    ).all()


def absences(session: Session, staff_id: int, after: dt.date) -> Sequence[StaffAbsence]:
    return session.scalars(
        select(StaffAbsence).where(StaffAbsence.staff_id == staff_id, StaffAbsence.last_day >= after)
        .order_by(StaffAbsence.first_day)
    ).all()


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
    """Take the assignment locks (rules.lock_keys) in the one global order (``rules.lock_order``: the
    offices' staff locks, shared, or exclusive past ``MAX_HOUR_LOCKS`` hours of an office, then the hour
    locks, ascending), until the transaction ends.

    PostgreSQL: transaction-level advisory locks. SQLite: nothing to do, every write
    transaction already holds the database's one write lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key, exclusive in lock_order(keys):
        # an office's staff lock shared (a staff change holds it exclusively, lock_staff), or exclusive for a bulk
        # writer; hour locks exclusive
        lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
        session.execute(select(lock(key)))


def share_office(session: Session, office_id: int) -> None:
    """Take the office's staff lock shared, before anything else (the first lock of ``rules.lock_order``):
    what a writer that locks a visit's row first (cancel, status, move) takes before that row, so that it
    never holds the row while waiting for a staff change that is about to update it. SQLite: nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock_shared(office_lock_key(office_id))))


def office_of_code(session: Session, code: str) -> int | None:
    return session.scalars(select(Appointment.office_id).where(Appointment.code == code)).one_or_none()


def lock_staff(session: Session, office_id: int) -> None:
    """Take the office's staff lock exclusively, until the transaction ends (a staff change).

    Bookings in flight at the office finish first and any new one waits, so the change's
    re-check of the visits to come sees every booking that could still pick the old people,
    and every later booking reads the people as changed (rules.office_lock_key). SQLite: the
    database's one write lock already does this."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(func.pg_advisory_xact_lock(office_lock_key(office_id))))


def staff_now(session: Session, office_id: int) -> list[tuple[int, str, str]]:
    """(id, languages, services) of the office's active staff, read afresh (never from the session's
    identity map): what a booking re-checks its plan's people against after its locks."""
    return [(r.id, r.languages, r.services) for r in session.execute(
        select(Staff.id, Staff.languages, Staff.services).where(Staff.office_id == office_id, Staff.active.is_(True))
    )]


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


@lru_cache(maxsize=256)
def _held_masks_query(bits: tuple[tuple[int, int], ...]) -> Select[tuple[dt.datetime, int]]:
    """The masks statement for one set of people and bits, built once: building the CASE and its cache
    key cost more than running the query (slot search profile, docs/performance.md)."""
    mask = func.sum(case(dict(bits), value=StaffHold.staff_id, else_=0))
    return (
        select(StaffHold.starts_at, mask)
        .where(StaffHold.office_id == bindparam("office_id"), StaffHold.starts_at >= bindparam("lo"),
               StaffHold.starts_at < bindparam("hi"), StaffHold.staff_id.in_([who for who, _ in bits]))
        .group_by(StaffHold.starts_at)
    )


def held_masks(
    session: Session, office_id: int, start: dt.datetime, end: dt.datetime, bits: dict[int, int]
) -> dict[dt.datetime, int]:
    """For each unit of [start, end) with a hold: the OR of ``bits[staff_id]`` of the people held then
    (the database adds the bits, one row per unit; each (person, unit) is held at most once)."""
    if not bits:
        return {}
    stmt = _held_masks_query(tuple(bits.items()))
    rows = session.execute(stmt, {"office_id": office_id, "lo": start, "hi": end}).tuples().all()
    return {unit: int(held) for unit, held in rows}


def insert_holds(session: Session, rows: list[dict[str, object]]) -> None:
    if rows:
        session.execute(insert(StaffHold), rows)


def held_units(session: Session, staff_id: int, start: dt.datetime, end: dt.datetime) -> set[dt.datetime]:
    return set(session.scalars(select(StaffHold.starts_at).where(
        StaffHold.staff_id == staff_id, StaffHold.starts_at >= start, StaffHold.starts_at < end)))


def release_ticket_holds(session: Session, ticket_id: int, after: dt.datetime) -> None:
    """A walk-in's holds of the units starting at or after ``after``."""
    session.execute(delete(StaffHold).where(StaffHold.ticket_id == ticket_id, StaffHold.starts_at >= after)
                    .execution_options(synchronize_session=False))


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


def idempotency_record(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.get(IdempotencyRecord, (scope, key))


def last_slot_start(session: Session, office_id: int) -> dt.datetime | None:
    """The latest start time materialised for the office (how far ahead it is open)."""
    return session.scalar(select(func.max(SlotCapacity.starts_at)).where(SlotCapacity.office_id == office_id))
