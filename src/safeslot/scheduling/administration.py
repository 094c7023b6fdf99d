"""Running an office: its services, staff, opening hours and closures, and keeping bookings valid
when staff change (reassignment, and the list of visits no one can serve)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import repository as repo
from safeslot.scheduling.assignment import Person, candidates, choose, hold, people_of
from safeslot.scheduling.duty import local_visit, off_duty
from safeslot.scheduling.errors import ClosureTaken, HoursOverlap, OfficeNotFound
from safeslot.scheduling.models import (
    STEP_MINUTES,
    Appointment,
    Closure,
    Office,
    Service,
    ServiceTranslation,
    Staff,
    WeeklyHours,
)
from safeslot.scheduling.offices import get_service, office_item, unknown_office
from safeslot.scheduling.rules import BASE_LANGUAGE, format_code, interpreter_language, lock_keys, valid_zone, zone
from safeslot.scheduling.slots import generate_slots

if TYPE_CHECKING:
    from safeslot.identity.interfaces import Principal


class RecordRead(Protocol):
    """Writes to the access log that ``staff`` read these records, and why: privacy's ``service.record_access``.

    Scheduling's reads of a name (the supervisor's people to contact, the walk-in at a desk) take it as an
    argument, so no name is opened without a record, and scheduling, which privacy reads, imports nothing of
    privacy: app.py hands it to scheduling's endpoints, and the console passes it from privacy's service.
    """

    def __call__(self, session: Session, staff: Principal, record_type: str, record_ids: Sequence[str | int],
                 purpose: str, now: dt.datetime) -> object: ...


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


# -- staff changes keep bookings valid ----------------------------------------------------------------
@dataclass
class Reassignment:
    """What a staff change did to the visits still to come."""

    moved: list[Appointment] = field(default_factory=list)  # now served (or interpreted) by someone else
    unassigned: list[Appointment] = field(default_factory=list)  # no one qualified is free: contact the person


def update_staff(
    session: Session, office: Office, staff_id: int, *, now: dt.datetime, languages: list[str] | None = None,
    services: list[str] | None = None, active: bool | None = None,
) -> Staff:
    """Change what a staff member speaks or serves, or whether they still work here.

    The visits still to come (after ``now``) that this person can no longer serve or interpret are handed
    to another qualified free person, or listed for the supervisor (``reassign``); ``now`` is required so
    that no change can skip this. The caller re-materialises slots. ``update_staff_and_reassign`` returns
    what was moved.
    """
    return update_staff_and_reassign(session, office, staff_id, languages=languages, services=services,
                                     active=active, now=now)[0]


def update_staff_and_reassign(
    session: Session, office: Office, staff_id: int, *, now: dt.datetime, languages: list[str] | None = None,
    services: list[str] | None = None, active: bool | None = None,
) -> tuple[Staff, Reassignment]:
    member = office_item(session, Staff, staff_id, office, "staff member")
    repo.lock_staff(session, office.id)  # before the change: no booking reads the people half-changed
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
    return member, reassign(session, office, now, [member.id])


def _still_valid(a: Appointment, slug: str, people: Mapping[int, Person], off: Collection[int]) -> bool:
    """Its server still serves the service and works then; its interpreter (if it needs one) likewise."""
    server = people.get(a.staff_id) if a.staff_id is not None else None
    if server is None or slug not in server.services or server.id in off:
        return False
    lang = interpreter_language(a.language)
    if lang is None or lang in server.languages:
        return True
    interpreter = people.get(a.interpreter_id) if a.interpreter_id is not None else None
    return interpreter is not None and lang in interpreter.languages and interpreter.id not in off


def reassign(
    session: Session, office: Office, now: dt.datetime, staff_ids: Collection[int] | None = None
) -> Reassignment:
    """Visits still to come whose people can no longer serve them (``staff_ids``' visits, and those
    no one serves; every visit when None) go to another qualified free person, in time order.

    Those no one can take keep no one (their holds are released, so nobody is overbooked)
    and are listed by ``unassigned`` for the supervisor, who contacts the person.
    """
    done = Reassignment()
    # Bookings in flight at the office commit first, later ones read the people as changed (rules.office_lock_key).
    repo.lock_staff(session, office.id)
    appointments = repo.holding_appointments(session, office.id, now, staff_ids)
    if not appointments:
        return done
    repo.take_locks(session, [k for a in appointments for k in lock_keys(office.id, a.starts_at, a.ends_at)])
    people = people_of(session, office.id)
    by_id = {p.id: p for p in people}
    slugs = {s.id: s.slug for s in repo.services(session, office.id)}
    tz = zone(office.timezone)
    duties = repo.duties(session, office.id, appointments[0].starts_at.astimezone(tz).date(),
                         max(a.ends_at for a in appointments).astimezone(tz).date())
    for a in appointments:
        slug = slugs[a.service_id]
        off = off_duty(duties, by_id, local_visit(a.starts_at, a.ends_at, tz))  # their hours or an absence
        if _still_valid(a, slug, by_id, off):
            continue
        repo.release_holds(session, a.id)
        busy = repo.busy_staff(session, office.id, a.starts_at, a.ends_at) | off
        c = candidates(people, slug, a.language)
        keep = a.staff_id if a.staff_id in c.servers else None
        chosen: tuple[int, int | None] | None = None
        if keep is not None and keep not in busy:  # the server still can: only the interpreter changes
            if c.speaks[c.servers.index(keep)]:
                chosen = (keep, None)
            else:
                interpreter = next((i for i in c.interpreters if i not in busy), None)
                chosen = (keep, interpreter) if interpreter is not None else None
        if chosen is None:
            chosen = choose(c, busy)
        if chosen is None:
            a.staff_id = a.interpreter_id = None
            done.unassigned.append(a)
            continue
        a.staff_id, a.interpreter_id = chosen
        hold(session, office.id, a.id, a.starts_at, a.ends_at, chosen[0], chosen[1])
        done.moved.append(a)
    session.flush()
    return done


def unassigned(session: Session, office: Office, now: dt.datetime) -> Sequence[Appointment]:
    """Visits still to come that no one serves (their staff left or changed and no one else was free)."""
    return [a for a in repo.holding_appointments(session, office.id, now, staff_ids=()) if a.staff_id is None]


@dataclass(frozen=True, slots=True)
class PersonToContact:
    """An unassigned visit as its office's supervisor sees it: who to call or write to, and about what."""

    code: str
    starts_at: dt.datetime  # office local time
    ends_at: dt.datetime
    service: str  # slug
    language: str | None
    name: str
    contact: str | None  # "phone:…" or "email:…", when the person gave one (for reminders)


