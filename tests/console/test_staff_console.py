"""The staff console over HTTP (no browser): sign-in with password and TOTP, each role's pages,
refusals as pages, CSRF on every form, access records for every person shown."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.disclosure import intake
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.identity import service as identity
from safeslot.privacy.crypto import KeyRing
from safeslot.privacy.models import AccessRecord
from safeslot.reports.models import PublishedReport
from safeslot.scheduling import demo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, Office
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW

POLICIES = Path(__file__).resolve().parents[2] / "policies"
PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NAME = "Maria Example"
HTML = "text/html,application/xhtml+xml,*/*;q=0.8"  # what a browser sends


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def office(session: Session) -> str:
    slug = demo.load(session, NOW.date(), weeks=1)
    session.flush()
    return slug


Staff = Callable[..., TestClient]


@pytest.fixture
def staff(session: Session, keyring: KeyRing, office: str, app_factory: Callable[..., TestClient]) -> Staff:
    """A signed-in browser-like client for a new account with the given roles."""

    def make(*roles: str, username: str | None = None) -> TestClient:
        office_id = session.scalars(select(Office.id).where(Office.slug == office)).one()
        account, secret = identity.create_account(
            session, keyring, username=username or "-".join(roles).replace("_", "-"), display_name="Desk Example",
            password=PASSWORD, roles=list(roles), now=NOW,
            office_id=office_id if {"clerk", "supervisor"} & set(roles) else None)
        session.flush()
        client = app_factory()
        client.headers["accept"] = HTML
        client.base_url = "https://testserver"  # type: ignore[assignment]  # the session cookie is Secure
        answer = client.post("/console/sign-in", data={
            "username": account.username, "password": PASSWORD, "totp": pyotp.TOTP(secret).at(NOW),
            "csrf_token": _token(client, "/console/sign-in")}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return client

    return make


def _token(client: TestClient, path: str) -> str:
    found = TOKEN.search(client.get(path).text)
    assert found, f"{path} has no CSRF field"
    return found.group(1)


def _book(session: Session, keyring: KeyRing, days: int = 1) -> Appointment:
    day = NOW.date() + dt.timedelta(days=days)
    _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
    return scheduling.book(session, keyring, BookingIn.model_validate({
        "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(), "name": NAME}), NOW)


def _request(session: Session, keyring: KeyRing, **extra: object) -> DisclosureRequest:
    meta = RequestMetadata.model_validate({
        "instrument_type": "judicial_warrant", "issuer": "U.S. District Court, District of Example",
        "court": "U.S. District Court, District of Example", "docket": "1:27-mj-00042",
        "signer_name": "Hon. Judge Example", "signer_type": "judge", "statutes": ["18 U.S.C. 3117"],
        "purpose": "criminal", "subjects": [{"name": NAME, "office": "central"}],
        "categories": ["appointment_schedule"], **extra})
    engine = PolicyEngine.load(POLICIES, "federal")
    found = intake.submit(session, keyring, engine, Actor("official", 501, agency="dhs-ice"), meta,
                          b"%PDF-1.7\n% test\n%%EOF\n", NOW)
    session.flush()
    return found


# -- sign-in and refusals ------------------------------------------------------------------------
def test_without_a_session_the_console_sends_you_to_sign_in(client: TestClient) -> None:
    for path in ("/console", "/console/appointments", "/console/audit"):
        answer = client.get(path, follow_redirects=False, headers={"accept": HTML})
        assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"
    api = client.get("/console/audit")
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem+json")


def test_a_wrong_code_is_refused_with_the_form_again(session: Session, keyring: KeyRing, office: str,
                                                     client: TestClient) -> None:
    identity.create_account(session, keyring, username="desk", display_name="Desk Example", password=PASSWORD,
                            roles=["auditor"], office_id=None, now=NOW)
    session.flush()
    answer = client.post("/console/sign-in", data={"username": "desk", "password": PASSWORD, "totp": "000000",
                                                   "csrf_token": _token(client, "/console/sign-in")})
    assert answer.status_code == 401
    assert "text/html" in answer.headers["content-type"]
    assert "Check your username, password and the six-digit code" in answer.text
    assert "safeslot_session" not in answer.headers.get("set-cookie", "")


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient) -> None:
    answer = client.post("/console/sign-in", data={"username": "desk", "password": PASSWORD, "totp": "123456"})
    assert answer.status_code == 403 and "This form has expired" in answer.text


def test_a_role_without_access_gets_a_page_not_json(staff: Staff) -> None:
    clerk = staff("clerk")
    for path in ("/console/disclosures", "/console/audit"):
        answer = clerk.get(path)
        assert answer.status_code == 403
        assert "text/html" in answer.headers["content-type"]
        assert "You do not have access to this page" in answer.text
    auditor = staff("auditor")
    assert auditor.get("/console/appointments").status_code == 403
    assert auditor.get("/console/disclosures/1").status_code == 403


# -- clerk -------------------------------------------------------------------------------------
def test_the_clerk_sees_the_office_day_and_each_read_is_recorded(
    session: Session, keyring: KeyRing, staff: Staff
) -> None:
    appointment = _book(session, keyring)
    clerk = staff("clerk")
    home = clerk.get("/console", follow_redirects=False)
    assert home.headers["location"] == "/console/appointments"
    page = clerk.get("/console/appointments")
    assert page.status_code == 200 and NAME in page.text
    reads = session.scalar(select(func.count()).select_from(AccessRecord).where(
        AccessRecord.record_id == str(appointment.id), AccessRecord.purpose == "front_desk"))
    assert reads == 1


def test_the_clerk_checks_someone_in_and_the_form_needs_the_session_token(
    session: Session, keyring: KeyRing, staff: Staff
) -> None:
    appointment = _book(session, keyring)
    code = scheduling.format_code(appointment.code)
    clerk = staff("clerk")
    forged = clerk.post(f"/console/appointments/{code}/status", data={"status": "checked-in"})
    assert forged.status_code == 403 and "This form has expired" in forged.text
    token = _token(clerk, "/console/appointments")
    done = clerk.post(f"/console/appointments/{code}/status", data={"status": "checked-in", "csrf_token": token})
    assert done.status_code == 200 and "The appointment was updated." in done.text
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "checked-in"  # type: ignore[union-attr]
    again = clerk.post(f"/console/appointments/{code}/status", data={"status": "checked-in", "csrf_token": token})
    assert again.status_code == 409 and "cannot become" in again.text, "a domain error is a page"


# -- privacy officer and counsel ----------------------------------------------------------------
def test_two_people_approve_in_the_console_and_the_release_is_accounted(
    session: Session, keyring: KeyRing, staff: Staff
) -> None:
    _book(session, keyring)
    found = _request(session, keyring, deadline=(NOW - dt.timedelta(days=1)).isoformat())
    officer = staff("privacy_officer")
    queue = officer.get("/console/disclosures")
    assert f"Request {found.id}" in queue.text and "Overdue" in queue.text
    detail = officer.get(f"/console/disclosures/{found.id}")
    assert "Policies that decided" in detail.text and "appointment_schedule" in detail.text
    token = TOKEN.search(detail.text).group(1)  # type: ignore[union-attr]
    first = officer.post(f"/console/disclosures/{found.id}/approve",
                         data={"role": "privacy_officer", "csrf_token": token})
    assert "Your approval is recorded." in first.text
    not_mine = officer.post(f"/console/disclosures/{found.id}/approve", data={"role": "counsel", "csrf_token": token})
    assert not_mine.status_code == 422, "a privacy officer cannot approve as counsel"
    counsel = staff("counsel")
    token = _token(counsel, f"/console/disclosures/{found.id}")
    second = counsel.post(f"/console/disclosures/{found.id}/approve", data={"role": "counsel", "csrf_token": token})
    assert "approved and released" in second.text
    assert session.scalar(select(func.count()).select_from(AccountingEntry).where(
        AccountingEntry.request_id == found.id)) == 1


def test_deny_needs_a_reason_and_then_closes_the_request(session: Session, keyring: KeyRing, staff: Staff) -> None:
    _book(session, keyring)
    found = _request(session, keyring)
    counsel = staff("counsel")
    token = _token(counsel, f"/console/disclosures/{found.id}")
    empty = counsel.post(f"/console/disclosures/{found.id}/deny", data={"role": "counsel", "csrf_token": token})
    assert empty.status_code == 422 and "Write a reason" in empty.text
    denied = counsel.post(f"/console/disclosures/{found.id}/deny",
                          data={"role": "counsel", "reason": "The warrant names another office.", "csrf_token": token})
    assert "The request is denied." in denied.text and "denied" in denied.text
    assert "Your review" not in denied.text, "a closed request has no review forms"


def test_ask_information_and_narrow(session: Session, keyring: KeyRing, staff: Staff) -> None:
    _book(session, keyring)
    found = _request(session, keyring, categories=["appointment_schedule", "visit_history"])
    officer = staff("privacy_officer")
    token = _token(officer, f"/console/disclosures/{found.id}")
    narrowed = officer.post(f"/console/disclosures/{found.id}/narrow", data={
        "role": "privacy_officer", "reason": "Only the schedule is needed.", "drop": "visit_history",
        "csrf_token": token})
    assert "The scope is narrowed." in narrowed.text
    asked = officer.post(f"/console/disclosures/{found.id}/ask", data={
        "role": "privacy_officer", "reason": "Which dates?", "csrf_token": token})
    assert "Your question was sent" in asked.text and "info_requested" in asked.text


# -- auditor -----------------------------------------------------------------------------------
def test_the_auditor_sees_log_status_and_alerts(session: Session, keyring: KeyRing, staff: Staff) -> None:
    auditor = staff("auditor")
    page = auditor.get("/console/audit")
    assert page.status_code == 200
    assert "Transparency log" in page.text and "Access-log alerts" in page.text
    assert auditor.get("/console", follow_redirects=False).headers["location"] == "/console/audit"
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    out = auditor.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.headers["location"] == "/console/sign-in"
    assert auditor.get("/console/audit", follow_redirects=False).status_code == 303, "the session is revoked"


def test_the_auditor_sees_published_reports_in_the_console(session: Session, staff: Staff) -> None:
    auditor = staff("auditor")
    assert "No report has been published yet" in auditor.get("/console/audit").text
    session.add(PublishedReport(
        period="2026H2", sha256="ab" * 32, checkpoint_size=7, checkpoint_root="root", log_index=8,
        signature="sig", document=b"{}", published_at=NOW,
    ))
    session.flush()
    page = auditor.get("/console/audit")
    assert page.status_code == 200
    assert 'href="/transparency/report/2026H2.json"' in page.text and "ab" * 32 in page.text
    spanish = auditor.get("/console/audit?lang=es")
    assert "Informes de transparencia publicados" in spanish.text


# -- supervisor --------------------------------------------------------------------------------
def test_the_supervisor_sees_the_office_and_others_do_not(staff: Staff) -> None:
    supervisor = staff("supervisor")
    assert supervisor.get("/console", follow_redirects=False).headers["location"] == "/console/office"
    page = supervisor.get("/console/office")
    assert page.status_code == 200
    assert "Opening hours" in page.text and "Staff and languages" in page.text and "Monday" in page.text
    spanish = supervisor.get("/console/office?lang=es")
    assert "Horario de atención" in spanish.text and "lunes" in spanish.text
    assert supervisor.get("/console/appointments").status_code == 403
    assert staff("clerk").get("/console/office").status_code == 403
