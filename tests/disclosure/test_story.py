"""The gate's story, told through the services on both databases.
HTTP-level checks (status codes, roles) are in test_endpoints.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.disclosure import accounting, holds, release, service
from safeslot.disclosure.errors import (
    PackageGone,
    ReleaseNotReady,
    RequestRefused,
    ReviewerNotAllowed,
)
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import AgreementIn, HoldIn
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment
from safeslot.transparency import interfaces as log_face
from safeslot.transparency import merkle
from safeslot.transparency import service as log
from safeslot.transparency.models import LogEntry
from safeslot.transparency.note import Signer, open_note
from tests.conftest import NOW
from tests.disclosure.conftest import BOTH, CLERK, COUNSEL, OFFICIAL, PRIVACY, RING, approve

ORIGIN = "safeslot.localhost/log"


def entries(session: Session) -> list[dict[str, object]]:
    rows = session.scalars(select(LogEntry).order_by(LogEntry.idx)).all()
    return [json.loads(r.data) for r in rows]


def test_administrative_warrant_is_denied_for_every_category_and_logged(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment],
    engine_federal: PolicyEngine,
) -> None:
    book("Test Person M")
    request = file_request(instrument_type="administrative_warrant", signer_type="officer", court=None, docket=None,
                           issuer="DHS ICE", signer_name="Officer Example", purpose="civil_immigration",
                           categories=["identity", "appointment_schedule", "contact"])
    assert request.status == "denied"
    out = service.view(session, engine_federal, request, NOW)
    assert {d.outcome for d in out.decisions} == {"deny"}
    assert all("administrative-warrant-refused" in d.policy_ids for d in out.decisions)
    assert all(any("not a judge" in r for r in d.reasons) for d in out.decisions)
    assert "Person M" not in out.model_dump_json()
    logged = [e for e in entries(session) if e.get("request_id") == request.id]
    assert [e["event"] for e in logged] == ["disclosure.decision"]
    assert "Person M" not in json.dumps(logged)
    lines = service.explain(session, engine_federal, request.id)
    assert any("Appointment schedule: denied" in line and "I-205" in line for line in lines)


def test_everyone_booked_at_an_office_is_refused_at_intake(
    session: Session, file_request: Callable[..., DisclosureRequest],
) -> None:
    with pytest.raises(RequestRefused, match="Name each person"):
        file_request(instrument_type="court_order", subjects=[],
                     scope_description="everyone booked at office central next week")
    assert session.scalar(select(func.count()).select_from(DisclosureRequest)) == 0
    assert [e["event"] for e in entries(session)] == ["disclosure.request_refused"]


@pytest.mark.parametrize(
    ("overrides", "document", "message"),
    [
        ({}, None, "Attach the signed instrument"),
        ({}, b"GIF89a not a pdf", "not a PDF"),
        ({"categories": ["immigration_status"]}, b"%PDF-1.4\n", "data categories"),
        ({"court": None}, b"%PDF-1.4\n", "'court' and 'docket'"),
    ],
)
def test_incomplete_requests_are_refused_and_only_the_refusal_is_kept(
    session: Session, file_request: Callable[..., DisclosureRequest], overrides: dict[str, object],
    document: bytes | None, message: str,
) -> None:
    with pytest.raises(RequestRefused, match=message):
        file_request(document=document, **overrides)
    assert session.scalar(select(func.count()).select_from(DisclosureRequest)) == 0
    refused = entries(session)
    assert [e["event"] for e in refused] == ["disclosure.request_refused"]
    assert "immigration_status" not in json.dumps(refused)


def _approve_both(session: Session, request_id: int) -> None:
    assert approve(session, RING, PRIVACY, request_id, "privacy_officer", NOW) is False
    assert approve(session, RING, COUNSEL, request_id, "counsel", NOW) is True


def test_judicial_warrant_releases_only_the_named_persons_schedule_after_two_approvals(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], engine_federal: PolicyEngine,
) -> None:
    person_m = book("Test Person M", contact="555-0100", accommodation="wheelchair access")
    book("Other Person", days=2)
    nda_end = NOW + dt.timedelta(days=90)
    request = file_request(non_disclosure_order={"authority": "Order sealing 1:27-mj-00042",
                                                 "expires_at": nda_end.isoformat()})
    assert request.status == "in_review"
    # Nothing leaves before both approvals.
    with pytest.raises(ReleaseNotReady):
        release.create(session, keyring, signer, request.id, NOW)
    approve(session, keyring, PRIVACY, request.id, "privacy_officer", NOW)
    with pytest.raises(ReleaseNotReady):
        release.create(session, keyring, signer, request.id, NOW)
    assert approve(session, keyring, COUNSEL, request.id, "counsel", NOW) is True
    rel, token = release.create(session, keyring, signer, request.id, NOW)

    got = release.download(session, keyring, OFFICIAL, token, NOW + dt.timedelta(hours=1))
    package = json.loads(got["package"])
    assert len(package["people"]) == 1
    person = package["people"][0]
    assert set(person) == {"appointment_schedule"}  # not identity, contact or accommodation
    assert [a["starts_at"] for a in person["appointment_schedule"]] == [person_m.starts_at.isoformat()]
    assert "Other" not in got["package"] and "555-0100" not in got["package"]
    text, _ = open_note(got["manifest"], [signer.verifier()])
    assert rel.package_sha256 in text

    # Accounting: exists, deferred while the non-disclosure order runs, then visible.
    assert accounting.lookup(session, keyring, person_m.code, "Test Person M", NOW).entries == []
    later = accounting.lookup(session, keyring, person_m.code, "test  PERSON-m", nda_end + dt.timedelta(days=1))
    [entry] = later.entries
    assert entry.categories == ["appointment_schedule"] and entry.recipient == "dhs-ice"
    assert log.commitment(bytes.fromhex(entry.salt), entry.person_id, str(request.id)) == entry.commitment
    after = nda_end + dt.timedelta(days=1)
    assert accounting.lookup(session, keyring, person_m.code, "Someone Else", after).entries == []

    # The log holds the decision and the release; inclusion proofs verify.
    logged = entries(session)
    events = [e["event"] for e in logged if e.get("request_id") == request.id]
    assert events == ["disclosure.decision", *["disclosure.review"] * 5, "disclosure.release",
                      "disclosure.accounting"]  # accepted for review, two attestations, two approvals
    assert [e.get("action") for e in logged if e.get("request_id") == request.id][1] == "accept"
    approvals = [e for e in logged if e.get("action") == "approve"]
    assert all(e["attestation"]["document_sha256"] == request.document_sha256 for e in approvals)
    assert all("instrument_type" in e["attestation"]["fields"] for e in approvals)
    assert {e["attestation"]["reviewer"] for e in approvals} == {e["reviewer"] for e in logged
                                                                 if e.get("action") == "attest"}
    assert "Person M" not in json.dumps(logged) and "555-0100" not in json.dumps(logged)
    log.checkpoint(session, signer, NOW, origin=ORIGIN)
    for index in (request.decision_log_index, rel.log_index, entry.log_index):
        assert index is not None
        proof = log.inclusion(session, index)
        merkle.verify_inclusion(proof.index, proof.size, proof.leaf_hash, proof.proof, proof.root)
        data, leaf = log.entry(session, index)
        assert merkle.leaf_hash(data) == proof.leaf_hash == leaf


def test_a_legal_hold_stops_a_sharing_agreement_until_lifted(
    session: Session, keyring: KeyRing, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    holds.create_agreement(session, PRIVACY, AgreementIn(
        agency="dhs-ice", kind="routine_use", reference="Routine use 7, SORN example", purposes=["program_integrity"],
        categories=["identity", "visit_history"], starts_at=NOW - dt.timedelta(days=30),
        expires_at=NOW + dt.timedelta(days=300)), NOW)
    hold = holds.create_hold(session, PRIVACY, HoldIn(authority="Preliminary injunction, case 27-cv-1",
                                                      agency="dhs-ice"), NOW)
    shared = {"instrument_type": "sharing_agreement", "signer_type": "agency_head", "court": None, "docket": None,
              "purpose": "program_integrity", "categories": ["identity"]}
    blocked = file_request(**shared)
    assert blocked.status == "denied"
    assert service.stored_decision(session, blocked).categories[0].policy_ids == ("legal-hold-recipient",)
    holds.lift_hold(session, PRIVACY, hold.id, NOW)
    allowed = file_request(**shared)
    assert allowed.status == "in_review"
    assert [e["event"] for e in entries(session)][:3] == ["sharing_agreement.created", "legal_hold.created",
                                                          "disclosure.decision"]
    with pytest.raises(ReviewerNotAllowed):
        holds.create_hold(session, COUNSEL, HoldIn(authority="Order", agency="dhs-ice"), NOW)


def test_two_different_people_must_approve_and_the_package_downloads_once(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment],
) -> None:
    book("Test Person M")
    request = file_request()
    with pytest.raises(ReviewerNotAllowed):
        approve(session, keyring, CLERK, request.id, "privacy_officer", NOW)
    approve(session, keyring, BOTH, request.id, "privacy_officer", NOW)
    with pytest.raises(ReviewerNotAllowed, match="already approved"):
        approve(session, keyring, BOTH, request.id, "counsel", NOW)
    assert approve(session, keyring, COUNSEL, request.id, "counsel", NOW) is True
    _, token = release.create(session, keyring, signer, request.id, NOW)
    with pytest.raises(ReviewerNotAllowed):
        release.download(session, keyring, PRIVACY, token, NOW)
    release.download(session, keyring, OFFICIAL, token, NOW)
    with pytest.raises(PackageGone):
        release.download(session, keyring, OFFICIAL, token, NOW)


def test_the_staff_member_who_registered_a_paper_request_cannot_approve_it(
    session: Session, file_request: Callable[..., DisclosureRequest], book: Callable[..., Appointment], agency_id: int,
) -> None:
    book("Test Person M")
    request = file_request(actor=PRIVACY, agency_id=agency_id)
    assert request.registered_by == PRIVACY.id and request.official_id is None
    with pytest.raises(ReviewerNotAllowed, match="registered"):
        approve(session, RING, PRIVACY, request.id, "privacy_officer", NOW)


def test_release_is_not_made_when_the_log_append_fails(
    session: Session, keyring: KeyRing, signer: Signer, file_request: Callable[..., DisclosureRequest],
    book: Callable[..., Appointment], monkeypatch: pytest.MonkeyPatch,
) -> None:
    book("Test Person M")
    request = file_request()
    _approve_both(session, request.id)

    def broken(*_: object, **__: object) -> list[int]:
        raise RuntimeError("log storage unavailable")

    monkeypatch.setattr(log_face, "append", broken)  # where disclosure reaches the log (its face)
    with pytest.raises(RuntimeError), session.begin_nested():
        release.create(session, keyring, signer, request.id, NOW)
    session.expire_all()
    assert service.get_request(session, request.id).status == "approved"
    from safeslot.disclosure import repository

    assert repository.release_for(session, request.id) is None
    assert session.scalars(select(AccountingEntry).where(AccountingEntry.request_id == request.id)).all() == []
