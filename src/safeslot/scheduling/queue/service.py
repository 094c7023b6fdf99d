"""Queue rules with storage: check-in (walk-in or appointment), and a desk's calls.

Every function takes the caller's session and never commits. The order of calls
is the pure ``rules.candidates``; taking a ticket is one conditional UPDATE
(``repository.claim``), so two desks calling at once never get the same ticket.

    walk-in / appointment check-in → waiting
    waiting  → called   (call next)           → called again (recall)
    called   → done | noshow                  (the visit ends)

A called walk-in holds its clerk (``staff_hold``, role ``walk-in``) for the service's
duration, so online bookings cannot be given to them meanwhile; done, no-show and
transfer free them from the next unit on.
    called   → waiting  (transfer to another service, keeping the arrival time)
    waiting  → left     (the person leaves; from their ticket page)
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from safeslot.config import QueueSettings
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import opening, staffing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.assignment import hold_for_walk_in, person, release_walk_in, walk_in_conflict
from safeslot.scheduling.idempotency import request_hash, run_once
from safeslot.scheduling.models import Appointment, Office, Service, Staff
from safeslot.scheduling.queue import repository as repo
from safeslot.scheduling.queue import rules
from safeslot.scheduling.queue.errors import (
    AppointmentElsewhere,
    AppointmentNotCheckable,
    LanguageNotOffered,
    NextVisitDue,
    OfficeClosed,
    TicketNotFound,
    TicketStateConflict,
    TooEarlyToCheckIn,
    TooLateToCheckIn,
)
from safeslot.scheduling.queue.models import QueueTicket

if TYPE_CHECKING:
    from safeslot.identity.interfaces import Principal
    from safeslot.scheduling.administration import RecordRead

NAME_CONTEXT = "queue_ticket.name"  # AEAD context of the sealed name (kit/crypto.py)
# The queue's one sealed column, for key rotation and the month keys still in use (privacy.rotation).
SEALED_COLUMNS = ((QueueTicket.name_enc, NAME_CONTEXT),)
MAX_NAME = 100
MAX_DESK = 32
DEFAULTS = QueueSettings()


def label(ticket: QueueTicket) -> str:
    """What the display, the desk and the person's page show: A012 for appointments, W013 for walk-ins."""
    return f"{'A' if ticket.kind == 'appointment' else 'W'}{ticket.number:03d}"


def office_today(office: Office, now: dt.datetime) -> dt.date:
    return now.astimezone(scheduling.zone(office.timezone)).date()


def office_languages(session: Session, office: Office) -> list[str]:
    """Languages someone at the office speaks (primary subtags, English first)."""
    spoken = {tag.split("-")[0].lower() for tag in scheduling.office_languages(session, office)}
    return [scheduling.BASE_LANGUAGE, *sorted(spoken - {scheduling.BASE_LANGUAGE})]


# -- check-in ------------------------------------------------------------------------------------
def _issue(
    session: Session, office: Office, service_id: int, kind: str, language: str | None, now: dt.datetime, *,
    name_enc: bytes | None = None, appointment: Appointment | None = None,
) -> QueueTicket:
    day = office_today(office, now)
    ticket = QueueTicket(
        token=secrets.token_urlsafe(18), office_id=office.id, service_id=service_id, day=day,
        number=repo.next_number(session, office.id, day), kind=kind, status="waiting",
        appointment_id=appointment.id if appointment is not None else None, language=language, name_enc=name_enc,
        due_at=appointment.starts_at if appointment is not None else None, checked_in_at=now, queued_at=now,
        recalls=0, transfers=0,
    )
    session.add(ticket)
    session.flush()
    return ticket


def _language(session: Session, office: Office, language: str | None) -> str | None:
    needed = staffing.interpreter_language(language)
    if needed is not None and needed not in office_languages(session, office):
        raise LanguageNotOffered(
            f"No one at this office speaks {needed!r}. Choose one of: {', '.join(office_languages(session, office))}."
        )
    return needed


def accepts_walk_ins(session: Session, office: Office, now: dt.datetime, settings: QueueSettings) -> bool:
    """Open now, or about to open (a line at the door may take tickets ``open_early_minutes`` before)."""
    return opening.is_open(session, office, now, early=dt.timedelta(minutes=settings.open_early_minutes))


