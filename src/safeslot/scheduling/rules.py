"""Scheduling rules that need no database: time zones, windows, codes, units and the assignment locks."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling.errors import TimeOutOfRange
from safeslot.scheduling.models import STEP_MINUTES

BASE_LANGUAGE = "en"  # every office serves English without an interpreter
BOOKING_WINDOW = dt.timedelta(days=120)
SEARCH_WINDOW = dt.timedelta(days=62)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: unguessable, and short enough to read over the phone
STEP = dt.timedelta(minutes=STEP_MINUTES)
# Namespace of the transaction-level advisory locks that serialise assignment per office and hour.
LOCK_NAMESPACE = 0x5A5
# Past this many hours of one office, a writer takes the office's staff lock exclusively instead of its hour
# locks (``lock_order``); the staff_hold trigger applies the same bound (migration 0520).
MAX_HOUR_LOCKS = 64

# FHIR Appointment.status transitions staff may make
STAFF_TRANSITIONS = {
    ("booked", "checked-in"),
    ("checked-in", "fulfilled"),
    ("booked", "noshow"),
}
# Statuses in which an appointment holds its people (a visit that is still to come or under way).
HOLDING = ("booked", "checked-in")


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


# -- time ----------------------------------------------------------------------------------------
def local_to_utc(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime | None:
    """UTC instant of a local wall time; None when the time does not exist (spring-forward gap)."""
    local = dt.datetime.combine(day, at, tzinfo=tz)
    utc = local.astimezone(dt.UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return utc


def check_window(start: dt.datetime, now: dt.datetime) -> None:
    # Compares aware times in any zone; callers convert to UTC only after this check,
    # so a year like 9999 is refused here instead of overflowing.
    if start <= now:
        raise TimeOutOfRange("That time has passed. Search for slots from today on.")
    if start > now + BOOKING_WINDOW:
        raise TimeOutOfRange(f"Appointments open {BOOKING_WINDOW.days} days ahead. Choose an earlier day.")


def units(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, ...]:
    """The 15-minute units a visit [start, end) holds its people for."""
    count = int((end - start) / STEP)
    return tuple(start + STEP * i for i in range(count))


def lock_keys(office_id: int, start: dt.datetime, end: dt.datetime) -> tuple[int, ...]:
    """The advisory locks a visit [start, end) at an office takes: one per UTC hour it touches.

    Every writer that assigns people (booking on both paths, rescheduling, reassignment after
    a staff change) takes the locks of its visits, all in ascending key order, before it reads
    who is free. Two visits that overlap touch at least one hour in common, so they are never
    assigned at the same time: a read of free people is never stale, nobody retries, and
    batches from several workers cannot deadlock. Visits that do not overlap mostly share no
    lock, so they do not wait for each other.
    """
    base = office_lock_key(office_id)
    first = int(start.timestamp()) // 3600
    last = (int(end.timestamp()) - 1) // 3600
    return tuple(base | (hour & 0xFFFFF) for hour in range(first, last + 1))


def office_lock_key(office_id: int) -> int:
    """The office's staff lock: every assignment takes it shared before its hour locks
    (``repository.take_locks``), a staff change takes it exclusive before it reads the visits to
    re-check (``repository.lock_staff``). So a booking either commits before a staff change reads its
    office's visits (and is re-checked by it), or reads the people after the change committed.

    It is the office's hour-lock base with hour 0: it sorts before every hour lock of its office
    (hour 0 is 1970, never a visit), so all locks are still taken in one ascending order.
    """
    return (LOCK_NAMESPACE << 48) | ((office_id & 0xFFFFFFF) << 20)


def office_of_lock(key: int) -> int:
    """The office staff lock (``office_lock_key``) that goes with an hour lock."""
    return key & ~0xFFFFF


def lock_order(keys: Iterable[int]) -> list[tuple[int, bool]]:
    """The locks a writer takes for these hour locks (``lock_keys``), in the one global order, as
    (key, exclusive): every office staff lock ascending, then every hour lock ascending.

    An office staff lock is shared, unless the writer touches more than ``MAX_HOUR_LOCKS`` hours of
    that office: then it is exclusive and replaces that office's hour locks (every assignment takes
    its office's lock shared before its hours, so the exclusive one alone keeps them all out, and a
    year of holds does not fill PostgreSQL's shared lock table). The ``staff_hold`` trigger refuses a
    statement over more hours than that whose transaction cannot have its office exclusively at once
    (migration 0520), so a bulk writer that skipped this never runs beside a booking.
    """
    by_office: dict[int, set[int]] = {}
    for key in keys:
        by_office.setdefault(office_of_lock(key), set()).add(key)
    offices = sorted(by_office)
    whole = {o for o in offices if len(by_office[o]) > MAX_HOUR_LOCKS}
    hours = sorted(k for o in offices if o not in whole for k in by_office[o])
    return [(o, o in whole) for o in offices] + [(k, True) for k in hours]


def interpreter_language(language: str | None) -> str | None:
    """The language an interpreter is needed for (its primary subtag), or None for English or no language."""
    if language is None or language.split("-")[0] == BASE_LANGUAGE:
        return None
    return language.split("-")[0]


def data_key_month(start: dt.datetime) -> str:
    """The month whose data key seals an appointment's values: its start's month in UTC, as retention counts it."""
    utc = start.astimezone(dt.UTC)
    return f"{utc.year:04d}-{utc.month:02d}"  # strftime("%Y-%m"), a few times cheaper (once per booking)


SEALED_COLUMNS = (("name_enc", "appointment.name"), ("accommodation_enc", "appointment.accommodation"),
                  ("contact_enc", "appointment.contact"))