def people_to_contact(
    session: Session, ring: KeyRing, supervisor: Principal, office: Office, now: dt.datetime, *,
    record_read: RecordRead,
) -> list[PersonToContact]:
    """The unassigned visits with the people's names and contacts, for the office's supervisor only;
    each person read is written to the access log first (``record_read``, purpose front_desk)."""
    if not supervisor.covers(office.id):
        raise OfficeNotFound(unknown_office(office.slug))
    rows = unassigned(session, office, now)
    record_read(session, supervisor, "appointment", [a.id for a in rows], "front_desk", now)
    tz = zone(office.timezone)
    slugs = {s.id: s.slug for s in repo.services(session, office.id)}
    return [
        PersonToContact(
            code=format_code(a.code), starts_at=a.starts_at.astimezone(tz), ends_at=a.ends_at.astimezone(tz),
            service=slugs.get(a.service_id, ""), language=a.language, name=ring.open(a.name_enc, "appointment.name"),
            contact=ring.open(a.contact_enc, "appointment.contact") if a.contact_enc else None,
        )
        for a in rows
    ]


REOPEN_HORIZON = dt.timedelta(weeks=8)  # slots are (re)opened at least this far ahead after a change


def reopen_slots(session: Session, office: Office, now: dt.datetime) -> None:
    """After a change to services, staff, hours or closures: re-materialise the office's slots from today
    (office local) to the later of the horizon and the last slot already open, so the change applies to
    every bookable day at once. Bookings already made stay (capacity never drops below what is booked)."""
    tz = zone(office.timezone)
    today = now.astimezone(tz).date()
    last = today + REOPEN_HORIZON
    last_start = repo.last_slot_start(session, office.id)
    if last_start is not None:
        last = max(last, last_start.astimezone(tz).date())
    generate_slots(session, office, today, last)
