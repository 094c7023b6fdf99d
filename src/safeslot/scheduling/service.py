"""Scheduling rules: slots, booking, managing by code, and the visit's status.

Every function takes the caller's session and never commits. Capacity is
taken with conditional UPDATEs (repository.take_slot / take_interpreter) in the
caller's transaction; when one fails the service raises, and the session
dependency's rollback undoes whatever part was already taken.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from safeslot.errors import InvalidInput
from safeslot.privacy.crypto import KeyRing, month_kid
from safeslot.scheduling import repository as repo
from safeslot.scheduling.errors import (
    AppointmentNotFound,
    ClosureTaken,
    HoursOverlap,
    InterpreterUnavailable,
    InvalidTransition,
    NoSuchSlot,
    OfficeItemNotFound,
    OfficeNotFound,
    ServiceNotFound,
    SlotFull,
    TimeOutOfRange,
)
from safeslot.scheduling.models import (
    STEP_MINUTES,
    Appointment,
    Closure,
    InterpreterCapacity,
    Office,
    Service,
    ServiceTranslation,
    SlotCapacity,
    Staff,
    WeeklyHours,
)
from safeslot.scheduling.schemas import BookingIn

BASE_LANGUAGE = "en"  # every office serves English without an interpreter
BOOKING_WINDOW = dt.timedelta(days=120)
SEARCH_WINDOW = dt.timedelta(days=62)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: unguessable, and short enough to read over the phone
STEP = dt.timedelta(minutes=STEP_MINUTES)

# FHIR Appointment.status transitions staff may make
STAFF_TRANSITIONS = {
    ("booked", "checked-in"),
    ("checked-in", "fulfilled"),
    ("booked", "noshow"),
}


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def valid_zone(name: str) -> str:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{name!r} is not an IANA time zone; use a name like America/New_York.") from exc
    return name


# -- confirmation codes ----------------------------------------------------------------------
def new_code() -> str:
    # 50 random bits, five per character (one urandom call: 10x cheaper than ten secrets.choice)
    bits = int.from_bytes(secrets.token_bytes(7), "big") >> (56 - 5 * CODE_LENGTH)
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """Crockford base32 reading rules: case-insensitive, I/L → 1, O → 0, hyphens and spaces ignored."""
    cleaned = text.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("ILO", "110"))


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


# -- lookups -----------------------------------------------------------------------------------
def get_office(session: Session, slug: str) -> Office:
    office = repo.office_by_slug(session, slug)
    if office is None:
        raise OfficeNotFound(f"No office is called {slug!r}. GET /api/v1/offices lists them.")
    return office


def get_service(session: Session, office: Office, slug: str) -> Service:
    service = repo.service_by_slug(session, office.id, slug)
    if service is None:
        raise ServiceNotFound(
            f"Office {office.slug!r} offers no service {slug!r}. GET /api/v1/offices/{office.slug} lists them."
        )
    return service


def list_offices(session: Session) -> Sequence[Office]:
    return repo.offices(session)


def list_services(session: Session, office: Office) -> Sequence[Service]:
    return repo.services(session, office.id)


def office_languages(session: Session, office: Office) -> list[str]:
    langs: set[str] = set()
    for member in repo.staff(session, office.id):
        langs.update(member.languages.split())
    return sorted(langs)


# -- slot materialisation ----------------------------------------------------------------------
def _local_to_utc(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime | None:
    """UTC instant of a local wall time; None when the time does not exist (spring-forward gap)."""
    local = dt.datetime.combine(day, at, tzinfo=tz)
    utc = local.astimezone(dt.UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return utc


def generate_slots(session: Session, office: Office, first: dt.date, last: dt.date) -> int:
    """Materialise capacity rows for local days [first, last]; returns rows written.

    Capacity of a service slot is the number of active staff who serve it;
    interpreter capacity for a language is the number who speak it. Existing
    rows keep their bookings: capacity never drops below ``booked``.
    """
    tz = zone(office.timezone)
    members = repo.staff(session, office.id)
    services = repo.services(session, office.id)
    week = repo.hours(session, office.id)
    closed = {c.day for c in repo.closures(session, office.id, first, last)}
    service_capacity = {s.id: sum(1 for m in members if s.slug in m.services.split()) for s in services}
    languages: dict[str, int] = {}
    for m in members:
        for lang in set(m.languages.split()) - {BASE_LANGUAGE}:
            languages[lang] = languages.get(lang, 0) + 1

    lo = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    slots = repo.existing_slot_starts(session, office.id, lo, hi)
    steps = repo.existing_interpreter_steps(session, office.id, lo, hi)
    wanted_slots: dict[tuple[int, dt.datetime], int] = {}
    wanted_steps: dict[tuple[str, dt.datetime], int] = {}
    day = first
    while day <= last:
        if day not in closed:
            for h in (h for h in week if h.weekday == day.weekday()):
                _plan_window(day, h, tz, services, service_capacity, languages, wanted_slots, wanted_steps)
        day += dt.timedelta(days=1)

    written = 0
    for (service_id, start), cap in wanted_slots.items():
        existing = slots.get((service_id, start))
        if existing is None:
            session.add(
                SlotCapacity(office_id=office.id, service_id=service_id, starts_at=start, capacity=cap, booked=0)
            )
            written += 1
        elif existing.capacity != max(cap, existing.booked):
            existing.capacity = max(cap, existing.booked)
            written += 1
    for key, row in slots.items():  # closed or removed: no new bookings, existing ones kept
        if key not in wanted_slots and row.capacity != row.booked:
            row.capacity = row.booked
            written += 1
    for (lang, start), cap in wanted_steps.items():
        step = steps.get((lang, start))
        if step is None:
            session.add(
                InterpreterCapacity(office_id=office.id, language=lang, starts_at=start, capacity=cap, booked=0)
            )
            written += 1
        elif step.capacity != max(cap, step.booked):
            step.capacity = max(cap, step.booked)
            written += 1
    for step_key, step in steps.items():
        if step_key not in wanted_steps and step.capacity != step.booked:
            step.capacity = step.booked
            written += 1
    session.flush()
    return written


def _plan_window(
    day: dt.date,
    hours: WeeklyHours,
    tz: ZoneInfo,
    services: Sequence[Service],
    service_capacity: dict[int, int],
    languages: dict[str, int],
    wanted_slots: dict[tuple[int, dt.datetime], int],
    wanted_steps: dict[tuple[str, dt.datetime], int],
) -> None:
    opens = dt.datetime.combine(day, hours.opens)
    closes = dt.datetime.combine(day, hours.closes)
    for service in services:
        if not service_capacity[service.id]:
            continue
        length = dt.timedelta(minutes=service.duration_minutes)
        at = opens
        while at + length <= closes:
            utc = _local_to_utc(day, at.time(), tz)
            if utc is not None:
                wanted_slots[(service.id, utc)] = service_capacity[service.id]
            at += length
    at = opens
    while at < closes:
        utc = _local_to_utc(day, at.time(), tz)
        if utc is not None:
            for lang, cap in languages.items():
                wanted_steps[(lang, utc)] = cap
        at += STEP


# -- search ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FreeSlot:
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime
    available: int


def _interpreter_language(language: str | None) -> str | None:
    if language is None or language.split("-")[0] == BASE_LANGUAGE:
        return None
    return language.split("-")[0]


def _with_interpreter(
    session: Session,
    office: Office,
    service: Service,
    rows: Sequence[tuple[int, dt.datetime, int]],
    language: str | None,
) -> list[FreeSlot]:
    length = dt.timedelta(minutes=service.duration_minutes)
    if language is None or not rows:
        return [FreeSlot(start, start + length, free) for _, start, free in rows]
    free_steps = repo.interpreter_free(session, office.id, language, rows[0][1], rows[-1][1] + length)
    needed = service.duration_minutes // STEP_MINUTES
    out = []
    for _, start, free in rows:
        counts = [free_steps.get(start + STEP * i, 0) for i in range(needed)]
        if min(counts) > 0:
            out.append(FreeSlot(start, start + length, min(free, *counts)))
    return out


def search_slots(
    session: Session,
    office_slug: str,
    service_slug: str,
    start: dt.date,
    end: dt.date,
    language: str | None,
    now: dt.datetime,
) -> tuple[Office, Service, list[FreeSlot]]:
    """Free slots between local dates [start, end], with an interpreter when a language needs one."""
    office = get_office(session, office_slug)
    service = get_service(session, office, service_slug)
    if end < start:
        raise InvalidInput("'to' is before 'from'; give the first day, then the last day.")
    if end - start > SEARCH_WINDOW:
        raise InvalidInput(f"Search at most {SEARCH_WINDOW.days} days at a time.")
    if start > (now + BOOKING_WINDOW).date():
        raise TimeOutOfRange(f"Appointments open {BOOKING_WINDOW.days} days ahead. Search an earlier range.")
    if end < (now - dt.timedelta(days=1)).date():
        raise TimeOutOfRange("Those days have passed. Search for slots from today on.")
    tz = zone(office.timezone)
    lo = max(dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC), now + dt.timedelta(seconds=1))
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    rows = repo.free_slots(session, service.id, lo, hi)
    return office, service, _with_interpreter(session, office, service, rows, _interpreter_language(language))


def nearest_free(
    session: Session, office: Office, service: Service, around: dt.datetime, language: str | None, now: dt.datetime
) -> list[FreeSlot]:
    """The three free slots nearest to ``around`` (within two weeks either side, never in the past)."""
    horizon = dt.timedelta(days=14)
    lang = _interpreter_language(language)
    after = repo.free_slots(session, service.id, around + dt.timedelta(seconds=1), around + horizon, limit=40)
    before = repo.free_slots_before(session, service.id, around, max(now, around - horizon), limit=40)
    candidates = _with_interpreter(session, office, service, sorted([*before, *after], key=lambda r: r[1]), lang)
    candidates.sort(key=lambda s: abs((s.starts_at - around).total_seconds()))
    return sorted(candidates[:3], key=lambda s: s.starts_at)


# -- booking -----------------------------------------------------------------------------------
def _check_window(start: dt.datetime, now: dt.datetime) -> None:
    # Compares aware times in any zone; callers convert to UTC only after this check,
    # so a year like 9999 is refused here instead of overflowing.
    if start <= now:
        raise TimeOutOfRange("That time has passed. Search for slots from today on.")
    if start > now + BOOKING_WINDOW:
        raise TimeOutOfRange(f"Appointments open {BOOKING_WINDOW.days} days ahead. Choose an earlier day.")


def _alternatives(slots: list[FreeSlot], office: Office) -> list[str]:
    tz = zone(office.timezone)
    return [s.starts_at.astimezone(tz).isoformat() for s in slots]


def _take(
    session: Session, office: Office, service: Service, start: dt.datetime, language: str | None, now: dt.datetime
) -> SlotCapacity:
    """Take a place at ``start`` (and an interpreter), or raise with the nearest alternatives."""
    slot = repo.slot_at(session, service.id, start)
    if slot is None:
        near = nearest_free(session, office, service, start, language, now)
        raise NoSuchSlot(
            "No appointment starts at that time. Pick one of the nearest free times, or search slots.",
            nearest=_alternatives(near, office),
        )
    if not repo.take_slot(session, slot.id):
        near = nearest_free(session, office, service, start, language, now)
        raise SlotFull("Someone took the last place at that time. Pick one of the nearest free times.",
                       nearest=_alternatives(near, office))
    lang = _interpreter_language(language)
    if lang is not None:
        end = start + dt.timedelta(minutes=service.duration_minutes)
        steps = service.duration_minutes // STEP_MINUTES
        if not repo.take_interpreter(session, office.id, lang, start, end, steps):
            near = nearest_free(session, office, service, start, language, now)
            raise InterpreterUnavailable(
                f"No {lang} interpreter is free at that time. Pick one of the nearest times with an interpreter.",
                nearest=_alternatives(near, office),
            )
    return slot


def book(session: Session, ring: KeyRing, data: BookingIn, now: dt.datetime) -> Appointment:
    office = get_office(session, data.office)
    service = get_service(session, office, data.service)
    _check_window(data.starts_at, now)
    start = data.starts_at.astimezone(dt.UTC)
    if data.contact is not None and not data.reminders_opt_in:
        # Collect the minimum (invariant 3): a contact is kept only for reminders the person asked for.
        raise InvalidInput("A contact is kept only for reminders: set reminders_opt_in to true, or leave it out.")
    slot = _take(session, office, service, start, data.language, now)
    month = data_key_month(start)
    appointment = Appointment(
        code=new_code(),
        office_id=office.id,
        service_id=service.id,
        slot_id=slot.id,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=service.duration_minutes),
        status="booked",
        language=data.language,
        name_enc=ring.seal(data.name, "appointment.name", month),
        name_index=ring.blind_index(data.name),
        accommodation_enc=(
            ring.seal(data.accommodation, "appointment.accommodation", month) if data.accommodation else None
        ),
        contact_enc=(
            ring.seal(f"{data.contact.kind.value}:{data.contact.value}", "appointment.contact", month)
            if data.contact
            else None
        ),
        reminders_opt_in=data.reminders_opt_in,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    session.flush()
    return appointment


def get_by_code(session: Session, code: str, *, for_update: bool = False) -> Appointment:
    appointment = repo.appointment_by_code(session, normalise_code(code), for_update=for_update)
    if appointment is None:
        raise AppointmentNotFound("Check the code on your confirmation; it has ten letters and digits.")
    return appointment


def _release(session: Session, appointment: Appointment) -> None:
    repo.release_slot(session, appointment.slot_id)
    lang = _interpreter_language(appointment.language)
    if lang is not None:
        repo.release_interpreter(session, appointment.office_id, lang, appointment.starts_at, appointment.ends_at)


def data_key_month(start: dt.datetime) -> str:
    """The month whose data key seals an appointment's values: its start's month in UTC, as retention counts it."""
    return start.astimezone(dt.UTC).strftime("%Y-%m")


SEALED_COLUMNS = (("name_enc", "appointment.name"), ("accommodation_enc", "appointment.accommodation"),
                  ("contact_enc", "appointment.contact"))


def _reseal_for_month(ring: KeyRing, appointment: Appointment) -> None:
    """A moved appointment's values follow it to the data key of its new month."""
    month = data_key_month(appointment.starts_at)
    for attr, context in SEALED_COLUMNS:
        value = getattr(appointment, attr)
        if value is not None and ring.key_id_of(value) != month_kid(month):
            setattr(appointment, attr, ring.seal(ring.open(value, context), context, month))


