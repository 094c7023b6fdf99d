"""The staff console over HTTP (no browser): sign-in with password and TOTP, each role's pages,
refusals as pages, CSRF on every form, access records for every person shown."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from safeslot.disclosure import attest, intake, samplepdf
from safeslot.disclosure import repository as disclosure_repo
from safeslot.disclosure.models import AccountingEntry, DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.identity import service as identity
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessAlert, AccessRecord
from safeslot.reports.models import PublishedReport
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from safeslot.transparency import service as log_service
from safeslot.transparency.models import LogEntry, LogVerification
from tests.conftest import NOW
from tests.console.conftest import HTML, PASSWORD, TOKEN, SignIn
from tests.console.conftest import token as form_token
from tests.transparency.support import triggers_disabled

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NAME = "Test Person M"


@pytest.fixture
def office_weeks() -> int:
    return 1


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
                          samplepdf.write([["Court order (test only)"]]), NOW)
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
                                                   "csrf_token": form_token(client, "/console/sign-in")})
    assert answer.status_code == 401
    assert "text/html" in answer.headers["content-type"]
    assert "Check your username, password and the six-digit code" in answer.text
    assert "safeslot_session" not in answer.headers.get("set-cookie", "")


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient) -> None:
    answer = client.post("/console/sign-in", data={"username": "desk", "password": PASSWORD, "totp": "123456"})
    assert answer.status_code == 403 and "This form has expired" in answer.text


def test_a_role_without_access_gets_a_page_not_json(staff: SignIn) -> None:
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
    session: Session, keyring: KeyRing, staff: SignIn
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
    session: Session, keyring: KeyRing, staff: SignIn
) -> None:
    tomorrow = _book(session, keyring, days=1)
    appointment = _book(session, keyring, days=0)  # this afternoon
    code = scheduling.format_code(appointment.code)
    clerk = staff("clerk")
    day = clerk.get("/console/appointments").text
    row = re.search(rf'id="appt-{code}".*?</tr>', day, re.S)
    later = re.search(rf'id="appt-{scheduling.format_code(tomorrow.code)}".*?</tr>', day, re.S)
    assert row and "Check in" in row.group(0)
    assert later and "Check in" not in later.group(0), "check-in is for the day of the visit"
    token = form_token(clerk, "/console/appointments")
    early = clerk.post(f"/console/appointments/{scheduling.format_code(tomorrow.code)}/status",
                       data={"status": "checked-in", "csrf_token": token})
    assert early.status_code == 409 and "only on the day of their visit" in early.text
    forged = clerk.post(f"/console/appointments/{code}/status", data={"status": "checked-in"})
    assert forged.status_code == 403 and "This form has expired" in forged.text
    token = form_token(clerk, "/console/appointments")
    done = clerk.post(f"/console/appointments/{code}/status", data={"status": "checked-in", "csrf_token": token})
    assert done.status_code == 200 and "The appointment was updated." in done.text
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "checked-in"  # type: ignore[union-attr]
    again = clerk.post(f"/console/appointments/{code}/status", data={"status": "checked-in", "csrf_token": token})
    assert again.status_code == 409 and "cannot become" in again.text, "a domain error is a page"


# -- privacy officer and counsel ----------------------------------------------------------------
def test_two_people_approve_in_the_console_and_the_release_is_accounted(
    session: Session, keyring: KeyRing, staff: SignIn
) -> None:
    _book(session, keyring)
    found = _request(session, keyring, deadline=(NOW - dt.timedelta(days=1)).isoformat())
    officer = staff("privacy_officer")
    queue = officer.get("/console/disclosures")
    assert f"Request {found.id}" in queue.text and "Overdue" in queue.text
    detail = officer.get(f"/console/disclosures/{found.id}")
    assert "Policies that decided" in detail.text and "appointment_schedule" in detail.text
    # The document itself, rendered on the server, its text beside what was typed.
    assert f'src="/console/disclosures/{found.id}/pages/1"' in detail.text
    assert "Court order (test only)" in detail.text and NAME in detail.text
    assert 'id="approve"' not in detail.text and "field by field" in detail.text
    png = officer.get(f"/console/disclosures/{found.id}/pages/1")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert officer.get(f"/console/disclosures/{found.id}/pages/2").status_code == 404
    views = session.scalars(select(AccessRecord).where(AccessRecord.record_type == "disclosure_document")).all()
    assert [(v.record_id, v.purpose) for v in views] == [(str(found.id), "disclosure_review")] * 2
    token = TOKEN.search(detail.text).group(1)  # type: ignore[union-attr]
    checked = {f"f:{f}": "match" for f in attest.fields_for(found, disclosure_repo.subjects(session, found.id))}
    attested = officer.post(f"/console/disclosures/{found.id}/attest", data={
        "role": "privacy_officer", "csrf_token": token, "document_sha256": found.document_sha256, **checked})
    assert "Your check of the document is recorded." in attested.text and 'id="approve"' in attested.text
    first = officer.post(f"/console/disclosures/{found.id}/approve",
                         data={"role": "privacy_officer", "csrf_token": token})
    assert "Your approval is recorded." in first.text
    not_mine = officer.post(f"/console/disclosures/{found.id}/approve", data={"role": "counsel", "csrf_token": token})
    assert not_mine.status_code == 422, "a privacy officer cannot approve as counsel"
    counsel = staff("counsel")
    token = form_token(counsel, f"/console/disclosures/{found.id}")
    counsel.post(f"/console/disclosures/{found.id}/attest", data={
        "role": "counsel", "csrf_token": token, "document_sha256": found.document_sha256, **checked})
    second = counsel.post(f"/console/disclosures/{found.id}/approve", data={"role": "counsel", "csrf_token": token})
    assert "approved and released" in second.text
    assert session.scalar(select(func.count()).select_from(AccountingEntry).where(
        AccountingEntry.request_id == found.id)) == 1


def test_deny_needs_a_reason_and_then_closes_the_request(session: Session, keyring: KeyRing, staff: SignIn) -> None:
    _book(session, keyring)
    found = _request(session, keyring)
    counsel = staff("counsel")
    token = form_token(counsel, f"/console/disclosures/{found.id}")
    empty = counsel.post(f"/console/disclosures/{found.id}/deny", data={"role": "counsel", "csrf_token": token})
    assert empty.status_code == 422 and "Write a reason" in empty.text
    denied = counsel.post(f"/console/disclosures/{found.id}/deny",
                          data={"role": "counsel", "reason": "The warrant names another office.", "csrf_token": token})
    assert "The request is denied." in denied.text and "denied" in denied.text
    assert "Your review" not in denied.text, "a closed request has no review forms"


def test_ask_information_and_narrow(session: Session, keyring: KeyRing, staff: SignIn) -> None:
    _book(session, keyring)
    found = _request(session, keyring, categories=["appointment_schedule", "visit_history"])
    officer = staff("privacy_officer")
    token = form_token(officer, f"/console/disclosures/{found.id}")
    page = officer.get(f"/console/disclosures/{found.id}")
    assert "Warrant signed by a judge" in page.text and "Criminal case" in page.text
    assert "Past visits" in page.text and "<dd>judicial_warrant" not in page.text  # codes only in the full explanation
    assert page.text.count("You review as: Privacy officer") == 1
    spanish = officer.get(f"/console/disclosures/{found.id}?lang=es")
    assert "Orden firmada por un juez" in spanish.text and "Visitas anteriores" in spanish.text
    officer.get("/console/disclosures?lang=en")
    queue = officer.get("/console/disclosures")
    assert "Warrant signed by a judge" in queue.text and "In review" in queue.text
    narrowed = officer.post(f"/console/disclosures/{found.id}/narrow", data={
        "role": "privacy_officer", "reason": "Only the schedule is needed.", "drop": "visit_history",
        "csrf_token": token})
    assert "The scope is narrowed." in narrowed.text
    asked = officer.post(f"/console/disclosures/{found.id}/ask", data={
        "role": "privacy_officer", "reason": "Which dates?", "csrf_token": token})
    assert "Your question was sent" in asked.text
    assert 'id="request-status">Waiting for information<' in asked.text, "states in words, not codes"


def test_a_clerk_of_another_office_neither_sees_nor_changes_this_office_appointments(
    session: Session, keyring: KeyRing, staff: SignIn
) -> None:
    appointment = _book(session, keyring)
    code = scheduling.format_code(appointment.code)
    scheduling.add_office(session, "north", "North Office", "2 Example Road", "America/Chicago")
    other = staff("clerk", username="clerk-north", office_slug="north")
    page = other.get(f"/console/appointments/{code}/booked")
    # answered as a code that does not exist: the page does not tell the clerk the code is booked elsewhere
    assert page.status_code == 404 and "No appointment has this code" in page.text and code not in page.text
    unknown = other.get("/console/appointments/ZZZZZZZZZZ/booked")
    assert unknown.status_code == 404 and unknown.text.replace("ZZZZZZZZZZ", code) == page.text
    assert 'href="/console">Back to the staff console' in page.text
    token = form_token(other, "/console/appointments")
    refused = other.post(f"/console/appointments/{code}/status", data={"status": "noshow", "csrf_token": token})
    assert refused.status_code == 404
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "booked"  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(AccessRecord).where(
        AccessRecord.record_id == str(appointment.id))) == 0, "a refused read reads nothing"


def test_staff_errors_are_in_the_page_language(session: Session, keyring: KeyRing, staff: SignIn) -> None:
    appointment = _book(session, keyring, days=0)
    code = scheduling.format_code(appointment.code)
    clerk = staff("clerk")
    token = form_token(clerk, "/console/appointments")
    english = clerk.post(f"/console/appointments/{code}/status", data={"status": "lost", "csrf_token": token})
    assert english.status_code == 422 and "Some input is not valid" in english.text
    assert "Choose check in, done or no-show." in english.text
    spanish = clerk.post(f"/console/appointments/{code}/status?lang=es", data={"status": "lost", "csrf_token": token})
    assert spanish.status_code == 422 and 'lang="es"' in spanish.text
    assert "Algunos datos no son válidos" in spanish.text and "Elija registrar llegada" in spanish.text
    # a detail with no Spanish (it names the states) gives way to the advice for its kind of error
    clerk.post(f"/console/appointments/{code}/status", data={"status": "checked-in", "csrf_token": token})
    again = clerk.post(f"/console/appointments/{code}/status?lang=es",
                       data={"status": "checked-in", "csrf_token": token})
    assert again.status_code == 409 and "cannot become" not in again.text
    assert "Vuelva a cargar la página" in again.text


# -- auditor -----------------------------------------------------------------------------------
def test_every_console_page_switches_language_and_remembers_it(staff: SignIn) -> None:
    auditor = staff("auditor")
    page = auditor.get("/console/audit")
    assert 'href="/console/audit?lang=es" lang="es" hreflang="es"' in page.text
    spanish = auditor.get("/console/audit?lang=es")
    assert '<html lang="es">' in spanish.text and 'href="/console/audit?lang=en"' in spanish.text
    assert '<html lang="es">' in auditor.get("/console/audit").text, "the choice is remembered"
    sign_in = auditor.get("/console/sign-in")
    assert "lang-switch" in sign_in.text


def test_the_auditor_sees_log_status_and_alerts(session: Session, keyring: KeyRing, staff: SignIn) -> None:
    auditor = staff("auditor")
    page = auditor.get("/console/audit")
    assert page.status_code == 200
    assert "Transparency log" in page.text and "Access-log alerts" in page.text
    assert auditor.get("/console", follow_redirects=False).headers["location"] == "/console/audit"
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    out = auditor.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.headers["location"] == "/console/sign-in"
    assert auditor.get("/console/audit", follow_redirects=False).status_code == 303, "the session is revoked"


def test_the_auditor_sees_who_raised_each_alert_and_why_in_words(session: Session, keyring: KeyRing,
                                                                  staff: SignIn) -> None:
    searcher, _ = identity.create_account(session, keyring, username="desk-searcher", display_name="Desk Example",
                                          password=PASSWORD, roles=["privacy_officer"], now=NOW, office_id=None)
    session.add(AccessAlert(staff_id=searcher.id, rule="cross-office-name-search",
                            detail="searched appointments by name across all offices", at=NOW))
    session.flush()
    auditor = staff("auditor")
    row = re.search(r'<table class="usa-table" id="alerts">.*?</table>', auditor.get("/console/audit").text, re.S)
    assert row and "desk-searcher" in row.group(0) and "A search by name across all offices" in row.group(0)
    spanish = auditor.get("/console/audit?lang=es").text
    assert "Una búsqueda por nombre en todas las oficinas" in spanish
    assert '<td lang="en">searched appointments by name across all offices</td>' in spanish


def test_the_auditor_sees_published_reports_in_the_console(session: Session, staff: SignIn) -> None:
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


@pytest.mark.as_owner  # it edits the log behind the office's back, as only the schema owner can
def test_the_auditor_verifies_the_log_and_sees_when_it_was_last_verified(session: Session, staff: SignIn) -> None:
    auditor = staff("auditor")
    page = auditor.get("/console/audit")
    assert re.search(r'id="last-verification">Never<', page.text)
    signer = auditor.app.state.log_signer  # type: ignore[attr-defined]
    log_service.append_raw(session, [{"event": "policy.change", "time": "2027-03-01T14:00:00Z"}], now=NOW)
    log_service.checkpoint(session, signer, NOW, origin=auditor.app.state.settings.log.origin)  # type: ignore[attr-defined]
    session.flush()

    # the wrong role, and a form without the session's token, change nothing
    clerk = staff("clerk")
    assert clerk.post("/console/audit/verify", data={"csrf_token": form_token(clerk, "/console/appointments")}
                      ).status_code == 403
    assert auditor.post("/console/audit/verify", data={}).status_code == 403
    assert session.scalar(select(func.count()).select_from(LogVerification)) == 0

    done = auditor.post("/console/audit/verify", data={"csrf_token": form_token(auditor, "/console/audit")},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/audit?done=verified"
    page = auditor.get(done.headers["location"])
    last = re.search(r'id="last-verification">([^<]+)<', page.text)
    size = session.scalar(select(func.count()).select_from(LogEntry))  # the auditor's own grant is logged too
    assert last and "March 1, 2027" in last.group(1) and f"verified at checkpoint size {size}" in last.group(1)
    assert 'id="verification-failed"' not in page.text and "every entry matches" in page.text
    spanish = auditor.get("/console/audit?lang=es")
    assert "Última verificación" in spanish.text and "1 de marzo de 2027" in spanish.text
    auditor.get("/console/audit?lang=en")  # back to English (the choice is remembered)

    with triggers_disabled(session, "log_entry"):  # someone edits the log behind the office's back
        session.execute(text("UPDATE log_entry SET data = :d WHERE idx = 0"), {"d": b'{"event":"edited"}'})
    failed = auditor.post("/console/audit/verify", data={"csrf_token": form_token(auditor, "/console/audit")},
                          follow_redirects=False)
    assert failed.headers["location"] == "/console/audit#verification"
    page = auditor.get("/console/audit")
    assert 'id="verification-failed"' in page.text and "entry 0" in page.text
    assert re.search(r'id="last-verification">[^<]+<strong>NOT verified</strong>', page.text)
    assert session.scalar(select(func.count()).select_from(LogVerification)) == 2  # both runs are kept


# -- supervisor --------------------------------------------------------------------------------
def test_the_supervisor_sees_the_office_and_others_do_not(staff: SignIn) -> None:
    supervisor = staff("supervisor")
    assert supervisor.get("/console", follow_redirects=False).headers["location"] == "/console/office"
    page = supervisor.get("/console/office")
    assert page.status_code == 200
    assert "Opening hours" in page.text and "Staff and languages" in page.text and "Monday" in page.text
    spanish = supervisor.get("/console/office?lang=es")
    assert "Horario de atención" in spanish.text and "lunes" in spanish.text
    assert supervisor.get("/console/appointments").status_code == 403
    assert staff("clerk").get("/console/office").status_code == 403
