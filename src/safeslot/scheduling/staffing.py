"""Who may serve what: the service-level face of staff qualifications (service skills, languages).

Other parts of scheduling (the walk-in queue) and other domains ask here instead of
reading ``Staff.services`` / ``Staff.languages`` or querying the staff table themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.models import Office, Staff
from safeslot.scheduling.service import BASE_LANGUAGE, office_item


def interpreter_language(language: str | None) -> str | None:
    """The language a visit needs beyond the office's own (English), as a primary subtag; None if none."""
    if not language:
        return None
    primary = language.split("-")[0].lower()
    return None if primary == BASE_LANGUAGE else primary


def active_staff(session: Session, office: Office) -> Sequence[Staff]:
    """The office's staff who still work there."""
    return repo.staff(session, office.id)


def member(session: Session, office: Office, staff_id: int) -> Staff:
    """One staff member of this office (another office's is as good as none)."""
    return office_item(session, Staff, staff_id, office, "staff member")


def service_slugs(member: Staff) -> frozenset[str]:
    return frozenset(member.services.split())


def languages(member: Staff) -> frozenset[str]:
    """Primary language subtags the member speaks, English always included."""
    return frozenset({BASE_LANGUAGE, *(lang.split("-")[0].lower() for lang in member.languages.split())})


def serves(member: Staff, service_slug: str, language: str | None = None) -> bool:
    """Whether the member serves this service, in this language without an interpreter."""
    if not member.active or service_slug not in service_slugs(member):
        return False
    needed = interpreter_language(language)
    return needed is None or needed in languages(member)
