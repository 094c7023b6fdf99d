"""The disclosure gate's core (disclosure/service.py): an agency official sees only their own agency's
requests and any other answers as a request that does not exist; staff see every request; a decided
request explains itself category by category in words; a non-disclosure order's year is a full year,
29 February included. The whole gate, intake to release, is the story in test_story.py.

SQLite only: the SQL is the same on both databases (the stories keep PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from safeslot.disclosure import service
from safeslot.disclosure.errors import RequestNotFound
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor
from tests.conftest import ON_SQLITE
from tests.disclosure.conftest import AGENCY, OFFICIAL, PRIVACY

OTHER_OFFICIAL = Actor("official", 502, agency="another-agency")


@ON_SQLITE
def test_an_official_sees_only_their_agencys_requests_and_staff_see_all(
    session: Session, office: str, file_request: Callable[..., DisclosureRequest]
) -> None:
    request = file_request()
    assert service.get_visible_request(session, OFFICIAL, request.id).agency == AGENCY
    assert [r.id for r in service.list_requests(session, OFFICIAL, None)] == [request.id]
    assert service.get_visible_request(session, PRIVACY, request.id).id == request.id
    assert [r.id for r in service.list_requests(session, PRIVACY, request.status)] == [request.id]
    # another agency's official: the same answer as a number nobody filed
    with pytest.raises(RequestNotFound) as other:
        service.get_visible_request(session, OTHER_OFFICIAL, request.id)
    with pytest.raises(RequestNotFound) as unknown:
        service.get_visible_request(session, OTHER_OFFICIAL, request.id + 1000)
    assert str(other.value).replace(str(request.id), "N") == str(unknown.value).replace(str(request.id + 1000), "N")
    assert list(service.list_requests(session, OTHER_OFFICIAL, None)) == []


@ON_SQLITE
def test_a_decided_request_explains_each_category_in_words(
    session: Session, office: str, file_request: Callable[..., DisclosureRequest], engine_federal: PolicyEngine
) -> None:
    request = file_request(instrument_type="administrative_warrant", signer_type="officer")
    lines = service.explain(session, engine_federal, request.id)
    assert lines[0].startswith(f"Request {request.id} (administrative_warrant, policy set ")
    decision = service.stored_decision(session, request)
    assert {d.outcome.value for d in decision.categories} == {"deny"}  # an officer's warrant releases nothing
    assert len(lines) == 1 + len(decision.categories)
    with pytest.raises(RequestNotFound):
        service.explain(session, engine_federal, request.id + 1000)


def test_a_year_after_29_february_is_1_march_never_less() -> None:
    leap = dt.datetime(2028, 2, 29, 9, 0, tzinfo=dt.UTC)
    assert service.years_later(leap, 1) == dt.datetime(2029, 3, 1, 9, 0, tzinfo=dt.UTC)
    assert service.years_later(leap, 4) == dt.datetime(2032, 2, 29, 9, 0, tzinfo=dt.UTC)
    assert service.years_later(dt.datetime(2027, 3, 1, tzinfo=dt.UTC), 1) == dt.datetime(2028, 3, 1, tzinfo=dt.UTC)
