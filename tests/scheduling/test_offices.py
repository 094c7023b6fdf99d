"""Looking up offices, services and an office's own items (scheduling/offices.py): an office outside a
staff member's scope is answered exactly as one that does not exist."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from safeslot.identity.service import Principal
from safeslot.scheduling import offices, service
from safeslot.scheduling.errors import OfficeItemNotFound, OfficeNotFound, ServiceNotFound
from safeslot.scheduling.models import Staff
from tests.conftest import ON_SQLITE


@ON_SQLITE
def test_an_unknown_office_or_service_names_where_to_look(office: str, session: Session) -> None:
    with pytest.raises(OfficeNotFound, match="GET /api/v1/offices"):
        offices.get_office(session, "nowhere")
    central = offices.get_office(session, office)
    assert offices.get_service(session, central, "apply").slug == "apply"
    with pytest.raises(ServiceNotFound, match=f"GET /api/v1/offices/{office}"):
        offices.get_service(session, central, "passport")
    assert [s.slug for s in offices.list_services(session, central)] == ["apply", "card", "interview"]


@ON_SQLITE
def test_an_office_outside_the_scope_is_as_good_as_none(office: str, session: Session) -> None:
    central = offices.get_office(session, office)
    other = service.add_office(session, "test-other", "Test Office 2", "1 Test Street", "America/Chicago")
    clerk = Principal("staff", 1, "Test Person 1", frozenset({"clerk"}), other.id, 1, "session", "",
                      office_ids=frozenset({other.id}))
    assert offices.office_in_scope(session, "test-other", clerk).id == other.id
    with pytest.raises(OfficeNotFound) as outside:
        offices.office_in_scope(session, office, clerk)
    with pytest.raises(OfficeNotFound) as missing:
        offices.office_in_scope(session, "nowhere", clerk)
    assert str(outside.value) == offices.unknown_office(office)  # nothing tells it exists
    assert str(missing.value) == offices.unknown_office("nowhere")
    assert offices.office_in_scope(session, office, dataclasses.replace(clerk, office_ids=frozenset({central.id})))


@ON_SQLITE
def test_the_languages_are_every_language_its_staff_speak(office: str, session: Session) -> None:
    assert offices.office_languages(session, offices.get_office(session, office)) == ["en", "es", "vi"]


@ON_SQLITE
def test_another_offices_staff_member_is_not_found_here(office: str, session: Session) -> None:
    central = offices.get_office(session, office)
    other = service.add_office(session, "test-other", "Test Office 2", "1 Test Street", "America/Chicago")
    theirs = service.add_staff(session, other, "Test Person 1", ["en"], [])
    mine = session.query(Staff).filter_by(office_id=central.id).first()
    assert mine is not None
    assert offices.office_item(session, Staff, mine.id, central, "staff member") is mine
    with pytest.raises(OfficeItemNotFound, match="no such staff member"):
        offices.office_item(session, Staff, theirs.id, central, "staff member")
    with pytest.raises(OfficeItemNotFound):
        offices.office_item(session, Staff, 10**9, central, "staff member")


@ON_SQLITE
def test_the_languages_offered_are_those_of_active_staff_at_open_offices(office: str, session: Session) -> None:
    """The public finder's language choice: what a person can ask for somewhere, not at a closed office nor
    from someone who left."""
    import datetime as dt

    from sqlalchemy import event

    other = service.add_office(session, "test-other", "Test Office 2", "1 Test Street", "America/Chicago")
    service.add_service(session, other, "apply", "Apply", "Start an application.", 30)
    gone = service.add_staff(session, other, "Test Person 1", ["en", "ru"], ["apply"])
    before = offices.offered_languages(session)
    assert "ru" in before and {"en", "es", "vi"} <= set(before)
    gone.active = False
    session.flush()
    assert "ru" not in offices.offered_languages(session)
    gone.active = True
    other.closed_at = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    session.flush()
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(session.connection(), "before_cursor_execute", count)
    try:
        assert offices.offered_languages(session) == sorted(set(before) - {"ru"})
    finally:
        event.remove(session.connection(), "before_cursor_execute", count)
    assert len(seen) == 1  # one statement, whatever the number of offices
