"""Reviewers judge the document, not what the requester typed. Each story
is told through the services on SQLite and PostgreSQL; the last test plays them on a SQLite
file with real commits and greps the file, its WAL and a backup for names and instrument text."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.db import build_engine, build_sessionmaker
from safeslot.disclosure import attest, intake, release, review, samplepdf, service, signatures
from safeslot.disclosure import repository as repo
from safeslot.disclosure.errors import ReleaseNotReady, RequestRefused
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.identity import service as identity
from safeslot.kit.crypto import KeyRing
from safeslot.reports import render
from safeslot.reports.compute import compute
from safeslot.reports.schemas import Period
from safeslot.scheduling import demo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency.models import LogEntry
from safeslot.transparency.note import Signer
from tests.conftest import NOW
from tests.disclosure.conftest import AGENCY, COUNSEL, OFFICIAL, POLICIES, PRIVACY, seed_actors
from tests.disclosure.signing import CourtCA, tamper

PERSON = "Test Person A"
I205 = samplepdf.write([["U.S. Department of Homeland Security", "DHS Form I-205, Warrant of Removal/Deportation",
                         f"To any immigration officer: {PERSON}", "Signed: Immigration Judge (test only)"]])
ORDER = samplepdf.write([["UNITED STATES DISTRICT COURT, DISTRICT OF EXAMPLE", "ORDER, case 1:27-mc-00007",
                          f"The office shall disclose the name and contact details of {PERSON}.",
                          "Signed: Hon. Test Judge, United States District Judge"]])
WARRANT = samplepdf.write([["UNITED STATES DISTRICT COURT, DISTRICT OF EXAMPLE", "SEARCH WARRANT 1:27-mj-00099",
                            f"Records of appointments of {PERSON}, office central, visit on the date below.",
                            "Signed: Hon. Test Judge"]])
SECRETS = (PERSON, "Warrant of Removal", "DISTRICT OF EXAMPLE", "1:27-mc-00007", "1:27-mj-00099", "555-0142",
           "Test justification", "ICE ERO", "District of Example", "Hon. Test Judge", "Immigration Court")
PERIOD = Period.parse("2027H1")


def meta(**values: Any) -> RequestMetadata:
    base: dict[str, Any] = {
        "instrument_type": "court_order", "issuer": "U.S. District Court, District of Example",
        "court": "U.S. District Court, District of Example", "docket": "1:27-mc-00007",
        "signer_name": "Hon. Test Judge", "signer_type": "judge", "purpose": "criminal",
        "subjects": [{"name": PERSON, "office": "central"}], "categories": ["identity", "contact"],
    }
    base.update(values)
    return RequestMetadata.model_validate(base)


class Gate:
    """The gate as one office runs it: its policy, key ring, log signer and trusted court CA."""

    def __init__(self, session: Session, ring: KeyRing, court: CourtCA, folder: Path) -> None:
        self.session, self.ring, self.court = session, ring, court
        self.engine = PolicyEngine.load(POLICIES, "federal")
        self.signer = Signer.generate("safeslot.localhost/log")
        self.checks = intake.DocumentChecks(trust_roots=tuple(signatures.load_trust_roots(court.write_ca(folder))))

    def file(self, document: bytes, actor: Actor = OFFICIAL, **values: Any) -> DisclosureRequest:
        return intake.submit(self.session, self.ring, self.engine, actor, meta(**values), document, NOW, self.checks)

    def check(self, actor: Actor, request: DisclosureRequest, role: str, mismatch: dict[str, str] | None = None,
              ) -> None:
        """The reviewer compares each field with the document; `mismatch`: field → what it shows."""
        fields = attest.fields_for(request, repo.subjects(self.session, request.id))
        answers = {f: "mismatch" if mismatch and f in mismatch else "match" for f in fields}
        corrections = {f: v for f, v in (mismatch or {}).items() if v}
        attest.attest(self.session, self.ring, self.engine, actor, request.id, role, request.document_sha256,
                      answers, corrections, NOW)

    def approve_both(self, request: DisclosureRequest) -> bool:
        for actor, role in ((PRIVACY, "privacy_officer"), (COUNSEL, "counsel")):
            self.check(actor, request, role)
            done = review.approve(self.session, actor, request.id, role, NOW)
        return done

    def log(self) -> list[dict[str, Any]]:
        return [json.loads(d) for d in self.session.scalars(select(LogEntry.data).order_by(LogEntry.idx))]


def book(session: Session, ring: KeyRing, name: str, days: int, contact: str | None = None) -> Any:
    day = NOW.date() + dt.timedelta(days=days)
    _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
    return scheduling.book(session, ring, BookingIn.model_validate({
        "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(), "name": name,
        "contact": {"kind": "phone", "value": contact} if contact else None, "reminders_opt_in": bool(contact),
    }), NOW)


@pytest.fixture(scope="module")
def court() -> CourtCA:
    return CourtCA.make()


@pytest.fixture
def gate(session: Session, keyring: KeyRing, court: CourtCA, tmp_path: Path) -> Gate:
    demo.load(session, NOW.date(), weeks=2)
    identity.create_agency(session, AGENCY, "1 Example Plaza, Washington, DC", NOW)
    session.flush()
    return Gate(session, keyring, court, tmp_path / "court-ca")


def relabelled_i205(g: Gate) -> DisclosureRequest:
    book(g.session, g.ring, PERSON, 1)
    request = g.file(I205, instrument_type="judicial_warrant", court="Immigration Court (EOIR)",
                     docket="A-000-000-000", signer_name="Immigration Judge", signer_type="judge",
                     purpose="civil_immigration", categories=["appointment_schedule"])
    assert request.status == "in_review", "typed as a judge's warrant, the policy alone lets it through"
    # The privacy officer reads the page: an I-205 signed by an immigration judge.
    g.check(PRIVACY, request, "privacy_officer", {"instrument_type": "administrative_warrant",
                                                  "signer_type": "executive_adjudicator", "court": ""})
    return request


def test_the_relabelled_i205_is_stopped_at_attestation(gate: Gate) -> None:
    request = relabelled_i205(gate)
    assert request.status == "denied"
    decision = service.stored_decision(gate.session, request)
    assert all("administrative-warrant-refused" in d.policy_ids for d in decision.categories)
    assert all("executive-adjudicator-not-a-court" in d.policy_ids for d in decision.categories)
    with pytest.raises(ReleaseNotReady):
        release.create(gate.session, gate.ring, gate.signer, request.id, NOW)
    logged = [e for e in gate.log() if e.get("request_id") == request.id]
    [mismatch] = [e for e in logged if e.get("action") == "attestation_mismatch"]
    assert set(mismatch["fields"]) == {"instrument_type", "signer_type", "court"}
    assert [e.get("stage") for e in logged if e["event"] == "disclosure.decision"] == [None, "attestation"]


def test_a_court_order_signed_by_the_test_ca_validates_and_is_released_after_both_attestations(
    gate: Gate,
) -> None:
    book(gate.session, gate.ring, PERSON, 1, contact="555-0142")
    request = gate.file(gate.court.sign(ORDER))
    assert (request.document_signature, request.status) == ("valid", "in_review")
    with pytest.raises(Exception, match="field by field"):
        review.approve(gate.session, PRIVACY, request.id, "privacy_officer", NOW)
    assert gate.approve_both(request) is True
    _, token = release.create(gate.session, gate.ring, gate.signer, request.id, NOW)
    approvals = [e for e in gate.log() if e.get("action") == "approve"]
    assert len(approvals) == 2
    for entry in approvals:
        assert entry["attestation"]["document_sha256"] == request.document_sha256
        assert entry["attestation"]["reviewer"].startswith("reviewer-")
        assert {"instrument_type", "signer", "court", "docket", "subject-1"} <= set(entry["attestation"]["fields"])
    package = json.loads(release.download(gate.session, gate.ring, OFFICIAL, token, NOW)["package"])
    assert package["people"][0]["identity"]["name"] == PERSON


def test_the_same_pdf_with_one_byte_changed_is_denied_as_invalid(gate: Gate) -> None:
    book(gate.session, gate.ring, PERSON, 1)
    request = gate.file(tamper(gate.court.sign(ORDER), b"Test Person A"))
    assert (request.document_signature, request.status) == ("invalid", "denied")
    assert all(d.policy_ids == ("document-signature-invalid",)
               for d in service.stored_decision(gate.session, request).categories)


def test_a_warrant_naming_one_person_with_two_bookings_releases_nothing_until_counsel_picks_one(
    gate: Gate,
) -> None:
    first = book(gate.session, gate.ring, PERSON, 1)
    second = book(gate.session, gate.ring, PERSON, 3)
    request = gate.file(WARRANT, instrument_type="judicial_warrant", docket="1:27-mj-00099",
                        categories=["appointment_schedule"])
    [subject] = repo.subjects(gate.session, request.id)
    assert subject.status == "ambiguous" and sorted(subject.candidates) == sorted([first.id, second.id])
    with pytest.raises(Exception, match="resolve the match"):
        gate.approve_both(request)
    with pytest.raises(ReleaseNotReady):
        release.create(gate.session, gate.ring, gate.signer, request.id, NOW)
    review.resolve_match(gate.session, COUNSEL, request.id, subject.id, second.id, "visit_date_on_document", NOW)
    gate.approve_both(request)
    _, token = release.create(gate.session, gate.ring, gate.signer, request.id, NOW)
    package = json.loads(release.download(gate.session, gate.ring, OFFICIAL, token, NOW)["package"])
    assert [a["starts_at"] for a in package["people"][0]["appointment_schedule"]] == [second.starts_at.isoformat()]
    logged = [e for e in gate.log() if e.get("request_id") == request.id]
    assert [e["candidates"] for e in logged if e["event"] == "disclosure.decision"] == [[2]]
    [released] = [e for e in logged if e["event"] == "disclosure.release"]
    assert released["subjects"] == 1


def test_an_officer_signed_emergency_for_civil_immigration_is_denied(gate: Gate) -> None:
    book(gate.session, gate.ring, PERSON, 1, contact="555-0142")
    request = gate.file(ORDER, instrument_type="emergency", signer_type="officer", court=None, docket=None,
                        purpose="civil_immigration", emergency_justification="Test justification: urgent.")
    assert request.status == "denied"
    assert all("emergency-not-for-enforcement" in d.policy_ids
               for d in service.stored_decision(gate.session, request).categories)


def test_an_order_with_no_end_date_cannot_defer_the_accounting(gate: Gate) -> None:
    book(gate.session, gate.ring, PERSON, 1)
    request = gate.file(ORDER, non_disclosure_order={"authority": "Sealing order, case 1:27-mc-00007"})
    assert request.status == "denied"
    assert all("nondisclosure-order-without-end" in d.policy_ids
               for d in service.stored_decision(gate.session, request).categories)
    assert gate.session.scalars(select(AccountingEntry).where(AccountingEntry.request_id == request.id)).all() == []


def test_a_free_text_agency_name_reaches_neither_the_log_nor_the_report(gate: Gate) -> None:
    clerk = Actor("staff", 77, frozenset({"clerk"}))
    typed = '=HYPERLINK("http://x","ICE ERO (verbal, for Test Person A)")'
    with pytest.raises(Exception, match="agency"):
        RequestMetadata.model_validate({**meta().model_dump(mode="json"), "agency": typed})
    with pytest.raises(RequestRefused, match="registry"):
        gate.file(ORDER, actor=clerk, agency_id=999_999)
    logged = gate.log()
    text = json.dumps(logged) + render.to_csv(compute(logged, PERIOD)).decode()
    assert "ICE ERO" not in text and "HYPERLINK" not in text and PERSON not in text
    assert [e["agency"] for e in logged if e["event"] == "disclosure.request_refused"] == ["unregistered"]


# --- the file on disk ----------------------------------------------------------------------


@pytest.fixture
def file_session(backend: str, fresh_url: str, keyring: KeyRing) -> Iterator[Callable[[], Any]]:
    if backend != "sqlite":
        pytest.skip("the grep reads the SQLite file; PostgreSQL plays the stories above")
    engine = build_engine(fresh_url)
    maker = build_sessionmaker(engine)
    yield maker
    engine.dispose()


def test_after_the_stories_the_database_file_its_wal_and_a_backup_hold_no_name_and_no_instrument_text(
    file_session: Callable[[], Any], fresh_url: str, keyring: KeyRing, court: CourtCA, tmp_path: Path,
) -> None:
    with file_session() as s, s.begin():
        g = Gate(s, keyring, court, tmp_path / "ca")
        demo.load(s, NOW.date(), weeks=2)
        identity.create_agency(s, AGENCY, "1 Example Plaza, Washington, DC", NOW)
        seed_actors(s)  # the reviewers' accounts, their grants past the cooling-off
    stories = [relabelled_i205]
    with file_session() as s, s.begin():
        g.session = s
        for story in stories:
            story(g)
    with file_session() as s, s.begin():
        g.session = s
        booked = book(s, keyring, PERSON, 2, contact="555-0142")
        order = g.file(g.court.sign(ORDER))
        [subject] = repo.subjects(s, order.id)  # the I-205 story booked the same name: two candidates
        review.resolve_match(s, COUNSEL, order.id, subject.id, booked.id, "office_and_date_on_document", NOW)
        review.ask_information(s, PRIVACY, order.id, "privacy_officer",
                               f"Test justification: is page 2 about {PERSON}?", NOW, ring=keyring)
        review.provide_information(s, OFFICIAL, order.id, f"Yes, {PERSON}; 1:27-mc-00007.", NOW, ring=keyring)
        g.approve_both(order)
        release.create(s, keyring, g.signer, order.id, NOW)
    with file_session() as s, s.begin():
        g.session = s
        book(s, keyring, PERSON, 3)
        g.file(WARRANT, instrument_type="judicial_warrant", docket="1:27-mj-00099",
               categories=["appointment_schedule"])
        g.file(ORDER, instrument_type="emergency", signer_type="officer", court=None, docket=None,
               purpose="health_or_safety", emergency_justification="Test justification: missing person at risk.")
    path = Path(fresh_url.removeprefix("sqlite:///"))
    backup = tmp_path / "backup.db"
    with sqlite3.connect(path) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
    files = [f for f in (path, Path(f"{path}-wal"), backup) if f.exists()]
    assert Path(f"{path}-wal").exists(), "the WAL is part of what is checked"
    for file in files[:2]:
        assert file.stat().st_mode & 0o077 == 0, f"{file.name} is readable by others"
    for file in files:
        raw = file.read_bytes()
        for secret in SECRETS:
            for encoded in (secret.encode(), secret.encode("utf-16-le")):
                assert encoded not in raw, f"{secret!r} in {file.name}"
