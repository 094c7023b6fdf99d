"""The office finder: the offices nearest a ZIP code or town, with what they offer and their next free time.

Offices without coordinates are left out (a supervisor sets them: ``PUT
/api/v1/offices/{office}/location``). Distances are straight lines between
the place's centroid and the office, which is what a coarse ZIP table can
honestly give; the page says "about".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import places
from safeslot.scheduling import repository as repo
from safeslot.scheduling.models import Office, Service, Staff
from safeslot.scheduling.offices import get_office, office_languages
from safeslot.scheduling.rules import BASE_LANGUAGE
from safeslot.scheduling.schemas import LANGUAGE_PATTERN
from safeslot.scheduling.slots import search_slots

NEAREST = 5  # offices shown
NEXT_FREE_DAYS = 14  # how far ahead "next free time" looks


@dataclass(frozen=True)
class NearOffice:
    office: Office
    distance_km: float
    services: Sequence[Service]
    languages: list[str]
    next_free: dt.datetime | None  # UTC; None: nothing free in the next two weeks


def set_location(session: Session, office: Office, latitude: float, longitude: float) -> Office:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput("Latitude is between -90 and 90, longitude between -180 and 180 (WGS 84 degrees).")
    office.latitude, office.longitude = latitude, longitude
    session.flush()
    return office


def next_free(session: Session, office: Office, services: Sequence[Service], language: str | None,
              now: dt.datetime) -> dt.datetime | None:
    """The earliest free start of any of the office's services (with an interpreter when one is asked for).

    Today and tomorrow are searched first and the rest of the fortnight only when they have nothing:
    anything found there is earlier than anything later, and an office usually has a free start within
    two days, so the finder's five offices cost a fraction of five fortnights' searches (bench/scale.py)."""
    today = now.date()
    best: dt.datetime | None = None
    for first, last in ((0, 1), (2, NEXT_FREE_DAYS - 1)):
        for svc in services:
            _, _, free = search_slots(session, office.slug, svc.slug, today + dt.timedelta(days=first),
                                      today + dt.timedelta(days=last), language, now)
            if free and (best is None or free[0].starts_at < best):
                best = free[0].starts_at
        if best is not None:
            return best
    return best


def _speaking(session: Session, office_ids: list[int], language: str) -> set[int]:
    """The offices among ``office_ids`` with an active staff member who speaks ``language``, in one statement
    (by the staff's office index), instead of asking each office in turn: a language nobody near speaks
    would otherwise cost one round trip per office of the network."""
    if not office_ids:
        return set()
    spoken = (literal(" ") + Staff.languages + literal(" ")).contains(f" {language} ", autoescape=True)
    return set(session.scalars(
        select(Staff.office_id).where(Staff.office_id.in_(office_ids), Staff.active.is_(True), spoken).distinct()
    ))


def nearest_offices(
    session: Session, where: str, language: str | None, now: dt.datetime, *, table_path: str | None = None,
    limit: int = NEAREST,
) -> tuple[places.Place, list[NearOffice]]:
    """The ``limit`` offices nearest ``where`` (ZIP or town), only those whose staff speak ``language`` if given."""
    if language and (len(language) > 16 or not re.match(LANGUAGE_PATTERN, language)):
        raise InvalidInput("The language is a code like es or vi.")
    place = places.table(table_path).find(where)
    located = session.scalars(
        select(Office).where(Office.latitude.is_not(None), Office.longitude.is_not(None),
                             Office.closed_at.is_(None))
    ).all()
    ranked = sorted(
        located,
        key=lambda o: (places.distance_km(place.latitude, place.longitude, o.latitude or 0.0, o.longitude or 0.0),
                       o.slug),
    )
    interpreter = language if language and language.split("-")[0] != BASE_LANGUAGE else None
    speaking = _speaking(session, [o.id for o in ranked], interpreter) if interpreter else None
    found: list[NearOffice] = []
    for office in ranked:
        if speaking is not None and office.id not in speaking:
            continue
        langs = office_languages(session, office)
        if interpreter and interpreter not in langs:
            continue
        services = repo.services(session, office.id)
        found.append(NearOffice(
            office,
            places.distance_km(place.latitude, place.longitude, office.latitude or 0.0, office.longitude or 0.0),
            services, langs, next_free(session, office, services, interpreter, now),
        ))
        if len(found) >= limit:
            break
    return place, found


__all__ = ["NearOffice", "get_office", "nearest_offices", "next_free", "set_location"]
