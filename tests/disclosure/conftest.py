"""Fixtures for the disclosure gate: the demo office, people with appointments, actors,
the parsed policy engine and the log's signer."""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from safeslot.disclosure import attest, intake, release, review, samplepdf, service
from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import DisclosureRequest, Release
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.identity.models import RoleGrant, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency.note import Signer
from tests.conftest import NOW

POLICIES = Path(__file__).resolve().parents[2] / "policies"
# A real, renderable PDF (intake renders every instrument); made-up text only.
PDF = samplepdf.write([["UNITED STATES DISTRICT COURT, DISTRICT OF EXAMPLE (test only)",
                        "WARRANT, case 1:27-mj-00042", "Named: Test Person M", "Signed: Hon. Judge Example"]])
AGENCY = "dhs-ice"

OFFICIAL = Actor("official", 501, agency=AGENCY)
# Staff actors of the service-level tests. Their accounts (with these ids, far above what a test's
# sequences reach) are seeded for every database test here: reviewer grants approved four days before
# NOW, so past the cooling-off (tests/identity/test_proposals.py tests the grants themselves).
PRIVACY = Actor("staff", 9011, frozenset({"privacy_officer"}))
COUNSEL = Actor("staff", 9012, frozenset({"counsel"}))
BOTH = Actor("staff", 9013, frozenset({"privacy_officer", "counsel"}))
CLERK = Actor("staff", 9014, frozenset({"clerk"}))
ACTORS = (PRIVACY, COUNSEL, BOTH, CLERK)


def seed_actors(session: Session, actors: tuple[Actor, ...] = ACTORS) -> None:
    """Accounts for the staff actors, with reviewer grants already past their cooling-off."""
    for actor in actors:
        if session.get(StaffAccount, actor.id) is not None:
            continue
        session.add(StaffAccount(id=actor.id, username=f"actor-{actor.id}", display_name="Desk Example",
                                 password_hash="!", totp_enc=b"", roles=" ".join(sorted(actor.roles)),
                                 active=True, demo=False, failed_logins=0, last_totp_step=0,
                                 created_at=NOW - dt.timedelta(days=5), enrolled_at=NOW - dt.timedelta(days=5)))
        session.flush()
        for role in actor.roles & {"privacy_officer", "counsel"}:
            session.add(RoleGrant(account_id=actor.id, role=role, origin="fixture",
                                  approved_at=NOW - dt.timedelta(days=4), effective_at=NOW - dt.timedelta(days=1)))
    session.flush()


@pytest.fixture(autouse=True)
def _seeded_actors(request: pytest.FixtureRequest) -> None:
    if "session" in request.fixturenames:
        seed_actors(request.getfixturevalue("session"))


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    """A copy of the shipped policies to change (test_policy.py, test_policy_set.py)."""
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    return copy


@pytest.fixture(scope="session")
def engine_federal() -> PolicyEngine:
    return PolicyEngine.load(POLICIES, "federal")


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer.generate("safeslot.localhost/log")




@pytest.fixture
def book(session: Session, keyring: KeyRing, office: str) -> Callable[..., Appointment]:
    """Book the first free slot on the given day (days after NOW) for a person."""

    def make(name: str, *, days: int = 1, contact: str | None = None, language: str | None = None,
             accommodation: str | None = None) -> Appointment:
        day = NOW.date() + dt.timedelta(days=days)
        _, _, slots = scheduling.search_slots(session, office, "apply", day, day, language, NOW)
        data = BookingIn.model_validate({
            "office": office, "service": "apply", "starts_at": slots[0].starts_at.isoformat(), "name": name,
            "language": language, "accommodation": accommodation,
            "contact": {"kind": "phone", "value": contact} if contact else None, "reminders_opt_in": bool(contact),
        })
        return scheduling.book(session, keyring, data, NOW)

    return make


# For helpers without the keyring fixture: attestations only use it for reviewer pseudonyms.
RING = KeyRing.generate()


@functools.cache
def _federal() -> PolicyEngine:
    return PolicyEngine.load(POLICIES, "federal")


def confirm(session: Session, ring: KeyRing, actor: Actor, request_id: int, role: str,
            now: dt.datetime = NOW) -> None:
    """The reviewer checks every field against the document and finds it matches."""
    request = service.get_request(session, request_id)
    answers = dict.fromkeys(attest.fields_for(request, repo.subjects(session, request_id)), "match")
    attest.attest(session, ring, _federal(), actor, request_id, role, request.document_sha256, answers, {}, now)


def approve(session: Session, ring: KeyRing, actor: Actor, request_id: int, role: str,
            now: dt.datetime = NOW) -> bool:
    """Attest every field as matching, then approve (True when both approvals stand)."""
    confirm(session, ring, actor, request_id, role, now)
    return review.approve(session, actor, request_id, role, now)


def approve_both(session: Session, request_id: int) -> None:
    """The privacy officer, then counsel: the two approvals a release needs."""
    approve(session, RING, PRIVACY, request_id, "privacy_officer", NOW)
    approve(session, RING, COUNSEL, request_id, "counsel", NOW)


def approve_and_release(session: Session, keyring: KeyRing, signer: Signer, request_id: int) -> tuple[Release, str]:
    """Both approvals, then the release: (the release, the requesting official's download token)."""
    approve_both(session, request_id)
    return release.create(session, keyring, signer, request_id, NOW)


# A subject named as a request names a person the tests booked ("Test Person 1" at the demo office).
TEST_PERSON = [{"name": "Test Person 1", "office": "central"}]


def metadata(**overrides: Any) -> RequestMetadata:
    base: dict[str, Any] = {
        "instrument_type": "judicial_warrant",
        "issuer": "U.S. District Court, District of Example",
        "court": "U.S. District Court, District of Example",
        "docket": "1:27-mj-00042",
        "signer_name": "Hon. Judge Example",
        "signer_type": "judge",
        "statutes": ["18 U.S.C. 3117"],
        "purpose": "criminal",
        "subjects": [{"name": "Test Person M", "office": "central"}],
        "categories": ["appointment_schedule"],
    }
    base.update(overrides)
    return RequestMetadata.model_validate(base)


@pytest.fixture
def agency_id(session: Session) -> int:
    """The requesting agency, registered (the log and the report name it by this id)."""
    from safeslot.identity import service as identity

    return identity.create_agency(session, AGENCY, "1 Example Plaza, Washington, DC", NOW).id


@pytest.fixture
def file_request(
    session: Session, keyring: KeyRing, engine_federal: PolicyEngine, agency_id: int
) -> Callable[..., DisclosureRequest]:
    def make(actor: Actor = OFFICIAL, document: bytes | None = PDF, now: dt.datetime = NOW,
             **overrides: Any) -> DisclosureRequest:
        return intake.submit(session, keyring, engine_federal, actor, metadata(**overrides), document, now)

    return make