def reschedule(session: Session, ring: KeyRing, code: str, starts_at: dt.datetime, now: dt.datetime) -> Appointment:
    appointment = get_by_code(session, code, for_update=True)
    if appointment.status != "booked":
        raise InvalidTransition(f"A {appointment.status} appointment cannot be moved. Book a new one instead.")
    if starts_at == appointment.starts_at:
        return appointment
    _check_window(starts_at, now)
    start = starts_at.astimezone(dt.UTC)
    office = session.get(Office, appointment.office_id)
    service = session.get(Service, appointment.service_id)
    assert office is not None and service is not None
    slot = _take(session, office, service, start, appointment.language, now)
    _release(session, appointment)
    appointment.slot_id = slot.id
    appointment.starts_at = start
    appointment.ends_at = start + dt.timedelta(minutes=service.duration_minutes)
    appointment.sequence += 1
    appointment.updated_at = now
    _reseal_for_month(ring, appointment)
    session.flush()
    return appointment


def cancel(session: Session, code: str, now: dt.datetime) -> Appointment:
    appointment = get_by_code(session, code, for_update=True)
    if appointment.status == "cancelled":
        return appointment  # a repeated cancel is a retry, not an error
    if appointment.status != "booked":
        raise InvalidTransition(f"A {appointment.status} appointment cannot be cancelled.")
    _release(session, appointment)
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
    appointment.status = status
    appointment.updated_at = now
    session.flush()
    return appointment


