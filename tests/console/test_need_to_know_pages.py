"""Need to know, in the pages: the clerk's look-up by name with a reason, the day window, the
reviewer's matches behind acceptance, and the person's view of when staff looked at their
appointment (/records: role and office, never a name; English and Spanish)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.disclosure import acceptance, intake, samplepdf
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.identity import service as identity
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessAlert, AccessRecord
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW
from tests.console.conftest import TOKEN, SignIn
from tests.console.conftest import token as form_token

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NAME = "Test Person M"


def _book(session: Session, keyring: KeyRing, days: int) -> Appointment:
    day = NOW.date() + dt.timedelta(days=days)
    _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
    return scheduling.book(session, keyring, BookingIn.model_validate({
        "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(), "name": NAME}), NOW)


def _reads(session: Session, **where: Any) -> list[AccessRecord]:
    stmt = select(AccessRecord)
    for key, value in where.items():
        stmt = stmt.where(getattr(AccessRecord, key) == value)
    return list(session.scalars(stmt))


def _lookup(clerk: TestClient, name: str, reason: str) -> Any:
    return clerk.post("/console/appointments/lookup",
                      data={"name": name, "reason": reason, "csrf_token": form_token(clerk, "/console/appointments")})


# -- the clerk ---------------------------------------------------------------------------------
def test_the_clerk_looks_a_person_up_by_name_with_a_reason(session: Session, keyring: KeyRing,
                                                             staff: SignIn) -> None:
    coming = _book(session, keyring, days=3)
    clerk = staff("clerk")
    page = clerk.get("/console/appointments")
    assert 'id="lookup"' in page.text and "The person phoned us" in page.text
    assert NAME not in page.text, "the default list is today and tomorrow only"
    refused = _lookup(clerk, NAME, "")
    assert refused.status_code == 422 and "Choose why you look this person up." in refused.text
    assert _reads(session) == []
    found = _lookup(clerk, "test person m", "phone_call")
    assert found.status_code == 200
    row = re.search(r'id="lookup-results".*?</section>', found.text, re.S)
    assert row and NAME in row.group(0) and scheduling.format_code(coming.code) in row.group(0)
    [shown] = _reads(session, record_type="appointment")
    assert (shown.record_id, shown.purpose, shown.reason, shown.role) == (str(coming.id), "name_lookup",
                                                                           "phone_call", "clerk")
    spanish = clerk.get("/console/appointments?lang=es").text
    assert "Por qué busca a esta persona" in spanish and "La persona nos llamó" in spanish


def test_the_clerk_sees_later_days_of_the_window_one_at_a_time_and_no_further(
    session: Session, keyring: KeyRing, staff: SignIn
) -> None:
    later = _book(session, keyring, days=4)
    clerk = staff("clerk")
    page = clerk.get("/console/appointments")
    days = re.findall(r'href="/console/appointments\?day=([0-9-]+)"', page.text)
    assert days[0] == "2027-03-01" and days[-1] == "2027-03-15" and len(days) == 15
    assert NAME in clerk.get("/console/appointments?day=2027-03-05").text
    assert {r.record_id for r in _reads(session)} == {str(later.id)}
    far = clerk.get("/console/appointments?day=2027-03-16")
    assert far.status_code == 403 and "next 14 days" in far.text
    past = clerk.get("/console/appointments?day=2027-02-28")
    assert past.status_code == 403
    assert [a.rule for a in session.scalars(select(AccessAlert))] == ["outside-clerk-window"] * 2
    assert clerk.get("/console/appointments?day=tomorrow").status_code == 422


# -- the reviewer ------------------------------------------------------------------------------
def _paper_request(session: Session, keyring: KeyRing, registrar: StaffAccount) -> DisclosureRequest:
    agency = identity.create_agency(session, "Example Agency", "1 Example Road", NOW)
    meta = RequestMetadata.model_validate({
        "agency_id": agency.id, "instrument_type": "judicial_warrant", "issuer": "U.S. District Court",
        "court": "U.S. District Court", "docket": "1:27-mj-00042", "signer_name": "Hon. Judge Example",
        "signer_type": "judge", "statutes": [], "purpose": "criminal",
        "subjects": [{"name": NAME, "office": "central"}], "categories": ["appointment_schedule"]})
    engine = PolicyEngine.load(POLICIES, "federal")
    actor = Actor("staff", registrar.id, frozenset(registrar.roles.split()))
    found = intake.submit(session, keyring, engine, actor, meta, samplepdf.write([["Warrant (test only)"]]), NOW)
    session.flush()
    return found


def _account(session: Session, username: str) -> StaffAccount:
    return session.scalars(select(StaffAccount).where(StaffAccount.username == username)).one()


def test_the_reviewer_sees_matches_after_accepting_and_the_registrar_never(
    session: Session, keyring: KeyRing, staff: SignIn
) -> None:
    person_m = _book(session, keyring, days=2)
    registrar = staff("privacy_officer", username="po-registrar")
    reviewer = staff("counsel", username="counsel-a")
    found = _paper_request(session, keyring, _account(session, "po-registrar"))
    path = f"/console/disclosures/{found.id}"

    own = registrar.get(path)
    assert own.status_code == 200 and "you do not see which appointments match" in own.text
    assert 'id="match-table"' not in own.text and 'id="accept"' not in own.text
    before = reviewer.get(path)
    assert 'id="accept"' in before.text and 'id="match-table"' not in before.text
    assert _reads(session, record_type="appointment") == []
    assert session.scalar(select(func.count()).select_from(AccessAlert)) == 0

    token = TOKEN.search(before.text).group(1)  # type: ignore[union-attr]
    accepted = reviewer.post(f"{path}/accept", data={"csrf_token": token})
    assert accepted.status_code == 200 and "its matches are shown below" in accepted.text
    table = re.search(r'id="match-table".*?</table>', accepted.text, re.S)
    assert table and "Matched" in table.group(0) and NAME not in table.group(0)
    assert {(r.record_id, r.role, r.purpose) for r in _reads(session, record_type="appointment")} == {
        (str(person_m.id), "counsel", "disclosure_review")}
    assert 'id="match-table"' not in registrar.get(path).text, "the registrar never sees them"
    spanish = reviewer.get(f"{path}?lang=es").text
    assert "Citas que coinciden" in spanish and "Coincide" in spanish


# -- the person --------------------------------------------------------------------------------
def _records_page(client: TestClient, code: str, name: str, lang: str = "") -> str:
    page = client.get("/records" + (f"?lang={lang}" if lang else ""))
    found = TOKEN.search(page.text)
    assert found
    answer = client.post("/records" + (f"?lang={lang}" if lang else ""),
                         data={"code": code, "name": name, "csrf_token": found.group(1)})
    assert answer.status_code == 200
    return answer.text


def _looks(text: str) -> list[str]:
    section = re.search(r'<ul class="usa-list" id="looks">(.*?)</ul>', text, re.S)
    return [re.sub(r"\s+", " ", li).strip() for li in re.findall(r"<li>(.*?)</li>", section.group(1), re.S)] \
        if section else []


def test_the_person_sees_when_staff_looked_at_their_appointment_by_role_and_office_never_a_name(
    session: Session, keyring: KeyRing, staff: SignIn, client: TestClient
) -> None:
    person_m = _book(session, keyring, days=3)  # Thursday 4 March
    code = scheduling.format_code(person_m.code)
    clerk = staff("clerk", username="desk-clerk-7")
    assert client.get("/records").status_code == 200
    assert _looks(_records_page(client, code, NAME)) == [], "booking is not a look"

    assert _lookup(clerk, NAME, "phone_call").status_code == 200
    clerk.get("/console/appointments?day=2027-03-04")  # the list of a coming day
    clerk.get("/console/appointments?day=2027-03-04")
    # a disclosure review read: never shown here (a court may keep the request secret)
    reviewer = staff("counsel", username="counsel-a")
    found = _paper_request(session, keyring, _account(session, "desk-clerk-7"))
    acceptance.accept(session, Actor("staff", _account(session, "counsel-a").id, frozenset({"counsel"})), found.id,
                      NOW)
    session.flush()
    assert reviewer.get(f"/console/disclosures/{found.id}").status_code == 200
    assert _reads(session, purpose="disclosure_review")

    text = _records_page(client, code, NAME)
    assert _looks(text) == [
        "A clerk at Central Benefits Office looked up your appointment by name on Monday, March 1, 2027. "
        "The reason given: you phoned us.",
        "A clerk at Central Benefits Office saw your appointment in the list of a coming day on Monday, March 1, 2027. "
        "(2 times that day)",
    ]
    assert "desk-clerk-7" not in text and "Desk Example" not in text and "counsel" not in text.lower()
    spanish = _looks(_records_page(client, code, NAME, lang="es"))
    assert spanish[0].startswith(
        "Un empleado de Central Benefits Office buscó su cita por su nombre el lunes, 1 de marzo")
    assert "El motivo indicado: usted nos llamó." in spanish[0]
    assert _looks(_records_page(client, code, "Someone Else")) == [], "a wrong name shows nothing"
    # the same, as JSON, for programs acting for the person
    api = client.post("/api/v1/access/lookup", json={"code": code, "name": NAME})
    assert api.status_code == 200
    assert [(x["day"], x["role"], x["office"], x["how"], x["reason"], x["times"]) for x in api.json()] == [
        ("2027-03-01", "clerk", "Central Benefits Office", "name_lookup", "phone_call", 1),
        ("2027-03-01", "clerk", "Central Benefits Office", "upcoming_list", None, 2),
    ]
    assert "desk-clerk-7" not in api.text
    assert client.post("/api/v1/access/lookup", json={"code": code, "name": "Someone Else"}).json() == []
    assert client.post("/api/v1/access/lookup", json={"code": "ZZZZZ-99999", "name": NAME}).json() == []
    assert client.post("/api/v1/access/lookup", json={"code": code}).status_code == 422


def test_the_visit_day_and_check_in_are_not_looks(session: Session, keyring: KeyRing, staff: SignIn,
                                                  client: TestClient) -> None:
    person_m = _book(session, keyring, days=0)  # this afternoon
    clerk = staff("clerk")
    clerk.get("/console/appointments")
    assert _lookup(clerk, NAME, "check_in").status_code == 200
    assert {(r.purpose, r.reason) for r in _reads(session, record_type="appointment")} == {
        ("front_desk", None), ("name_lookup", "check_in")}
    assert _looks(_records_page(client, scheduling.format_code(person_m.code), NAME)) == []
    assert 'id="no-looks"' in _records_page(client, scheduling.format_code(person_m.code), NAME)