def check_in_walk_in(
    session: Session, ring: KeyRing, office_slug: str, service_slug: str, language: str | None, name: str | None,
    now: dt.datetime, settings: QueueSettings = DEFAULTS,
) -> QueueTicket:
    """A ticket for a person without an appointment. A name is optional (initials are enough) and sealed."""
    office = scheduling.get_office(session, office_slug)
    service = scheduling.get_service(session, office, service_slug)
    if not accepts_walk_ins(session, office, now, settings):
        raise OfficeClosed("The office is closed now. Come back during its opening hours to take a ticket.")
    needed = _language(session, office, language)
    cleaned = " ".join((name or "").split())
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(f"Give at most {MAX_NAME} characters for the name; initials are enough.")
    sealed = ring.seal(cleaned, NAME_CONTEXT, scheduling.data_key_month(now)) if cleaned else None
    return _issue(session, office, service.id, "walk-in", needed, now, name_enc=sealed)


def check_in_appointment(
    session: Session, office_slug: str, code: str, now: dt.datetime, settings: QueueSettings, *,
    by_clerk: bool = False,
) -> QueueTicket:
    """The appointment holder joins the queue; the appointment becomes checked-in (FHIR).

    A person checks in from ``early_minutes`` before to ``late_minutes`` after the start;
    a clerk may check them in any time that day. Checking in twice shows the same ticket.
    """
    office = scheduling.get_office(session, office_slug)
    appointment = scheduling.get_by_code(session, code, for_update=True)
    if appointment.office_id != office.id:
        raise AppointmentElsewhere("This appointment is at another office. Check the address on your confirmation.")
    existing = repo.by_appointment(session, appointment.id)
    if existing is not None:
        return existing
    if appointment.status not in ("booked", "checked-in"):
        raise AppointmentNotCheckable(
            "This appointment was cancelled, missed or already served. Take a walk-in ticket instead."
        )
    if not by_clerk:
        if now < appointment.starts_at - dt.timedelta(minutes=settings.early_minutes):
            raise TooEarlyToCheckIn(
                f"Check in at most {settings.early_minutes} minutes before your appointment. Come back later."
            )
        if now > appointment.starts_at + dt.timedelta(minutes=settings.late_minutes):
            raise TooLateToCheckIn(
                f"Appointments can be checked in up to {settings.late_minutes} minutes after their start. "
                "Take a walk-in ticket instead, or ask at the front desk."
            )
    if appointment.status == "booked":
        scheduling.set_status(session, appointment.code, "checked-in", now)
    language = staffing.interpreter_language(appointment.language)
    return _issue(session, office, appointment.service_id, "appointment", language, now, appointment=appointment)


def leave(session: Session, token: str, now: dt.datetime) -> QueueTicket:
    """The person gives up their place (from their ticket page); a repeat is a retry."""
    ticket = by_token(session, token)
    if ticket.status == "left":
        return ticket
    if ticket.status != "waiting":
        raise TicketStateConflict("Only a waiting ticket can be given up; you have been called already.")
    ticket.status, ticket.finished_at = "left", now
    session.flush()
    return ticket


def by_token(session: Session, token: str) -> QueueTicket:
    ticket = repo.by_token(session, token) if 10 <= len(token) <= 32 else None
    if ticket is None:
        raise TicketNotFound("Check the address of your ticket page, or take a new ticket.")
    return ticket


# -- the desk ------------------------------------------------------------------------------------
def desk_label(desk: str) -> str:
    cleaned = " ".join(desk.split())
    if not cleaned or len(cleaned) > MAX_DESK:
        raise InvalidInput(f"Name the desk in 1 to {MAX_DESK} characters, as the lobby display should show it.")
    return cleaned


def _services_by_slug(session: Session, office: Office) -> dict[str, Service]:
    return {s.slug: s for s in scheduling.list_services(session, office)}


def as_waiting(ticket: QueueTicket) -> rules.Waiting:
    return rules.Waiting(ticket.id, ticket.service_id, ticket.language, ticket.kind, ticket.due_at, ticket.queued_at)


