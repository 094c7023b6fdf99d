"""The booking plan: everything a booking is, computed by one pure function.

``plan_booking`` checks the request against the rules (booking window, the
contact rule), and computes the confirmation code, the times and 15-minute
units, the locks, the assignment request (who may serve, who may interpret,
in preference order), the sealed values and the answer body. It reads no
database: its caller passes the office, the service and the people.

Both booking paths execute a plan: ``booking.execute`` (SQLAlchemy, SQLite and
PostgreSQL) and the PostgreSQL fast path (``fastsql.BOOK_SQL``, one statement).
A rule added here is a rule of both; tests/scheduling/test_plan.py sends the same
requests down both paths and compares the answers and the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson

from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling.assignment import Candidates, Person, candidates
from safeslot.scheduling.duty import LocalVisit, local_visit
from safeslot.scheduling.errors import InterpreterUnavailable, NoSuchSlot, SlotFull
from safeslot.scheduling.rules import check_window, data_key_month, format_code, lock_keys, units, zone
from safeslot.scheduling.schemas import BookingIn


@dataclass(frozen=True, slots=True)
class OfficeFacts:
    id: int
    slug: str
    timezone: str


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    id: int
    slug: str
    minutes: int


@dataclass(frozen=True, slots=True)
class BookingPlan:
    code: str
    office: OfficeFacts
    service: ServiceFacts
    start: dt.datetime  # UTC
    end: dt.datetime
    units: tuple[dt.datetime, ...]
    local: LocalVisit  # office local day and times: the people's working hours are checked against it
    lock_keys: tuple[int, ...]
    language: str | None
    candidates: Candidates
    name_enc: bytes
    name_index: str
    accommodation_enc: bytes | None
    contact_enc: bytes | None
    reminders_opt_in: bool
    now: dt.datetime
    answer: bytes  # the 201 body (AppointmentOut's JSON), stored for Idempotency-Key replays


def plan_booking(
    data: BookingIn, office: OfficeFacts, service: ServiceFacts, people: list[Person], now: dt.datetime,
    code: str, ring: KeyRing, *, seal: bool = True, prepared: Candidates | None = None,
) -> BookingPlan:
    """The plan of one booking, or the DomainError that refuses it before any database work.

    ``prepared``: ``assignment.candidates(people, service.slug, data.language)`` computed earlier
    (the fast path keeps them with its cache of the office's people)."""
    check_window(data.starts_at, now)
    if data.contact is not None and not data.reminders_opt_in:
        # Collect the minimum: a contact is kept only for reminders the person asked for.
        raise InvalidInput("A contact is kept only for reminders: set reminders_opt_in to true, or leave it out.")
    start = data.starts_at.astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=service.minutes)
    tz = zone(office.timezone)
    contact = f"{data.contact.kind.value}:{data.contact.value}" if data.contact else None
    if seal:  # under the visit month's data key (retention drops the month's key later)
        month = data_key_month(start)
        name_enc = ring.seal(data.name, "appointment.name", month)
        accommodation = (
            ring.seal(data.accommodation, "appointment.accommodation", month) if data.accommodation else None
        )
        contact_enc = ring.seal(contact, "appointment.contact", month) if contact else None
    else:  # bench only (fastpath.PLAINTEXT_FLAG): the same values, unsealed
        name_enc = data.name.encode()
        accommodation = data.accommodation.encode() if data.accommodation else None
        contact_enc = contact.encode() if contact else None
    answer = answer_json(code, office.slug, service.slug, start.astimezone(tz), end.astimezone(tz), data.language,
                         data.reminders_opt_in)
    return BookingPlan(
        code=code, office=office, service=service, start=start, end=end, units=units(start, end),
        local=local_visit(start, end, tz), lock_keys=lock_keys(office.id, start, end), language=data.language,
        candidates=prepared if prepared is not None else candidates(people, service.slug, data.language),
        name_enc=name_enc, name_index=ring.blind_index(data.name), accommodation_enc=accommodation,
        contact_enc=contact_enc, reminders_opt_in=data.reminders_opt_in, now=now, answer=answer,
    )


def answer_json(code: str, office: str, service: str, starts_at: dt.datetime, ends_at: dt.datetime,
                language: str | None, reminders_opt_in: bool) -> bytes:
    """The 201 body of a new booking: the bytes ``AppointmentOut(...).model_dump(mode="json")`` serialises
    to (its field order; RFC 3339 times with ``Z`` for a zero offset, as pydantic writes them), built
    directly by orjson: a model, its validation and its dump cost more than the rest of the plan's answer
    work. ``tests/scheduling/test_plan.py`` checks the bytes against the model's over many zones and times."""
    return orjson.dumps({
        "code": format_code(code), "status": "booked", "office": office, "service": service,
        "starts_at": starts_at, "ends_at": ends_at, "language": language, "reminders_opt_in": reminders_opt_in,
        "sequence": 0,
    }, option=orjson.OPT_UTC_Z)


# -- refusals: the same words on both paths ----------------------------------------------------------
def no_such_slot(nearest: list[str]) -> NoSuchSlot:
    return NoSuchSlot("No appointment starts at that time. Pick one of the nearest free times, or search slots.",
                      nearest=nearest)


def slot_full(nearest: list[str]) -> SlotFull:
    return SlotFull("Someone took the last place at that time. Pick one of the nearest free times.",
                    nearest=nearest)


def interpreter_unavailable(language: str, nearest: list[str]) -> InterpreterUnavailable:
    return InterpreterUnavailable(
        f"No {language} interpreter is free at that time. Pick one of the nearest times with an interpreter.",
        nearest=nearest,
    )
