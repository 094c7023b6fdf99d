"""Who may serve what at a walk-in desk (scheduling/staffing.py): a member's services and languages as the
assignment sees them; a desk serves a visit only without needing an interpreter, and only while active.
Demo office: Desk A speaks en and serves apply and card; Desk F speaks en, es and vi."""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeslot.scheduling import service, staffing
from safeslot.scheduling.models import Staff
from tests.conftest import NOW, ON_SQLITE


def _desk(session: Session, office: str, name: str) -> Staff:
    central = service.get_office(session, office)
    return next(m for m in staffing.active_staff(session, central) if m.display_name == name)


@ON_SQLITE
def test_a_member_serves_their_services_in_the_languages_they_speak(office: str, session: Session) -> None:
    a, f = _desk(session, office, "Desk A"), _desk(session, office, "Desk F")
    assert staffing.service_slugs(a) == {"apply", "card"}
    assert staffing.languages(a) == {"en"} and staffing.languages(f) == {"en", "es", "vi"}
    assert staffing.serves(a, "card") and staffing.serves(a, "apply", "en-US")
    assert not staffing.serves(a, "interview")
    assert not staffing.serves(a, "apply", "es")  # would need an interpreter: not at a desk
    assert staffing.serves(f, "apply", "es-MX")


@ON_SQLITE
def test_a_member_who_left_serves_nothing_and_is_not_active_staff(office: str, session: Session) -> None:
    central = service.get_office(session, office)
    a = _desk(session, office, "Desk A")
    service.update_staff(session, central, a.id, active=False, now=NOW)
    assert not staffing.serves(a, "card")
    assert a not in staffing.active_staff(session, central)
    assert staffing.member(session, central, a.id) is a  # still their office's, for the record
