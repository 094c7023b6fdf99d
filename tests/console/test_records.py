"""The public "Who has seen my records" page: the accounting with code and name, each entry checked
against the latest signed checkpoint, in English and Spanish, and nothing shown too early."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.console.public import records
from safeslot.disclosure import accounting, intake, release, samplepdf
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency import service as log_service
from safeslot.transparency.note import Signer
from tests.conftest import NOW
from tests.console.conftest import TOKEN
from tests.disclosure.conftest import approve

POLICIES = Path(__file__).resolve().parents[2] / "policies"
OFFICIAL = Actor("official", 501, agency="dhs-ice")
PRIVACY = Actor("staff", 9011, frozenset({"privacy_officer"}))
COUNSEL = Actor("staff", 9012, frozenset({"counsel"}))


@pytest.fixture(autouse=True)
def _reviewers(request: pytest.FixtureRequest) -> None:
    if "session" in request.fixturenames:
        from tests.disclosure.conftest import seed_actors

        seed_actors(request.getfixturevalue("session"), (PRIVACY, COUNSEL))
NAME = "Test Person M"


def _released(session: Session, keyring: KeyRing, **extra: Any) -> str:
    """Book for NAME, then a judicial warrant for her schedule: approved by two people, released.
    Returns the confirmation code."""
    day = NOW.date() + dt.timedelta(days=1)
    _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
    appointment = scheduling.book(session, keyring, BookingIn.model_validate({
        "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(), "name": NAME}), NOW)
    meta = RequestMetadata.model_validate({
        "instrument_type": "judicial_warrant", "issuer": "U.S. District Court, District of Example",
        "court": "U.S. District Court, District of Example", "docket": "1:27-mj-00042",
        "signer_name": "Hon. Judge Example", "signer_type": "judge", "statutes": ["18 U.S.C. 3117"],
        "purpose": "criminal", "subjects": [{"name": NAME, "office": "central"}],
        "categories": ["appointment_schedule"], **extra,
    })
    engine = PolicyEngine.load(POLICIES, "federal")
    found = intake.submit(session, keyring, engine, OFFICIAL, meta, samplepdf.write([["Court order (test only)"]]), NOW)
    approve(session, keyring, PRIVACY, found.id, "privacy_officer", NOW)
    approve(session, keyring, COUNSEL, found.id, "counsel", NOW)
    release.create(session, keyring, Signer.generate("safeslot.localhost/log"), found.id, NOW)
    session.flush()
    return scheduling.format_code(appointment.code)


def _look_up(client: TestClient, code: str, name: str, lang: str = "") -> Any:
    page = client.get("/records" + (f"?lang={lang}" if lang else ""))
    assert page.status_code == 200
    found = TOKEN.search(page.text)
    assert found
    return client.post("/records", data={"code": code, "name": name, "csrf_token": found.group(1)})


def test_the_accounting_names_the_recipient_with_its_address(
    session: Session, keyring: KeyRing, office: str, client: TestClient
) -> None:
    """5 U.S.C. 552a(c)(1): the name and address of the agency the records went to."""
    from safeslot.identity import service as identity

    identity.create_agency(session, "dhs-ice", "500 Example Street NW, Washington, DC 20001", NOW)
    code = _released(session, keyring)
    page = _look_up(client, code, NAME)
    assert "dhs-ice" in page.text and "500 Example Street NW, Washington, DC 20001" in page.text
    api = client.post("/api/v1/accounting/lookup", json={"code": code, "name": NAME}).json()
    assert api["entries"][0]["recipient_address"] == "500 Example Street NW, Washington, DC 20001"


def test_the_person_sees_the_disclosure_checked_against_the_signed_log(
    session: Session, keyring: KeyRing, office: str, client: TestClient
) -> None:
    code = _released(session, keyring)
    answer = _look_up(client, code, NAME)
    assert answer.status_code == 200, answer.text
    assert "Checked: this entry is in the public log." in answer.text
    assert re.search(r"</code> It matches\.", answer.text), "the fingerprint and the sentence after it apart"
    assert "Your appointment times" in answer.text and "A criminal case" in answer.text
    assert NAME not in answer.text, "the page never echoes the name"
    proof_url = re.search(r'href="(/log/proof/inclusion\?index=\d+&amp;size=\d+)"', answer.text)
    assert proof_url, "a one-click link to the JSON proof"
    proof = client.get(proof_url.group(1).replace("&amp;", "&"))
    assert proof.status_code == 200 and proof.json()["proof"] is not None


def test_in_spanish(session: Session, keyring: KeyRing, office: str, client: TestClient) -> None:
    code = _released(session, keyring)
    answer = _look_up(client, code, NAME, lang="es")
    assert '<html lang="es">' in answer.text
    assert "Revisado: esta entrada está en el registro público." in answer.text


def test_a_wrong_name_looks_exactly_like_no_disclosures(
    session: Session, keyring: KeyRing, office: str, client: TestClient
) -> None:
    code = _released(session, keyring)
    answer = _look_up(client, code, "Someone Else")
    assert answer.status_code == 200
    assert 'id="no-entries"' in answer.text and "Checked" not in answer.text


def test_an_entry_under_a_non_disclosure_order_appears_only_when_the_order_ends(
    session: Session, keyring: KeyRing, office: str, app_factory: Callable[..., TestClient]
) -> None:
    ends = NOW + dt.timedelta(days=90)
    code = _released(session, keyring, non_disclosure_order={"authority": "18 U.S.C. 2705(b)",
                                                            "expires_at": ends.isoformat()})
    before = _look_up(app_factory(clock=lambda: ends - dt.timedelta(seconds=1)), code, NAME)
    assert 'id="no-entries"' in before.text
    after = _look_up(app_factory(clock=lambda: ends), code, NAME)
    assert "Checked: this entry is in the public log." in after.text


def test_form_errors_and_a_missing_csrf_token(client: TestClient) -> None:
    empty = _look_up(client, "", "")
    assert empty.status_code == 422
    assert "Enter the code from your confirmation." in empty.text
    assert "Enter your name as you gave it when you booked." in empty.text
    forged = client.post("/records", data={"code": "ABCDE-12345", "name": NAME})
    assert forged.status_code == 403 and "This form has expired" in forged.text


def test_the_check_fails_when_anything_does_not_match(
    session: Session, keyring: KeyRing, office: str, client: TestClient
) -> None:
    code = _released(session, keyring)
    client.get("/log/checkpoint")  # sign the tree that holds the entry
    app = client.app
    entry = accounting.lookup(session, keyring, code, NAME, NOW).entries[0]
    note = log_service.checkpoint_note(session) or ""
    verifier = app.state.log_signer.verifier()  # type: ignore[attr-defined]
    origin = app.state.settings.log.origin  # type: ignore[attr-defined]
    assert records.check_entry(session, verifier, origin, note, entry).ok
    wrong_salt = records.check_entry(session, verifier, origin, note, entry.model_copy(update={"salt": "00" * 32}))
    assert not wrong_salt.commitment_ok and not wrong_salt.in_entry and not wrong_salt.ok
    other_key = Signer.generate(origin).verifier()
    assert not records.check_entry(session, other_key, origin, note, entry).ok
    beyond = records.check_entry(session, verifier, origin, note, entry.model_copy(update={"log_index": 10_000}))
    assert not beyond.included


@pytest.fixture
def office_weeks() -> int:
    return 1
