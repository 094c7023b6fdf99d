"""The disclosure gate's queries (disclosure/repository.py) whose answer changes a decision or a deadline:
only holds in force stop a release (not lifted, not expired); a request past its deadline without a release
is found for the reminder, a decided one is not; an agency's stored documents count toward its quota; an
agency's newest agreement comes first. SQLite only: the SQL is the same on both databases (the stories keep
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from safeslot.disclosure import holds
from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.schemas import AgreementIn, HoldIn
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import AGENCY, PRIVACY

DAY = dt.timedelta(days=1)


@ON_SQLITE
def test_only_holds_in_force_count(session: Session) -> None:
    kept = holds.create_hold(session, PRIVACY, HoldIn(authority="Test order 1", category="identity"), NOW)
    lifted = holds.create_hold(session, PRIVACY, HoldIn(authority="Test order 2", agency=AGENCY), NOW)
    holds.lift_hold(session, PRIVACY, lifted.id, NOW)
    ending = holds.create_hold(session, PRIVACY, HoldIn(authority="Test order 3", category="contact",
                                                        expires_at=NOW + DAY), NOW)
    assert [h.id for h in repo.active_holds(session, NOW)] == [kept.id, ending.id]
    assert [h.id for h in repo.active_holds(session, NOW + 2 * DAY)] == [kept.id]


@ON_SQLITE
def test_a_request_past_its_deadline_is_found_until_it_is_decided(
    session: Session, office: str, file_request: Callable[..., DisclosureRequest]
) -> None:
    late, on_time, undated = file_request(), file_request(), file_request()
    late.deadline, on_time.deadline, undated.deadline = NOW - DAY, NOW + DAY, None
    session.flush()
    assert late.status == on_time.status == "in_review"  # a judge's warrant: some category is allowed
    assert [r.id for r in repo.stale_requests(session, NOW)] == [late.id]
    late.status = "released"
    session.flush()
    assert repo.stale_requests(session, NOW) == []
    assert [r.id for r in repo.stale_requests(session, NOW + 2 * DAY)] == [on_time.id]


@ON_SQLITE
def test_an_agencys_documents_count_toward_its_quota(
    session: Session, office: str, file_request: Callable[..., DisclosureRequest]
) -> None:
    assert repo.document_bytes(session, AGENCY) == 0
    first, second = file_request(), file_request()
    assert repo.document_bytes(session, AGENCY) == len(first.document) + len(second.document) > 0
    assert repo.document_bytes(session, "another-agency") == 0
    assert [r.id for r in repo.requests(session, agency=AGENCY)] == [first.id, second.id]
    assert repo.requests(session, agency="another-agency") == []


@ON_SQLITE
def test_an_agencys_newest_agreement_comes_first(session: Session) -> None:
    def agreement(reference: str) -> int:
        return holds.create_agreement(session, PRIVACY, AgreementIn(
            agency=AGENCY, kind="routine_use", reference=reference, purposes=["program_integrity"],
            categories=["identity"], starts_at=NOW, expires_at=NOW + 90 * DAY), NOW).id

    old, new = agreement("Routine use 7"), agreement("Routine use 8")
    assert [a.id for a in repo.agreements_for(session, AGENCY)] == [new, old]
    assert repo.agreements_for(session, "another-agency") == []
