"""Counsel's search by name (disclosure/search.py), only inside an open request accepted for review and only
for a name it names: never a confirmation code, needs only when the request asks for them, and anything
else refused with an alert for auditors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.disclosure import acceptance, search
from safeslot.disclosure.models import DisclosureRequest
from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.errors import SearchOutsideRequest
from safeslot.privacy.models import AccessAlert, AccessRecord
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import COUNSEL, PRIVACY, TEST_PERSON

ME = Principal("staff", COUNSEL.id, "Test Person 9", frozenset({"counsel"}), None, 1, "session", "h")


def _alerts(session: Session) -> list[str]:
    return list(session.scalars(select(AccessAlert.rule).where(AccessAlert.staff_id == COUNSEL.id)))


@ON_SQLITE
def test_a_named_person_is_found_inside_an_accepted_request_without_code_or_needs(
    session: Session, keyring: KeyRing, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    visit = book("Test Person 1", language="es", accommodation="Test need")
    book("Test Person 2")
    request = file_request(subjects=TEST_PERSON)
    acceptance.accept(session, PRIVACY, request.id, NOW)
    [found] = search.within_request(session, keyring, ME, request.id, "Test Person 1", NOW)
    assert (found.appointment_id, found.office, found.name) == (visit.id, "central", "Test Person 1")
    assert (found.language, found.accommodation) == (None, None)  # the request did not ask for them
    assert not hasattr(found, "code")
    reads = session.scalars(select(AccessRecord.record_id).where(AccessRecord.staff_id == COUNSEL.id)).all()
    assert str(visit.id) in reads and _alerts(session) == []


@ON_SQLITE
def test_a_search_outside_an_open_accepted_request_or_its_names_is_refused_with_an_alert(
    session: Session, keyring: KeyRing, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person 1")
    request = file_request(subjects=TEST_PERSON)
    refusals = [
        (None, "Test Person 1", "Give the request_id"),
        (request.id + 100, "Test Person 1", "There is no disclosure request"),
        (request.id, "Test Person 1", "nobody has accepted it"),
    ]
    for request_id, name, says in refusals:
        with pytest.raises(SearchOutsideRequest, match=says):
            search.within_request(session, keyring, ME, request_id, name, NOW)
    acceptance.accept(session, PRIVACY, request.id, NOW)
    with pytest.raises(SearchOutsideRequest, match="does not name this person"):
        search.within_request(session, keyring, ME, request.id, "Test Person 2", NOW)
    assert _alerts(session) == ["search-outside-request"] * 4
