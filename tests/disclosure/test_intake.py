"""Intake of a disclosure request (disclosure/intake.py): what makes a request refusable before anything is
kept, said by field and never by value; a refused request leaves only its refusal in the log, and an
accepted one is registered sealed and decided. The whole gate is in test_story.py and test_gate_stories.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.disclosure import intake, sealed
from safeslot.disclosure.errors import RequestRefused, StorageQuotaExceeded
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import MAX_DOCUMENT_BYTES, Actor
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import OFFICIAL, PDF, PRIVACY, TEST_PERSON, metadata
from tests.disclosure.test_story import entries


def _problems(actor: Actor = OFFICIAL, document: bytes | None = PDF, agency: str | None = None,
              **overrides: object) -> list[str]:
    return intake.problems(actor, metadata(**{"subjects": TEST_PERSON, **overrides}), document, agency)


def test_a_complete_request_from_a_verified_official_has_no_problem() -> None:
    assert _problems() == []


@pytest.mark.parametrize(("changes", "says"), [
    ({"document": None}, "Attach the signed instrument"),
    ({"document": b"GIF89a"}, "not a PDF"),
    ({"document": b"%PDF-" + b"x" * MAX_DOCUMENT_BYTES}, "larger than 10 MiB"),
    ({"subjects": []}, "Name each person"),
    ({"scope_description": "everyone booked on Tuesday"}, "Name each person"),
    ({"categories": []}, "Ask only for these data categories"),
    ({"court": None}, "needs 'court' and 'docket'"),
    ({"instrument_type": "emergency", "signer_type": "agency_head", "emergency_justification": None},
     "emergency_justification"),
    ({"deadline": dt.datetime(2027, 3, 9, 17)}, "with a time zone"),
])
def test_each_missing_or_wrong_part_is_named(changes: dict[str, object], says: str) -> None:
    document = changes.pop("document", PDF)
    assert document is None or isinstance(document, bytes)
    found = _problems(OFFICIAL, document, None, **changes)
    assert any(says in p for p in found), found
    assert not any("Test Person" in p for p in found)  # fields, never values


def test_only_an_official_of_an_agency_or_staff_for_a_registered_agency_may_file() -> None:
    assert any("names no agency" in p for p in _problems(actor=Actor("official", 7)))
    assert any("'agency_id'" in p for p in _problems(actor=PRIVACY))
    assert any("not in the agency registry" in p for p in _problems(actor=PRIVACY, agency_id=99))
    assert _problems(actor=PRIVACY, agency_id=99, agency="dhs-ice") == []
    assert any("Only a verified agency official" in p for p in _problems(actor=Actor("system", 0)))


@ON_SQLITE
def test_a_refused_request_keeps_only_its_refusal(
    session: Session, file_request: Callable[..., DisclosureRequest],
) -> None:
    with pytest.raises(RequestRefused, match="Name each person"):
        file_request(subjects=[])
    assert session.scalar(select(func.count()).select_from(DisclosureRequest)) == 0
    assert [e["event"] for e in entries(session)] == ["disclosure.request_refused"]


@ON_SQLITE
def test_an_accepted_request_is_registered_sealed_and_decided(
    session: Session, keyring: KeyRing, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person 1")
    request = file_request(subjects=TEST_PERSON)
    assert request.status == "in_review" and request.document_pages == 1
    assert request.docket == sealed.SEALED and sealed.typed(keyring, request)["docket"] == "1:27-mj-00042"
    assert [e["event"] for e in entries(session)] == ["disclosure.decision"]


@ON_SQLITE
def test_an_agency_past_its_storage_quota_is_refused_and_nothing_is_kept(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine, agency_id: int,
) -> None:
    with pytest.raises(StorageQuotaExceeded, match="quota"):
        intake.submit(session, keyring, engine_federal, OFFICIAL, metadata(subjects=TEST_PERSON), PDF, NOW,
                      quota_bytes=len(PDF) - 1)
    assert session.scalar(select(func.count()).select_from(DisclosureRequest)) == 0
