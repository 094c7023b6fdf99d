"""Booking, and managing a booking by its code: move, cancel, the visit's status.

Every function takes the caller's session and never commits. A booking is a
plan (plan.py) executed here: take the visit's locks, check the start is on the
grid and open, read who is busy, choose the people, insert the appointment and
one hold per person per 15-minute unit. The holds' primary key refuses a person
in two visits at once; when a step refuses, the service raises and the session
dependency's rollback undoes whatever was already written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing, month_kid
from safeslot.scheduling import repository as repo
from safeslot.scheduling.assignment import Person, candidates, choose, hold, people_of, refusal, unqualified
from safeslot.scheduling.duty import local_visit
from safeslot.scheduling.errors import AppointmentNotFound, InvalidTransition
from safeslot.scheduling.models import Appointment, Office, Service
from safeslot.scheduling.offices import get_office, get_service
from safeslot.scheduling.plan import (
    BookingPlan,
    OfficeFacts,
    ServiceFacts,
    interpreter_unavailable,
    no_such_slot,
    plan_booking,
    slot_full,
)
from safeslot.scheduling.rules import (
    SEALED_COLUMNS,
    STAFF_TRANSITIONS,
    check_window,
    data_key_month,
    lock_keys,
    new_code,
    normalise_code,
    zone,
)
from safeslot.scheduling.schemas import BookingIn
from safeslot.scheduling.slots import alternatives, nearest_free

if TYPE_CHECKING:
    from safeslot.identity.interfaces import Principal


def office_facts(office: Office) -> OfficeFacts:
    return OfficeFacts(office.id, office.slug, office.timezone)


def service_facts(service: Service) -> ServiceFacts:
    return ServiceFacts(service.id, service.slug, service.duration_minutes)


def prepare(session: Session, ring: KeyRing, data: BookingIn, now: dt.datetime) -> BookingPlan:
    office = get_office(session, data.office)
    service = get_service(session, office, data.service)
    return plan_booking(data, office_facts(office), service_facts(service), people_of(session, office.id), now,
                        new_code(), ring)


def book(session: Session, ring: KeyRing, data: BookingIn, now: dt.datetime) -> Appointment:
    return execute(session, prepare(session, ring, data, now))


def lock_booking_hours(session: Session, data: BookingIn) -> None:
    """Take the locks a booking will need before its Idempotency-Key is claimed, as the fast path
    does (lock, then claim): the office's staff lock shared, then one per UTC hour the visit touches
    (``rules.lock_keys``, ``repository.take_locks``), so the two paths take their locks in one order.
    No office or service, no lock."""
    office = repo.office_by_slug(session, data.office)
    found = repo.service_by_slug(session, office.id, data.service) if office is not None else None
    if office is None or found is None:
        return
    try:
        keys = lock_keys(office.id, data.starts_at, data.starts_at + dt.timedelta(minutes=found.duration_minutes))
    except (OverflowError, ValueError):
        return  # a time out of range: refused later, with no lock needed
    repo.take_locks(session, keys)


def _refuse(session: Session, plan: BookingPlan, reason: str, office: Office, service: Service) -> Exception:
    near = alternatives(nearest_free(session, office, service, plan.start, plan.language, plan.now),
                        plan.office.timezone)
    if reason == "missing":
        return no_such_slot(near)
    if reason == "interpreter":
        assert plan.candidates.language is not None
        return interpreter_unavailable(plan.candidates.language, near)
    return slot_full(near)


def execute(session: Session, plan: BookingPlan) -> Appointment:
    """Execute a booking plan in the caller's transaction, or raise the refusal with the nearest free times."""
    repo.take_locks(session, plan.lock_keys)
    office = session.get(Office, plan.office.id)
    service = session.get(Service, plan.service.id)
    assert office is not None and service is not None
    slot = repo.slot_at(session, plan.service.id, plan.start)
    if slot is None or slot.booked >= slot.capacity:
        raise _refuse(session, plan, "missing" if slot is None else "slot", office, service)
    # Who is held, and who is not working then (their hours, read here after the locks, as BOOK_SQL does).
    busy = repo.busy_staff(session, plan.office.id, plan.start, plan.end)
    busy |= repo.off_duty(session, plan.candidates.everyone, plan.local)
    # The plan's people were read before the locks: a staff change committed since (it holds the office's
    # staff lock while it re-checks visits) must not be missed, so re-read them now, as BOOK_SQL does.
    busy |= unqualified(plan.candidates, [Person(i, frozenset(langs.split()), frozenset(svcs.split()))
                                          for i, langs, svcs in repo.staff_now(session, plan.office.id)])
    chosen = choose(plan.candidates, busy)
    if chosen is None:
        raise _refuse(session, plan, refusal(plan.candidates, busy), office, service)
    appointment = Appointment(
        code=plan.code, office_id=plan.office.id, service_id=plan.service.id, slot_id=slot.id,
        starts_at=plan.start, ends_at=plan.end, status="booked", language=plan.language,
        name_enc=plan.name_enc, name_index=plan.name_index, accommodation_enc=plan.accommodation_enc,
        contact_enc=plan.contact_enc, reminders_opt_in=plan.reminders_opt_in, sequence=0,
        created_at=plan.now, updated_at=plan.now, staff_id=chosen[0], interpreter_id=chosen[1],
    )
    session.add(appointment)
    session.flush()
    hold(session, plan.office.id, appointment.id, plan.start, plan.end, chosen[0], chosen[1])
    return appointment


