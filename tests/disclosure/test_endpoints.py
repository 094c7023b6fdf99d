"""The gate over HTTP: multipart intake, roles from the authorization table, two-person
review, the one-time link, and the public accounting lookup (both databases)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import service as identity
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment, Office
from tests.conftest import NOW
from tests.disclosure.conftest import PDF
from tests.identity.helpers import make_staff

AGENCY_NAME = "Example Federal Agency"
PASSWORD = "correct horse battery staple"


def staff(session: Session, ring: KeyRing, username: str, roles: list[str]) -> dict[str, str]:
    """An account with an API token; privileged roles proposed and approved by two founders."""
    office = session.scalars(select(Office.slug)).first() if {"clerk", "supervisor"} & set(roles) else None
    account, _ = make_staff(session, ring, roles, office, username)
    _, secret = identity.issue_credential(session, "api", NOW, staff=account)
    return {"Authorization": f"Bearer {secret}"}


def official(session: Session, ring: KeyRing, verifier_headers: dict[str, str]) -> dict[str, str]:
    agency = identity.create_agency(session, AGENCY_NAME, "1 Example Way", NOW)
    person = identity.add_official(session, agency.id, "Agent Example", "Special Agent", "delegate", NOW)
    verifier = session.scalars(select(StaffAccount).where(StaffAccount.username == "po")).one()
    principal = identity.Principal("staff", verifier.id, "po", frozenset({"privacy_officer"}), None, 0, "api", "")
    identity.record_verification(session, agency.id, person.id, principal, "phone_callback", "called back", NOW)
    _, secret = identity.issue_agency_key(session, agency.id, person.id, NOW, revoke_others=False)
    return {"Authorization": f"Bearer {secret}"}


def meta(**overrides: Any) -> str:
    base: dict[str, Any] = {
        "instrument_type": "judicial_warrant", "issuer": "U.S. District Court", "court": "U.S. District Court",
        "docket": "1:27-mj-00042", "signer_name": "Hon. Judge Example", "signer_type": "judge",
        "purpose": "criminal", "subjects": [{"name": "Test Person M", "office": "central"}],
        "categories": ["appointment_schedule"],
    }
    base.update(overrides)
    return json.dumps(base)


def test_the_gate_over_http(
    client: TestClient, session: Session, keyring: KeyRing, book: Callable[..., Appointment],
) -> None:
    person_m = book("Test Person M")
    po = staff(session, keyring, "po", ["privacy_officer"])
    counsel = staff(session, keyring, "counsel", ["counsel"])
    clerk = staff(session, keyring, "clerk", ["clerk"])
    agent = official(session, keyring, po)
    session.flush()

    # Intake: no document, a group instead of names, an unknown category → 422.
    r = client.post("/api/v1/disclosure-requests", data={"metadata": meta()}, headers=agent)
    assert r.status_code == 422 and "PDF" in r.json()["detail"]
    r = client.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                    data={"metadata": meta(subjects=[], scope_description="everyone at central next week")})
    assert r.status_code == 422 and "groups of people" in r.json()["detail"]
    r = client.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                    data={"metadata": meta(categories=["citizenship"])})
    assert r.status_code == 422
    assert client.get("/api/v1/disclosure-requests", headers=po).json() == []

    # The administrative warrant: denied, reasons given, no personal data in the answer.
    r = client.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("i205.pdf", PDF)},
                    data={"metadata": meta(instrument_type="administrative_warrant", signer_type="officer",
                                           court=None, docket=None, purpose="civil_immigration")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "denied" and {d["outcome"] for d in body["decisions"]} == {"deny"}
    assert "Person M" not in r.text

    # The judicial warrant: in review; a clerk cannot approve; one person approves once.
    r = client.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                    data={"metadata": meta()})
    assert r.status_code == 201 and r.json()["status"] == "in_review"
    rid = r.json()["id"]
    # Matches are shown once a reviewer has accepted the request for review.
    assert client.get(f"/api/v1/disclosure-requests/{rid}/subjects", headers=counsel).status_code == 409
    assert client.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=counsel).status_code == 200
    [subject] = client.get(f"/api/v1/disclosure-requests/{rid}/subjects", headers=counsel).json()
    assert subject["status"] == "matched" and subject["included"] == [person_m.id] and "name" not in subject
    from safeslot.privacy.models import AccessRecord

    reads = session.scalars(select(AccessRecord)).all()
    assert [(a.record_id, a.purpose) for a in reads] == [(str(person_m.id), "disclosure_review")]
    assert client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "privacy_officer"},
                       headers=clerk).status_code == 403
    assert client.get(f"/api/v1/disclosure-requests/{rid}/release", headers=agent).status_code == 409
    # No approval before the reviewer checked the document field by field.
    r = client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "privacy_officer"}, headers=po)
    assert r.status_code == 409 and "field by field" in r.json()["detail"]
    body = client.get(f"/api/v1/disclosure-requests/{rid}", headers=po).json()
    answers = dict.fromkeys(body["attestation_fields"], "match")
    attestation = {"role": "privacy_officer", "document_sha256": body["document_sha256"], "fields": answers}
    r = client.post(f"/api/v1/disclosure-requests/{rid}/attestations", json={**attestation, "fields": {}},
                    headers=po)
    assert r.status_code == 422 and "exactly these fields" in r.json()["detail"]
    r = client.post(f"/api/v1/disclosure-requests/{rid}/attestations",
                    json={**attestation, "document_sha256": "0" * 64}, headers=po)
    assert r.status_code == 409
    assert client.post(f"/api/v1/disclosure-requests/{rid}/attestations", json=attestation,
                       headers=clerk).status_code == 403
    assert client.post(f"/api/v1/disclosure-requests/{rid}/attestations", json=attestation,
                       headers=po).status_code == 200
    assert client.post(f"/api/v1/disclosure-requests/{rid}/attestations", headers=counsel,
                       json={**attestation, "role": "counsel"}).status_code == 200
    r = client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "privacy_officer"}, headers=po)
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    assert client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "counsel"},
                       headers=po).status_code == 403
    r = client.post(f"/api/v1/disclosure-requests/{rid}/approvals", json={"role": "counsel"}, headers=counsel)
    assert r.status_code == 200 and r.json()["status"] == "released"

    # The official fetches the link, downloads once; a second download is refused.
    link = client.get(f"/api/v1/disclosure-requests/{rid}/release", headers=agent).json()
    path = link["download_url"].split("8000", 1)[1]
    assert client.get(path, headers=po).status_code == 403
    got = client.get(path, headers=agent)
    assert got.status_code == 200
    package = json.loads(got.json()["package"])
    assert package["people"][0]["appointment_schedule"][0]["starts_at"] == person_m.starts_at.isoformat()
    assert client.get(path, headers=agent).status_code == 409

    # The person's accounting: the entry is visible (no non-disclosure order here).
    r = client.post("/api/v1/accounting/lookup", json={"code": person_m.code, "name": "Test Person M"})
    assert r.status_code == 200
    [entry] = r.json()["entries"]
    assert entry["recipient"] == AGENCY_NAME and entry["categories"] == ["appointment_schedule"]
    assert client.post("/api/v1/accounting/lookup",
                       json={"code": person_m.code, "name": "Not Her"}).json()["entries"] == []
    lines = client.get(f"/api/v1/disclosure-requests/{rid}/explanation", headers=counsel).json()["lines"]
    assert any("Appointment schedule: allowed" in line for line in lines)


def test_refusals_keep_only_a_log_entry_and_staff_can_scan_paper_requests(
    client: TestClient, session: Session, keyring: KeyRing, book: Callable[..., Appointment],
) -> None:
    from safeslot.transparency.models import LogEntry

    book("Test Person M")
    clerk = staff(session, keyring, "clerk", ["clerk"])
    po = staff(session, keyring, "po", ["privacy_officer"])
    counsel = staff(session, keyring, "counsel", ["counsel"])
    registered = identity.create_agency(session, "Example Agency", "1 Example Road", NOW)
    session.flush()
    # A typed agency name is no way in; only the registry id, and only a registered one.
    r = client.post("/api/v1/disclosure-requests", headers=clerk, files={"document": ("x.pdf", PDF)},
                    data={"metadata": meta(agency="=HYPERLINK(\"x\") ICE ERO (verbal)")})
    assert r.status_code == 422 and "agency" in r.json()["detail"]
    r = client.post("/api/v1/disclosure-requests", headers=clerk, files={"document": ("x.pdf", PDF)},
                    data={"metadata": meta(agency_id=registered.id + 1000)})
    assert r.status_code == 422 and "registry" in r.json()["detail"]
    logged = [e for e in (json.loads(d) for d in session.scalars(select(LogEntry.data)))
              if not e["event"].startswith("identity.")]  # the staff accounts made above are public too
    assert [e["agency"] for e in logged] == ["unregistered", "unregistered"]
    assert "HYPERLINK" not in json.dumps(logged) and "ERO" not in json.dumps(logged)
    r = client.post("/api/v1/disclosure-requests", headers=clerk, files={"document": ("x.pdf", PDF)},
                    data={"metadata": meta(agency_id=registered.id, instrument_type="verbal")})
    assert r.status_code == 422 and "instrument_type" in r.json()["detail"]
    events = [e for e in (json.loads(d)["event"] for d in session.scalars(select(LogEntry.data)))
              if not e.startswith("identity.")]  # the staff accounts made above are public too
    assert events == ["disclosure.request_refused"] * 3

    r = client.post("/api/v1/disclosure-requests", headers=clerk, files={"document": ("x.pdf", PDF)},
                    data={"metadata": meta(agency_id=registered.id)})
    assert r.status_code == 201 and r.json()["status"] == "in_review"
    assert client.get("/api/v1/disclosure-requests", headers=clerk).status_code == 403

    # Legal holds: privacy officers only, and a hold denies the next request outright.
    hold = {"authority": "Injunction, case 27-cv-1", "agency": "Example Agency"}
    assert client.post("/api/v1/legal-holds", json=hold, headers=counsel).status_code == 403
    r = client.post("/api/v1/legal-holds", json=hold, headers=po)
    assert r.status_code == 201
    r = client.post("/api/v1/disclosure-requests", headers=clerk, files={"document": ("x.pdf", PDF)},
                    data={"metadata": meta(agency_id=registered.id)})
    assert r.json()["status"] == "denied"
    assert "legal-hold-recipient" in r.json()["decisions"][0]["policy_ids"]


def test_refusals_before_the_gate_are_logged_as_counts_by_reason(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing,
) -> None:
    """No credentials, a wrong role — counted per hour, logged once the hour closes."""
    from safeslot.transparency.models import LogEntry

    now = [NOW]
    client = app_factory(clock=lambda: now[0])
    clerk_of_nothing = staff(session, keyring, "auditor", ["auditor"])
    session.flush()
    body = {"data": {"metadata": meta()}, "files": {"document": ("x.pdf", PDF)}}
    assert client.post("/api/v1/disclosure-requests", **body).status_code == 401
    assert client.post("/api/v1/disclosure-requests", headers={"Authorization": "Bearer nonsense"},
                       **body).status_code == 401
    assert client.post("/api/v1/disclosure-requests", headers=clerk_of_nothing, **body).status_code == 403

    def gate_entries() -> list[dict[str, Any]]:
        found = [json.loads(e.data) for e in session.scalars(select(LogEntry))]
        return [e for e in found if e["event"] == "disclosure.refused_before_gate"]

    assert gate_entries() == []  # the hour is still open
    now[0] = NOW + dt.timedelta(hours=1)
    assert client.post("/api/v1/disclosure-requests", **body).status_code == 401
    [entry] = gate_entries()
    assert entry["period"] == "2027-03-01T14"
    assert entry["counts"] == {"no_credentials": 1, "invalid_credentials": 1, "wrong_role": 1}
    assert "nonsense" not in json.dumps(entry) and "auditor" not in json.dumps(entry)


def test_a_filing_retried_with_its_idempotency_key_is_filed_once(
    client: TestClient, session: Session, keyring: KeyRing, book: Callable[..., Appointment],
) -> None:
    """A filing whose answer was lost (a 503 while the database failed over, its COMMIT already on the standby)
    is sent again: with the same Idempotency-Key it gets the first answer, not a second request."""
    from safeslot.transparency.models import LogEntry

    book("Test Person M")
    po = staff(session, keyring, "po", ["privacy_officer"])
    agent = official(session, keyring, po)
    session.flush()

    def file(key: str, **overrides: Any) -> Any:
        return client.post("/api/v1/disclosure-requests", headers={**agent, "Idempotency-Key": key},
                           files={"document": ("w.pdf", PDF)}, data={"metadata": meta(**overrides)})

    def decisions() -> int:
        return sum(json.loads(d)["event"] == "disclosure.decision" for d in session.scalars(select(LogEntry.data)))

    first = file("filing-1")
    again = file("filing-1")
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"] and again.headers.get("idempotent-replayed") == "true"
    assert len(client.get("/api/v1/disclosure-requests", headers=po).json()) == 1 and decisions() == 1
    # Another filing under the same key: refused as a reused key, nothing filed.
    other = file("filing-1", docket="1:27-mj-00043")
    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"
    assert len(client.get("/api/v1/disclosure-requests", headers=po).json()) == 1
    # A refused filing keeps only its refusal entry, not its key: sent again, it is refused again (not "in use").
    group = {"subjects": [], "scope_description": "everyone at central next week"}
    for _ in range(2):
        refused = file("filing-2", **group)
        assert refused.status_code == 422 and "groups of people" in refused.json()["detail"], refused.text
    # A key a server cannot keep is bad input, as on bookings.
    assert file("x" * 201).status_code == 422
