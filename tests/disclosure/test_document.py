"""The instrument document itself: intake accepts only a renderable, unencrypted
PDF within the limits; digital signatures are validated with pyHanko against the trusted
court CAs, and an invalid one denies (both databases)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.disclosure import document, intake, samplepdf, service, signatures
from safeslot.disclosure.document import DocumentLimits
from safeslot.disclosure.errors import RequestRefused
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW
from tests.disclosure.conftest import OFFICIAL, metadata
from tests.disclosure.signing import CourtCA, encrypt, tamper
from tests.disclosure.test_story import entries

ORDER = samplepdf.write([["UNITED STATES DISTRICT COURT, DISTRICT OF EXAMPLE (test only)",
                          "ORDER under 5 U.S.C. 552a(b)(11), case 1:27-mc-00007", "Named: Test Person A",
                          "Signed: Hon. Test Judge"]])


@pytest.fixture(scope="module")
def court() -> CourtCA:
    return CourtCA.make()


def _file(session: Session, keyring: KeyRing, engine: PolicyEngine, document: bytes,
          checks: intake.DocumentChecks = intake.DEFAULT_CHECKS) -> DisclosureRequest:
    meta = metadata(instrument_type="court_order", subjects=[{"name": "Test Person A"}], categories=["identity"])
    return intake.submit(session, keyring, engine, OFFICIAL, meta, document, NOW, checks)


@pytest.mark.parametrize(("document", "message"), [
    (b"%PDF-1.7\n% only a header, nothing to render\n%%EOF\n", "cannot be rendered"),
    (encrypt(ORDER), "encrypted"),
    (samplepdf.write([["page"]] * 4), "more pages"),
], ids=["unrenderable", "encrypted", "too-many-pages"])  # ids: the encrypted bytes differ per xdist worker
def test_a_document_the_server_cannot_show_is_refused_and_only_the_refusal_is_logged(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine, agency_id: int, document: bytes,
    message: str,
) -> None:
    checks = intake.DocumentChecks(limits=DocumentLimits(max_pages=3))
    with pytest.raises(RequestRefused, match=message):
        _file(session, keyring, engine_federal, document, checks)
    assert session.scalar(select(func.count()).select_from(DisclosureRequest)) == 0
    assert [e["event"] for e in entries(session)] == ["disclosure.request_refused"]


def test_a_signed_court_order_validates_against_the_trusted_court_ca(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine, agency_id: int, court: CourtCA,
    book: Callable[..., Appointment], tmp_path: Path,
) -> None:
    book("Test Person A")
    roots = tuple(signatures.load_trust_roots(court.write_ca(tmp_path / "ca")))
    signed = court.sign(ORDER)
    request = _file(session, keyring, engine_federal, signed, intake.DocumentChecks(trust_roots=roots))
    assert (request.document_signature, request.status, request.document_pages) == ("valid", "in_review", 1)
    assert request.signature_signed_at is not None
    assert "Hon. Test Judge" in keyring.open(request.signature_signer_enc or b"", "disclosure_request.signature_signer")
    # The same file where the office trusts no court CA: intact, but untrusted (reviewers see it).
    untrusted = _file(session, keyring, engine_federal, signed)
    assert (untrusted.document_signature, untrusted.status) == ("untrusted", "in_review")


def test_the_same_pdf_with_one_byte_changed_is_denied_as_invalid(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine, agency_id: int, court: CourtCA,
    book: Callable[..., Appointment], tmp_path: Path,
) -> None:
    book("Test Person A")
    roots = tuple(signatures.load_trust_roots(court.write_ca(tmp_path / "ca")))
    request = _file(session, keyring, engine_federal, tamper(court.sign(ORDER)),
                    intake.DocumentChecks(trust_roots=roots))
    assert (request.document_signature, request.status) == ("invalid", "denied")
    decision = service.stored_decision(session, request)
    assert all(d.policy_ids == ("document-signature-invalid",) for d in decision.categories)
    assert "Test Person" not in json.dumps(entries(session))


def test_an_unsigned_scan_is_none_and_the_policy_decides_on_the_rest(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine, agency_id: int,
    book: Callable[..., Appointment],
) -> None:
    book("Test Person A")
    request = _file(session, keyring, engine_federal, ORDER)
    assert (request.document_signature, request.status) == ("none", "in_review")


def test_a_server_starts_its_pdf_worker_before_the_first_instrument_arrives() -> None:
    # A worker spawned by the first filing made that filing (and those queued behind it) wait for Python and
    # PDFium to load: over ten seconds under the failover drill's load. Servers warm it at start-up instead.
    document.stop_worker()
    assert not document._WORKER.running()
    document.warm(DocumentLimits())
    assert document._WORKER.running()
    assert document.inspect(ORDER, DocumentLimits()).pages == 1
