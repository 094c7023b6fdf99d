"""Opening and closing an office as a two-person change: the checks and the effects scheduling owns.

identity/proposals.py holds the proposal (who proposes, who approves, the public trace); it calls these
through ``scheduling/service.py`` both when the change is proposed (so a bad proposal is refused at once)
and when it is approved (so what was checked then still holds now).

Closing never strands a person silently: an office with visits still to come closes only when the
proposal lists every one of them for moving (their ids, no names: an administrator reads no office's
appointments). On approval they lose their staff holds and appear in the office supervisor's list of
people to contact (``administration.unassigned``), who moves each to another office or time; the office
opens no new start from then on (``slots.generate_slots``) and leaves the finder and the office lists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import repository as repo
from safeslot.scheduling.administration import add_office, reopen_slots
from safeslot.scheduling.errors import OfficeHasBookings, OfficeNotFound, OfficeShut
from safeslot.scheduling.finder import set_location
from safeslot.scheduling.models import Office
from safeslot.scheduling.offices import unknown_office
from safeslot.scheduling.rules import valid_zone

# A slug is also the office's public name in the transparency log and its URL: lowercase, digits, hyphens.
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class NewOffice:
    """What a proposal to open an office carries (all public facts about a public office)."""

    slug: str
    name: str
    address: str
    timezone: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class BookingToMove:
    """A visit still to come at an office being closed: an id, when and what; never who."""

    id: int
    starts_at: dt.datetime
    service_id: int


def check_new_office(session: Session, new: NewOffice) -> None:
    """Refuse, with what to change, an office that could not be opened."""
    if not SLUG.match(new.slug):
        raise InvalidInput("An office slug is 1-64 lowercase letters, digits and inner hyphens, such as "
                           "'springfield-east'; it becomes the office's address and its name in the public log.")
    if not new.name.strip() or not new.address.strip():
        raise InvalidInput("Give the office's name and street address as the public should see them.")
    valid_zone(new.timezone)
    if (new.latitude is None) != (new.longitude is None):
        raise InvalidInput("Give both latitude and longitude, or neither (the office then stays out of the finder).")
    if repo.office_by_slug(session, new.slug) is not None:
        raise InvalidInput(f"An office called {new.slug!r} exists already (open or closed); choose another slug.")


def open_office(session: Session, new: NewOffice) -> Office:
    """Create the approved office (no services, staff or hours yet: its supervisor adds them)."""
    check_new_office(session, new)
    office = add_office(session, new.slug, new.name, new.address, new.timezone)
    if new.latitude is not None and new.longitude is not None:
        set_location(session, office, new.latitude, new.longitude)
    return office


def open_office_by_slug(session: Session, slug: str) -> Office:
    """An office that is still open; a closed one is refused with what to do."""
    office = repo.office_by_slug(session, slug)
    if office is None:
        raise OfficeNotFound(unknown_office(slug))
    if office.closed_at is not None:
        raise OfficeShut(f"Office {slug!r} was closed on {office.closed_at.date().isoformat()}; nothing to change.")
    return office


def bookings_to_move(session: Session, office: Office, now: dt.datetime) -> Sequence[BookingToMove]:
    """Visits booked or checked in that end after ``now``: what closing must list for moving."""
    return [BookingToMove(a.id, a.starts_at, a.service_id)
            for a in sorted(repo.holding_appointments(session, office.id, now), key=lambda a: (a.starts_at, a.id))]


def check_closable(session: Session, office: Office, listed: Collection[int], now: dt.datetime) -> list[int]:
    """The ids to move, when ``listed`` names exactly the office's visits still to come; else refuse."""
    due = {b.id for b in bookings_to_move(session, office, now)}
    wanted = set(listed)
    if due - wanted:
        raise OfficeHasBookings(
            f"Office {office.slug!r} has {len(due - wanted)} visit(s) still to come that the proposal does not list. "
            f"GET /api/v1/offices/{office.slug}/bookings-to-move lists them; list every id under "
            "'move_bookings' to close the office, or wait until they have passed.")
    if wanted - due:
        raise InvalidInput(f"{len(wanted - due)} listed id(s) are not visits still to come at office "
                           f"{office.slug!r}; list only ids from GET /api/v1/offices/{office.slug}/bookings-to-move.")
    return sorted(due)


def close_office(session: Session, office: Office, listed: Collection[int], now: dt.datetime) -> int:
    """Close the office now; its listed visits go to the supervisor's list of people to contact for moving.
    Returns how many.

    The order closes the race with a booking: the slots are closed first (capacity = booked, which
    writes every still-bookable slot row, so a booking in flight waits on that row and then finds it
    full), and only then are the visits still to come read and compared with the list.
    """
    repo.lock_staff(session, office.id)  # one lock for all its visits' hours, first (rules.lock_order)
    office.closed_at = now
    session.flush()
    reopen_slots(session, office, now)
    moving = check_closable(session, office, listed, now)
    for a in repo.holding_appointments(session, office.id, now):
        repo.release_holds(session, a.id)
        a.staff_id = a.interpreter_id = None
    session.flush()
    return len(moving)