def uncovered(session: Session, office: Office, tickets: Sequence[QueueTicket]) -> frozenset[tuple[int, str]]:
    """(service, language) pairs of waiting tickets that no active staff member serves in that language."""
    services = {s.id: s.slug for s in scheduling.list_services(session, office)}
    people = [person(m) for m in staffing.active_staff(session, office)]
    pairs = {(t.service_id, t.language) for t in tickets if t.language is not None}
    return frozenset((sid, lang) for sid, lang in pairs
                     if lang is not None and not staffing.serves_directly(people, services.get(sid, ""), lang))


def desk_of(session: Session, office: Office, member: Staff) -> rules.Desk:
    services = _services_by_slug(session, office)
    return rules.Desk(frozenset(services[s].id for s in staffing.service_slugs(member) if s in services),
                      staffing.languages(member))


def _member(session: Session, office: Office, staff_id: int) -> Staff:
    member = staffing.member(session, office, staff_id)
    if not member.active:
        raise InvalidInput("This staff member no longer works here; choose who is at the desk.")
    return member


def call_next(
    session: Session, office: Office, staff_id: int, desk: str, now: dt.datetime, settings: QueueSettings
) -> QueueTicket | None:
    """Call the next ticket this staff member is qualified for; None when nobody waits for them."""
    member = _member(session, office, staff_id)
    desk = desk_label(desk)
    today = office_today(office, now)
    current = repo.at_desk(session, office.id, member.id, today)
    if current:
        raise TicketStateConflict(
            f"Ticket {label(current[0])} is still at your desk: mark it done, no-show or transfer it first."
        )
    waiting = repo.waiting(session, office.id, today)
    window = dt.timedelta(minutes=settings.call_window_minutes)
    order = rules.candidates(desk_of(session, office, member), [as_waiting(t) for t in waiting],
                             uncovered(session, office, waiting), now, window)
    minutes = {s.id: s.duration_minutes for s in scheduling.list_services(session, office)}
    blocked: dt.datetime | None = None  # the clerk's next held unit that a skipped walk-in would run into
    for choice in order:
        if choice.kind == "walk-in":  # an appointment already holds its people; a walk-in holds its clerk
            conflict = walk_in_conflict(session, office.id, member.id, now, minutes[choice.service_id])
            if conflict is not None:  # it would run into the clerk's next visit: leave it to another desk
                blocked = conflict if blocked is None else min(blocked, conflict)
                continue
        if repo.claim(session, choice.id, member.id, desk, now):
            ticket = session.get(QueueTicket, choice.id, populate_existing=True)
            assert ticket is not None
            if ticket.first_called_at is None:
                ticket.first_called_at = now
            if ticket.kind == "walk-in":
                hold_for_walk_in(session, office.id, ticket.id, member.id, now, minutes[ticket.service_id])
            session.flush()
            return ticket
    if blocked is not None:
        local = blocked.astimezone(scheduling.zone(office.timezone))
        raise NextVisitDue(
            f"The walk-ins waiting for you would run into your visit at {local:%H:%M}. Serve that visit first, "
            "or leave them to another desk.", at=local.isoformat())
    return None


def _called_here(session: Session, office: Office, ticket_id: int, staff_id: int) -> QueueTicket:
    ticket = repo.by_id(session, ticket_id, for_update=True)
    if ticket is None or ticket.office_id != office.id:
        raise TicketNotFound("This office has no such ticket; reload the desk page.")
    if ticket.status != "called" or ticket.staff_id != staff_id:
        raise TicketStateConflict("This ticket is not at your desk any more; reload the desk page.")
    return ticket


def recall(session: Session, office: Office, ticket_id: int, staff_id: int, now: dt.datetime) -> QueueTicket:
    """Call the same ticket again: it moves to the top of the lobby display."""
    ticket = _called_here(session, office, ticket_id, staff_id)
    ticket.called_at = now
    ticket.recalls += 1
    session.flush()
    return ticket