UNKNOWN_CODE = "Check the code on your confirmation; it has ten letters and digits."


def get_by_code(session: Session, code: str, *, for_update: bool = False) -> Appointment:
    if for_update:  # the office's staff lock before the row's (rules.lock_order; repository.share_office)
        office_id = repo.office_of_code(session, normalise_code(code))
        if office_id is not None:
            repo.share_office(session, office_id)
    appointment = repo.appointment_by_code(session, normalise_code(code), for_update=for_update)
    if appointment is None:
        raise AppointmentNotFound(UNKNOWN_CODE)
    return appointment


def appointment_in_scope(session: Session, code: str, staff: Principal) -> Appointment:
    """An appointment of an office in the staff member's scope; any other is answered exactly as a code
    that does not exist (no existence oracle: a clerk cannot learn that a code is booked elsewhere)."""
    appointment = repo.appointment_by_code(session, normalise_code(code))
    if appointment is None or not staff.covers(appointment.office_id):
        raise AppointmentNotFound(UNKNOWN_CODE)
    return appointment


def _reseal_for_month(ring: KeyRing, appointment: Appointment) -> None:
    """A moved appointment's values follow it to the data key of its new month."""
    month = data_key_month(appointment.starts_at)
    for attr, context in SEALED_COLUMNS:
        value = getattr(appointment, attr)
        if value is not None and ring.key_id_of(value) != month_kid(month):
            setattr(appointment, attr, ring.seal(ring.open(value, context), context, month))