# -- administration ------------------------------------------------------------------------------
def add_office(session: Session, slug: str, name: str, address: str, timezone: str) -> Office:
    if repo.office_by_slug(session, slug) is not None:
        raise InvalidInput(f"An office called {slug!r} exists already; choose another slug.")
    office = Office(slug=slug, name=name, address=address, timezone=valid_zone(timezone))
    session.add(office)
    session.flush()
    return office


def add_service(
    session: Session, office: Office, slug: str, name: str, description: str, minutes: int,
    translations: Mapping[str, tuple[str, str]] | None = None,
) -> Service:
    """A service, named in English, with its name and description in other languages if given."""
    if minutes <= 0 or minutes % STEP_MINUTES:
        raise InvalidInput(f"A service lasts a multiple of {STEP_MINUTES} minutes.")
    if repo.service_by_slug(session, office.id, slug) is not None:
        raise InvalidInput(f"Office {office.slug!r} already has a service {slug!r}.")
    service = Service(office_id=office.id, slug=slug, name=name, description=description, duration_minutes=minutes)
    session.add(service)
    session.flush()
    for language, (t_name, t_description) in (translations or {}).items():
        set_service_text(session, office, slug, language, t_name, t_description)
    return service


def set_service_text(
    session: Session, office: Office, slug: str, language: str, name: str, description: str
) -> ServiceTranslation:
    """Write (or rewrite) a service's name and description in another language than English."""
    if language == BASE_LANGUAGE:
        raise InvalidInput("The English name is the service's own name; give another language, such as es.")
    service = get_service(session, office, slug)
    row = session.get(ServiceTranslation, (service.id, language))
    if row is None:
        row = ServiceTranslation(service_id=service.id, language=language, name=name, description=description)
        service.translations.append(row)
    else:
        row.name, row.description = name, description
    session.flush()
    return row


