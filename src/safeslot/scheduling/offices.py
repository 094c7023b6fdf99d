"""Looking up offices, their services, languages and the items a supervisor manages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session

from safeslot.scheduling import repository as repo
from safeslot.scheduling.errors import OfficeItemNotFound, OfficeNotFound, ServiceNotFound
from safeslot.scheduling.models import Closure, Office, Service, Staff, WeeklyHours

if TYPE_CHECKING:
    from safeslot.identity.interfaces import Principal


def unknown_office(slug: str) -> str:
    """The one detail of "no such office", also for an office outside the caller's scope."""
    return f"No office is called {slug!r}. GET /api/v1/offices lists them."


def get_office(session: Session, slug: str) -> Office:
    office = repo.office_by_slug(session, slug)
    if office is None:
        raise OfficeNotFound(unknown_office(slug))
    return office


def office_in_scope(session: Session, slug: str, staff: Principal) -> Office:
    """An office the staff member may work on (identity/scopes.py). Outside their scope the answer is the
    very one for an office that does not exist: their records are not theirs to learn about."""
    office = repo.office_by_slug(session, slug)
    if office is None or not staff.covers(office.id):
        raise OfficeNotFound(unknown_office(slug))
    return office


def get_service(session: Session, office: Office, slug: str) -> Service:
    service = repo.service_by_slug(session, office.id, slug)
    if service is None:
        raise ServiceNotFound(
            f"Office {office.slug!r} offers no service {slug!r}. GET /api/v1/offices/{office.slug} lists them."
        )
    return service


def list_offices(session: Session, *, open_only: bool = False) -> Sequence[Office]:
    """Every office (reports and records need the closed ones too); ``open_only`` for what the public sees."""
    return repo.offices(session, open_only=open_only)


def list_services(session: Session, office: Office) -> Sequence[Service]:
    return repo.services(session, office.id)


def office_languages(session: Session, office: Office) -> list[str]:
    langs: set[str] = set()
    for member in repo.staff(session, office.id):
        langs.update(member.languages.split())
    return sorted(langs)


def offered_languages(session: Session) -> list[str]:
    """Every language spoken by an active staff member of an open office, in one statement (the public
    finder's language choice; asking each office in turn cost one statement per office of the network)."""
    langs: set[str] = set()
    for spoken in repo.spoken_language_lists(session):
        langs.update(spoken.split())
    return sorted(langs)


Item = TypeVar("Item", WeeklyHours, Closure, Staff)


def office_item(session: Session, model: type[Item], item_id: int, office: Office, what: str) -> Item:
    """An office's opening window, closure or staff member by id; another office's is as good as none."""
    row = session.get(model, item_id)
    if row is None or row.office_id != office.id:
        raise OfficeItemNotFound(f"This office has no such {what}; reload the office page.")
    return row
