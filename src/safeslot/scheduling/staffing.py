"""Who may serve what, for the walk-in queue: a thin face over ``assignment``.

A desk calls only what its staff member could be assigned to serve *without an
interpreter* (``assignment.candidates``: the service among their skills, and the
visit's language among the languages they speak). The queue asks here instead of
reading ``Staff.services`` / ``Staff.languages`` or querying the staff table itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.assignment import Person, candidates, person
from safeslot.scheduling.models import Office, Staff
from safeslot.scheduling.offices import office_item
from safeslot.scheduling.rules import BASE_LANGUAGE, interpreter_language

__all__ = ["active_staff", "interpreter_language", "languages", "member", "serves", "serves_directly",
           "service_slugs"]


def active_staff(session: Session, office: Office) -> Sequence[Staff]:
    """The office's staff who still work there (as assignment sees them: ``assignment.people_of``)."""
    return repo.staff(session, office.id)


def member(session: Session, office: Office, staff_id: int) -> Staff:
    """One staff member of this office (another office's is as good as none)."""
    return office_item(session, Staff, staff_id, office, "staff member")


def service_slugs(member: Staff) -> frozenset[str]:
    return person(member).services


def languages(member: Staff) -> frozenset[str]:
    """Primary language subtags the member speaks, English always included."""
    return frozenset({BASE_LANGUAGE, *(lang.split("-")[0].lower() for lang in person(member).languages)})


def serves_directly(people: Sequence[Person], service_slug: str, language: str | None) -> bool:
    """Whether any of these people serves the service in the language, no interpreter needed."""
    return any(candidates(people, service_slug, language).speaks)


def serves(member: Staff, service_slug: str, language: str | None = None) -> bool:
    """Whether the member serves this service, in this language without an interpreter."""
    return member.active and serves_directly([person(member)], service_slug, language)