def add_staff(session: Session, office: Office, display_name: str, languages: list[str], services: list[str]) -> Staff:
    known = {s.slug for s in repo.services(session, office.id)}
    unknown = sorted(set(services) - known)
    if unknown:
        raise InvalidInput(f"Office {office.slug!r} has no service {', '.join(unknown)}; add the service first.")
    member = Staff(
        office_id=office.id,
        display_name=display_name,
        languages=" ".join(sorted(set(languages))),
        services=" ".join(sorted(set(services))),
        active=True,
    )
    session.add(member)
    session.flush()
    return member


def set_hours(session: Session, office: Office, weekday: int, opens: dt.time, closes: dt.time) -> WeeklyHours:
    """One more opening window on a weekday; windows of one weekday may not overlap."""
    if not opens < closes:
        raise InvalidInput("Opening time must be before closing time.")
    for h in repo.hours(session, office.id):
        if h.weekday == weekday and opens < h.closes and h.opens < closes:
            raise HoursOverlap(
                f"The office is already open {h.opens:%H:%M}-{h.closes:%H:%M} that weekday; "
                "choose a window that does not overlap it."
            )
    row = WeeklyHours(office_id=office.id, weekday=weekday, opens=opens, closes=closes)
    session.add(row)
    session.flush()
    return row


