"""Who serves a visit: choosing a free qualified staff member and, when needed, an interpreter.

The choice itself is pure (``candidates``, ``choose``, ``count_free``): the sync
path, the PostgreSQL fast path's SQL (fastsql.BOOK_SQL) and the slot search all
follow it. The database functions at the end read who is free and hold people;
callers take the visit's locks (rules.lock_keys, repository.take_locks) first.

Preference, so that the people who can do the most stay free longest:
- servers: one who speaks the visit's language first (no interpreter needed),
  then the one who serves the fewest services, then the lowest id;
- interpreters: any active staff member who speaks the language, those who do
  not serve this service first, then the fewest services, then the lowest id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.duty import local_visit
from safeslot.scheduling.models import STEP_MINUTES, Office, Staff
from safeslot.scheduling.rules import interpreter_language, lock_keys, units, zone


@dataclass(frozen=True, slots=True)
class Person:
    """What assignment needs to know about a staff member."""

    id: int
    languages: frozenset[str]
    services: frozenset[str]


def person(member: Staff) -> Person:
    return Person(member.id, frozenset(member.languages.split()), frozenset(member.services.split()))


@dataclass(frozen=True, slots=True)
class Candidates:
    """An assignment request: who may serve (in preference order) and who may interpret."""

    service: str
    language: str | None  # the interpreter language asked for; None: none needed
    servers: tuple[int, ...]
    speaks: tuple[bool, ...]  # servers[i] serves without an interpreter
    interpreters: tuple[int, ...]

    @property
    def everyone(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys((*self.servers, *self.interpreters)))


def candidates(people: Sequence[Person], service: str, language: str | None) -> Candidates:
    lang = interpreter_language(language)
    servers = sorted((p for p in people if service in p.services),
                     key=lambda p: (lang is not None and lang not in p.languages, len(p.services), p.id))
    interpreters: list[Person] = []
    if lang is not None:
        interpreters = sorted((p for p in people if lang in p.languages),
                              key=lambda p: (service in p.services, len(p.services), p.id))
    return Candidates(
        service=service, language=lang, servers=tuple(p.id for p in servers),
        speaks=tuple(lang is None or lang in p.languages for p in servers),
        interpreters=tuple(p.id for p in interpreters),
    )


def choose(c: Candidates, busy: Collection[int]) -> tuple[int, int | None] | None:
    """(server, interpreter or None) for people not in ``busy``, or None when no assignment exists."""
    for server, speaks in zip(c.servers, c.speaks, strict=True):
        if server in busy:
            continue
        if speaks:
            return server, None
        # Servers who speak the language come first: none of them is free, so the first free
        # speaker is not a server of this service (and never this server).
        interpreter = next((i for i in c.interpreters if i not in busy), None)
        return (server, interpreter) if interpreter is not None else None
    return None


def count_free(c: Candidates, busy: Collection[int]) -> int:
    """How many visits could still be assigned at once, given who is busy."""
    free = [(s, sp) for s, sp in zip(c.servers, c.speaks, strict=True) if s not in busy]
    if c.language is None:
        return len(free)
    direct = sum(1 for _, sp in free if sp)
    servers = set(c.servers)
    interpreters = sum(1 for i in c.interpreters if i not in busy and i not in servers)
    return direct + min(len(free) - direct, interpreters)


def unqualified(c: Candidates, people: Sequence[Person]) -> set[int]:
    """Who in the request can no longer be given the visit, by the people as they are now: gone,
    no longer serving the service, or no longer speaking the language they were chosen for
    (fastsql.BOOK_SQL's ``live`` and ``interp`` apply the same test in SQL)."""
    now = {p.id: p for p in people}
    out: set[int] = set()
    for server, speaks in zip(c.servers, c.speaks, strict=True):
        p = now.get(server)
        if p is None or c.service not in p.services or (speaks and c.language is not None
                                                         and c.language not in p.languages):
            out.add(server)
    for interpreter in c.interpreters:
        p = now.get(interpreter)
        if p is None or c.language is None or c.language not in p.languages:
            out.add(interpreter)
    return out


def refusal(c: Candidates, busy: Collection[int]) -> str:
    """Why ``choose`` found no one: "slot" (no server free) or "interpreter"."""
    return "interpreter" if any(s not in busy for s in c.servers) else "slot"


# -- the database side ---------------------------------------------------------------------------
def people_of(session: Session, office_id: int) -> list[Person]:
    """The office's active staff, as assignment sees them."""
    return [person(m) for m in repo.staff(session, office_id)]


def hold(
    session: Session, office_id: int, appointment_id: int, start: dt.datetime, end: dt.datetime,
    server: int | None, interpreter: int | None,
) -> None:
    """Hold the server and the interpreter for every unit of [start, end) (the primary key refuses a double)."""
    rows = [
        {"staff_id": who, "starts_at": u, "office_id": office_id, "appointment_id": appointment_id, "role": role}
        for u in units(start, end)
        for who, role in ((server, "serve"), (interpreter, "interpret"))
        if who is not None
    ]
    repo.insert_holds(session, rows)


hold_people = hold


def find_free_staff(
    session: Session, office: Office, service: str, start: dt.datetime, end: dt.datetime,
    language: str | None = None,
) -> tuple[int, int | None] | None:
    """A free qualified staff member (and interpreter) for [start, end), or None.

    For other domains (e.g. a walk-in queue): call it, then ``hold_people`` in the same
    transaction; the locks taken here is held until that transaction ends, so no one
    else can take the person in between.
    """
    repo.take_locks(session, lock_keys(office.id, start, end))
    c = candidates(people_of(session, office.id), service, language)
    busy = repo.busy_staff(session, office.id, start, end)
    return choose(c, busy | repo.off_duty(session, c.everyone, local_visit(start, end, zone(office.timezone))))


def walk_in_units(now: dt.datetime, minutes: int) -> tuple[dt.datetime, ...]:
    """The units a walk-in called at ``now`` holds its clerk for: on the same 15-minute UTC grid as a
    booked visit's holds (rules.units), from the unit under way until the service's duration has passed."""
    now = now.astimezone(dt.UTC)
    first = now.replace(minute=now.minute - now.minute % STEP_MINUTES, second=0, microsecond=0)
    end = now + dt.timedelta(minutes=minutes)
    return tuple(u for u in units(first, first + dt.timedelta(minutes=minutes + STEP_MINUTES)) if u < end)


def walk_in_conflict(
    session: Session, office_id: int, staff_id: int, now: dt.datetime, minutes: int
) -> dt.datetime | None:
    """The first unit after the one under way that the clerk is already held for (their next booked
    visit, usually): a walk-in called now would run into it. None when the walk-in fits.

    Takes the units' locks first, so the answer stays true until the transaction ends: a booking
    cannot take the clerk between this check and ``hold_for_walk_in``. The unit under way is not a
    conflict: whatever holds it (the visit the desk just ended, or a booked person who has not come)
    has begun already, and the walk-in leaves it to that hold."""
    wanted = walk_in_units(now, minutes)
    stop = wanted[-1] + dt.timedelta(minutes=STEP_MINUTES)
    repo.take_locks(session, lock_keys(office_id, wanted[0], stop))
    taken = repo.held_units(session, staff_id, wanted[0], stop)
    return min((u for u in wanted[1:] if u in taken), default=None)


def hold_for_walk_in(
    session: Session, office_id: int, ticket_id: int, staff_id: int, now: dt.datetime, minutes: int
) -> int:
    """Hold the clerk who called a walk-in for the service's duration from now, so that no booking is
    given to them meanwhile; returns the units held. Call ``walk_in_conflict`` first, in the same
    transaction: the units after the one under way must be free, and the holds' primary key refuses
    them otherwise (the same no-overlap guarantee as a booking). The unit under way, when something
    already holds the clerk for it, is left to that hold. Releasing: ``release_walk_in``."""
    wanted = walk_in_units(now, minutes)
    stop = wanted[-1] + dt.timedelta(minutes=STEP_MINUTES)
    repo.take_locks(session, lock_keys(office_id, wanted[0], stop))
    under_way_taken = wanted[0] in repo.held_units(session, staff_id, wanted[0], wanted[0] + dt.timedelta(
        minutes=STEP_MINUTES))
    rows: list[dict[str, object]] = [
        {"staff_id": staff_id, "starts_at": u, "office_id": office_id, "ticket_id": ticket_id, "role": "walk-in"}
        for u in wanted if not (u == wanted[0] and under_way_taken)
    ]
    repo.insert_holds(session, rows)
    return len(rows)


def release_walk_in(session: Session, ticket_id: int, now: dt.datetime) -> None:
    """The walk-in's visit ended (or went back to the queue): its clerk is free from the next unit on."""
    repo.release_ticket_holds(session, ticket_id, now)
