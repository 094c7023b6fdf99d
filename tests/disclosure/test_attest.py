"""Attestation (disclosure/attest.py): each reviewer checks every field typed against the document before
they may approve; all `match` stands for that document only, any `mismatch` sends the request back naming
the fields and voids what was approved; the log names fields and a pseudonym, never a value. The relabelled
I-205 story is in test_gate_stories.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from safeslot.disclosure import attest
from safeslot.disclosure import repository as repo
from safeslot.disclosure.errors import RequestNotReviewable, ReviewerNotAllowed
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, InvalidInput
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import CLERK, COUNSEL, PRIVACY
from tests.disclosure.test_story import entries

TWO_PEOPLE = [{"name": "Test Person 1", "office": "central"}, {"name": "Test Person 2", "office": "central"}]


def _all(request: DisclosureRequest, session: Session, answer: str = attest.MATCH) -> dict[str, str]:
    return dict.fromkeys(attest.fields_for(request, repo.subjects(session, request.id)), answer)


@ON_SQLITE
def test_the_fields_to_check_follow_what_the_request_holds(
    session: Session, file_request: Callable[..., DisclosureRequest],
) -> None:
    warrant = file_request(subjects=TWO_PEOPLE)
    assert attest.fields_for(warrant, repo.subjects(session, warrant.id)) == [
        "instrument_type", "issuer", "signer", "signer_type", "purpose", "court", "docket", "subject-1",
        "subject-2", "categories"]


def test_a_reviewer_is_named_in_the_log_by_a_stable_pseudonym_only_the_office_can_link() -> None:
    ring = KeyRing.generate()
    assert attest.pseudonym(ring, 9011) == attest.pseudonym(ring, 9011) != attest.pseudonym(ring, 9012)
    assert attest.pseudonym(ring, 9011) != attest.pseudonym(KeyRing.generate(), 9011)
    assert "9011" not in attest.pseudonym(ring, 9011)


@ON_SQLITE
def test_an_attestation_of_every_field_stands_for_that_document_and_is_logged_without_values(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine,
    file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    book("Test Person 1")
    request = file_request(subjects=TWO_PEOPLE[:1])
    with pytest.raises(ReviewerNotAllowed):
        attest.attest(session, keyring, engine_federal, CLERK, request.id, "counsel", request.document_sha256,
                      _all(request, session), {}, NOW)
    partial = _all(request, session)
    partial.pop("docket")
    with pytest.raises(InvalidInput, match="exactly these fields"):
        attest.attest(session, keyring, engine_federal, COUNSEL, request.id, "counsel", request.document_sha256,
                      partial, {}, NOW)
    with pytest.raises(Conflict, match="another version"):
        attest.attest(session, keyring, engine_federal, COUNSEL, request.id, "counsel", "0" * 64,
                      _all(request, session), {}, NOW)
    found = attest.attest(session, keyring, engine_federal, COUNSEL, request.id, "counsel",
                          request.document_sha256, _all(request, session), {}, NOW)
    assert attest.standing(session, request, COUNSEL.id, "counsel") is found
    assert attest.standing(session, request, PRIVACY.id, "privacy_officer") is None
    [logged] = [e for e in entries(session) if e.get("action") == "attest"]
    assert logged["reviewer"] == found.reviewer and "Test Person" not in str(logged)
    request.document_sha256 = "1" * 64  # another document: the attestation no longer stands
    assert attest.standing(session, request, COUNSEL.id, "counsel") is None


@ON_SQLITE
def test_a_mismatch_sends_the_request_back_naming_the_fields_and_voids_attestations(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine,
    file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
) -> None:
    book("Test Person 1")
    request = file_request(subjects=TWO_PEOPLE[:1])
    first = attest.attest(session, keyring, engine_federal, PRIVACY, request.id, "privacy_officer",
                          request.document_sha256, _all(request, session), {}, NOW)
    with pytest.raises(InvalidInput, match="only for a mismatched"):  # a correction says what a mismatch is
        attest.attest(session, keyring, engine_federal, COUNSEL, request.id, "counsel", request.document_sha256,
                      _all(request, session), {"purpose": "civil_immigration"}, NOW)
    answers = {**_all(request, session), "docket": attest.MISMATCH}
    attest.attest(session, keyring, engine_federal, COUNSEL, request.id, "counsel", request.document_sha256,
                  answers, {}, NOW)
    assert request.status == "info_requested"
    assert request.info_request == "The document does not match what was typed for: docket."
    assert first.void and attest.standing(session, request, PRIVACY.id, "privacy_officer") is None
    with pytest.raises(RequestNotReviewable):  # back with the requester until they answer
        attest.attest(session, keyring, engine_federal, COUNSEL, request.id, "counsel", request.document_sha256,
                      _all(request, session), {}, NOW)