Item = TypeVar("Item", WeeklyHours, Closure, Staff)


def office_item(session: Session, model: type[Item], item_id: int, office: Office, what: str) -> Item:
    """An office's opening window, closure or staff member by id; another office's is as good as none."""
    row = session.get(model, item_id)
    if row is None or row.office_id != office.id:
        raise OfficeItemNotFound(f"This office has no such {what}; reload the office page.")
    return row


def remove_hours(session: Session, office: Office, hours_id: int) -> WeeklyHours:
    """Take an opening window away; the caller re-materialises slots (bookings already made stay)."""
    row = office_item(session, WeeklyHours, hours_id, office, "opening window")
    session.delete(row)
    session.flush()
    return row


def add_closure(session: Session, office: Office, day: dt.date, reason: str, today: dt.date) -> Closure:
    """Close the office for a day (office local): its slots leave search; appointments already booked stay."""
    if day < today:
        raise InvalidInput("That day is in the past; give today or a later day.")
    if repo.closures(session, office.id, day, day):
        raise ClosureTaken(f"The office is already closed on {day.isoformat()}.")
    row = Closure(office_id=office.id, day=day, reason=reason)
    session.add(row)
    session.flush()
    generate_slots(session, office, day, day)
    return row


def remove_closure(session: Session, office: Office, closure_id: int) -> Closure:
    """Open a closed day again: its slots come back (with the bookings they kept)."""
    row = office_item(session, Closure, closure_id, office, "closure")
    session.delete(row)
    session.flush()
    generate_slots(session, office, row.day, row.day)
    return row


def update_staff(
    session: Session, office: Office, staff_id: int, *, languages: list[str] | None = None,
    services: list[str] | None = None, active: bool | None = None,
) -> Staff:
    """Change what a staff member speaks or serves, or whether they still work here; the caller
    re-materialises slots (capacity follows, never below what is booked)."""
    member = office_item(session, Staff, staff_id, office, "staff member")
    if services is not None:
        unknown = sorted(set(services) - {s.slug for s in repo.services(session, office.id)})
        if unknown:
            raise InvalidInput(f"Office {office.slug!r} has no service {', '.join(unknown)}; add the service first.")
        member.services = " ".join(sorted(set(services)))
    if languages is not None:
        member.languages = " ".join(sorted(set(languages)))
    if active is not None:
        member.active = active
    session.flush()
    return member


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
    from sqlalchemy import select

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
