"""Digital signatures on an instrument (disclosure/signatures.py), checked with pyHanko against the court CAs
the office trusts: valid, untrusted, invalid after any change, none on a scan; a file pyHanko cannot read is
never taken as signed. A court CA made in the test (tests/disclosure/signing.py); the intake stories around
it are in test_document.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeslot.disclosure import samplepdf, signatures
from safeslot.disclosure.policy_facts import DocumentSignature
from tests.disclosure.signing import CourtCA, tamper

ORDER = samplepdf.write([["ORDER (test only)", "Named: Test Person A", "Signed: Hon. Test Judge"]])


@pytest.fixture(scope="module")
def court() -> CourtCA:
    return CourtCA.make()


def test_a_signature_under_a_trusted_court_ca_is_valid_and_names_its_signer(court: CourtCA, tmp_path: Path) -> None:
    roots = signatures.load_trust_roots(court.write_ca(tmp_path / "ca"))
    assert len(roots) == 1
    found = signatures.check(court.sign(ORDER), roots)
    assert (found.status, found.count) == (DocumentSignature.VALID, 1)
    assert found.signer is not None and "Hon. Test Judge" in found.signer and found.signed_at is not None


def test_an_intact_signature_the_office_does_not_trust_is_untrusted(court: CourtCA) -> None:
    assert signatures.check(court.sign(ORDER), []).status == DocumentSignature.UNTRUSTED
    assert signatures.check(court.sign(ORDER), signatures.load_trust_roots(None)).status == (
        DocumentSignature.UNTRUSTED)


def test_one_changed_byte_makes_a_signature_invalid(court: CourtCA, tmp_path: Path) -> None:
    roots = signatures.load_trust_roots(court.write_ca(tmp_path / "ca"))
    assert signatures.check(tamper(court.sign(ORDER)), roots).status == DocumentSignature.INVALID


def test_a_scan_has_no_signature_and_an_unreadable_claim_of_one_is_invalid() -> None:
    assert signatures.check(ORDER, []) == signatures.SignatureCheck(DocumentSignature.NONE)
    assert signatures.check(b"%PDF-1.7 not a pdf /ByteRange [0 1 2 3]", []).status == DocumentSignature.INVALID
    assert signatures.check(b"%PDF-1.7 not a pdf", []).status == DocumentSignature.NONE


def test_only_certificate_files_in_the_folder_are_trusted(court: CourtCA, tmp_path: Path) -> None:
    folder = court.write_ca(tmp_path / "ca")
    (folder / "README.txt").write_text("not a certificate")
    assert len(signatures.load_trust_roots(folder)) == 1
    assert signatures.load_trust_roots(tmp_path / "missing") == []