def reschedule(session: Session, ring: KeyRing, code: str, starts_at: dt.datetime, now: dt.datetime) -> Appointment:
    """Move a booked appointment to another start; its people are chosen afresh for the new time."""
    appointment = get_by_code(session, code, for_update=True)
    if appointment.status != "booked":
        raise InvalidTransition(f"A {appointment.status} appointment cannot be moved. Book a new one instead.")
    if starts_at == appointment.starts_at:
        return appointment
    check_window(starts_at, now)
    start = starts_at.astimezone(dt.UTC)
    office = session.get(Office, appointment.office_id)
    service = session.get(Service, appointment.service_id)
    assert office is not None and service is not None
    end = start + dt.timedelta(minutes=service.duration_minutes)
    # the old visit's hours too, all in one ascending order: releasing its holds bumps those hours'
    # availability versions under the same locks (search_cache.py), and a second acquisition later
    # would break the one order that keeps writers from deadlocking
    repo.take_locks(session, lock_keys(office.id, start, end) + lock_keys(office.id, appointment.starts_at,
                                                                         appointment.ends_at))
    slot = repo.slot_at(session, service.id, start)
    c = candidates(people_of(session, office.id), service.slug, appointment.language)
    if slot is None or slot.booked >= slot.capacity:
        near = alternatives(nearest_free(session, office, service, start, appointment.language, now), office.timezone)
        raise no_such_slot(near) if slot is None else slot_full(near)
    repo.release_holds(session, appointment.id)  # its own people may serve it at the new time too
    busy = repo.busy_staff(session, office.id, start, end)
    busy |= repo.off_duty(session, c.everyone, local_visit(start, end, zone(office.timezone)))
    chosen = choose(c, busy)
    if chosen is None:
        near = alternatives(nearest_free(session, office, service, start, appointment.language, now), office.timezone)
        if refusal(c, busy) == "interpreter":
            assert c.language is not None
            raise interpreter_unavailable(c.language, near)
        raise slot_full(near)
    hold(session, office.id, appointment.id, start, end, chosen[0], chosen[1])
    appointment.slot_id = slot.id
    appointment.starts_at = start
    appointment.ends_at = end
    appointment.staff_id, appointment.interpreter_id = chosen
    appointment.sequence += 1
    appointment.updated_at = now
    _reseal_for_month(ring, appointment)
    session.flush()
    return appointment


def cancel(session: Session, code: str, now: dt.datetime) -> Appointment:
    """Cancel a booked appointment; its people are free again at once."""
    appointment = get_by_code(session, code, for_update=True)
    if appointment.status == "cancelled":
        return appointment  # a repeated cancel is a retry, not an error
    if appointment.status != "booked":
        raise InvalidTransition(f"A {appointment.status} appointment cannot be cancelled.")
    repo.release_holds(session, appointment.id)
    appointment.status = "cancelled"
    appointment.sequence += 1
    appointment.updated_at = now
    session.flush()
    return appointment


def set_status(session: Session, code: str, status: str, now: dt.datetime) -> Appointment:
    appointment = get_by_code(session, code, for_update=True)
    if (appointment.status, status) not in STAFF_TRANSITIONS:
        raise InvalidTransition(
            f"An appointment that is {appointment.status} cannot become {status}. "
            "Allowed: booked → checked-in → fulfilled, or booked → noshow."
        )
    if status == "noshow" and now < appointment.starts_at:
        raise InvalidTransition("A no-show can be recorded only after the appointment's start time.")
    if status == "checked-in":
        office = session.get(Office, appointment.office_id)
        tz = zone(office.timezone if office is not None else "UTC")
        if now.astimezone(tz).date() != appointment.starts_at.astimezone(tz).date():
            raise InvalidTransition("A person can be checked in only on the day of their visit (office time).")
    if status in ("noshow", "fulfilled"):
        repo.release_holds(session, appointment.id)  # the visit is over: the rest of its time is free
    appointment.status = status
    appointment.updated_at = now
    session.flush()
    return appointment


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    """An appointment matched to a named subject of a disclosure request, with its labels."""

    appointment: Appointment
    office_slug: str
    service_name: str


def appointments_for_subject(
    session: Session,
    name_index: str | Sequence[str],
    *,
    office_slug: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[SubjectRecord]:
    """Appointments whose blind name index equals `name_index`, within the office and
    time range given (the disclosure gate's subject matching); `ids` limits to those rows.
    Several indexes may be given at once, so that matching many people is one query."""
    stmt = (
        select(Appointment, Office.slug, Service.name)
        .join(Office, Office.id == Appointment.office_id)
        .join(Service, Service.id == Appointment.service_id)
        .where(
            Appointment.name_index == name_index
            if isinstance(name_index, str)
            else Appointment.name_index.in_(list(name_index))
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if office_slug is not None:
        stmt = stmt.where(Office.slug == office_slug)
    if start is not None:
        stmt = stmt.where(Appointment.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Appointment.starts_at < end)
    if ids is not None:
        stmt = stmt.where(Appointment.id.in_(list(ids)))
    return [SubjectRecord(a, slug, name) for a, slug, name in session.execute(stmt).all()]