def finish(
    session: Session, office: Office, ticket_id: int, staff_id: int, outcome: str, now: dt.datetime
) -> QueueTicket:
    """The visit ends: ``done`` (served) or ``noshow`` (called, never came). A served appointment is fulfilled."""
    if outcome not in ("done", "noshow"):
        raise InvalidInput("A visit ends as done or noshow.")
    ticket = _called_here(session, office, ticket_id, staff_id)
    ticket.status, ticket.finished_at = outcome, now
    release_walk_in(session, ticket.id, now)
    if outcome == "done" and ticket.appointment_id is not None:
        appointment = session.get(Appointment, ticket.appointment_id)
        if appointment is not None and appointment.status == "checked-in":
            scheduling.set_status(session, appointment.code, "fulfilled", now)
    session.flush()
    return ticket


def transfer(
    session: Session, office: Office, ticket_id: int, staff_id: int, service_slug: str, now: dt.datetime
) -> QueueTicket:
    """Send the person on to another service: they wait again, in their original arrival order."""
    ticket = _called_here(session, office, ticket_id, staff_id)
    service = scheduling.get_service(session, office, service_slug)
    if service.id == ticket.service_id:
        raise InvalidInput("Choose another service than the one the ticket is for.")
    ticket.service_id = service.id
    ticket.status, ticket.staff_id, ticket.desk, ticket.called_at = "waiting", None, None, None
    release_walk_in(session, ticket.id, now)
    ticket.transfers += 1
    session.flush()
    return ticket


def at_desk(session: Session, office: Office, staff_id: int, now: dt.datetime) -> QueueTicket | None:
    found = repo.at_desk(session, office.id, _member(session, office, staff_id).id, office_today(office, now))
    return found[0] if found else None


def appointment_code(session: Session, ticket: QueueTicket) -> str | None:
    """The confirmation code of an appointment's ticket, formatted, for the clerk at the desk."""
    appointment = session.get(Appointment, ticket.appointment_id) if ticket.appointment_id is not None else None
    return scheduling.format_code(appointment.code) if appointment is not None else None


def open_name(ring: KeyRing, ticket: QueueTicket) -> str | None:
    """The walk-in's name or initials, unrecorded: staff read it through ``name_at_desk``."""
    return ring.open(ticket.name_enc, NAME_CONTEXT) if ticket.name_enc is not None else None


def name_at_desk(session: Session, ring: KeyRing, staff: Principal, ticket: QueueTicket,
                 now: dt.datetime, *, record_read: RecordRead) -> str | None:
    """The name or initials of the walk-in at the clerk's desk, if they gave one; the read is written to the
    access log first (``record_read``, purpose front_desk), so no staff member sees a name without a record."""
    if ticket.name_enc is None:
        return None
    record_read(session, staff, "queue_ticket", [ticket.id], "front_desk", now)
    return open_name(ring, ticket)


def front_desk_status(
    session: Session, code: str, status: str, now: dt.datetime, settings: QueueSettings
) -> Appointment:
    """A clerk's status change (check in, done, no-show), from the API or the console. Checking in a booked
    visit at the front desk also gives the person their place in the queue (an appointment ticket)."""
    appointment = scheduling.get_by_code(session, code)
    office = session.get(Office, appointment.office_id)
    if status == "checked-in" and appointment.status == "booked" and office is not None:
        check_in_appointment(session, office.slug, code, now, settings, by_clerk=True)
        return scheduling.get_by_code(session, code)
    return scheduling.set_status(session, code, status, now)


def take_ticket_once(
    session: Session, ring: KeyRing, office_slug: str, service_slug: str, language: str, name: str, once: str,
    now: dt.datetime, settings: QueueSettings = DEFAULTS,
) -> str:
    """A walk-in's ticket from the check-in page, by its token. The form's one-time value makes a double tap
    or a resent form answer with the same ticket instead of a second one (a new value, a new ticket)."""
    def run() -> tuple[int, dict[str, Any]]:
        ticket = check_in_walk_in(session, ring, office_slug, service_slug, language or None, name, now, settings)
        return 303, {"token": ticket.token}

    fields = {"service": service_slug, "language": language, "name": name, "office": office_slug}
    _, body, _ = run_once(session, "queue-form", once or None, request_hash(fields), now, run)
    return str(body["token"])
