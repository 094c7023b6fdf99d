"""Nobody reads a named person's appointments beyond what their job needs.

Each way past the rule is tried as that role would try it (a privacy officer reads the matches of
a request they registered; counsel searches anyone; a clerk reads any day, far futures and past
visits), and fails with a clear problem+json. Each unusual pattern raises
one alert; a clerk's ordinary 60-person day raises none. Both databases.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.config import Environment, Settings
from safeslot.disclosure import samplepdf
from safeslot.identity import authz
from safeslot.identity import service as identity
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessAlert, AccessRecord
from safeslot.scheduling import service as scheduling
from tests.conftest import NOW
from tests.identity.helpers import add_appointments, bearer, make_staff
from tests.problem import problem

PDF = samplepdf.write([["WARRANT, case 1:27-mj-00042 (test only)", "Signed: Hon. Judge Example"]])
TODAY = dt.date(2027, 3, 1)  # NOW in the demo office's zone (America/New_York): 09:00 on Monday


def _alerts(session: Session) -> list[tuple[str, int]]:
    return [(a.rule, a.staff_id) for a in session.scalars(select(AccessAlert).order_by(AccessAlert.id))]


def _records(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AccessRecord)) or 0)


def _day(client: TestClient, headers: dict[str, str], day: dt.date | None = None, office: str = "central") -> Any:
    params = {"day": day.isoformat()} if day else None
    return client.get(f"/api/v1/offices/{office}/appointments", params=params, headers=headers)


def _lookup(client: TestClient, headers: dict[str, str], name: str, **extra: Any) -> Any:
    return client.post("/api/v1/appointments/search", headers=headers, json={"name": name, **extra})


# -- path 5: a clerk reads any day --------------------------------------------------------------
def test_a_clerk_reads_today_and_the_next_14_days_only_and_each_try_beyond_raises_an_alert(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    add_appointments(session, keyring, 2, NOW + dt.timedelta(days=14, hours=1))
    add_appointments(session, keyring, 2, NOW + dt.timedelta(days=15, hours=1))
    add_appointments(session, keyring, 2, NOW - dt.timedelta(days=3), status="fulfilled")
    assert _day(client, headers).status_code == 200
    last = _day(client, headers, TODAY + dt.timedelta(days=14))
    assert last.status_code == 200 and len(last.json()) == 2
    assert _alerts(session) == []
    before = _records(session)
    for day in (TODAY + dt.timedelta(days=15), TODAY + dt.timedelta(days=3650), TODAY - dt.timedelta(days=3)):
        r = _day(client, headers, day)
        body = problem(r, 403, "outside-clerk-window")
        assert "next 14 days" in body["detail"] and "Person M" not in r.text
    assert _records(session) == before, "nothing refused is read"
    assert _alerts(session) == [("outside-clerk-window", clerk.id)] * 3
    assert all("Person M" not in a.detail for a in session.scalars(select(AccessAlert)))


def test_the_window_is_a_setting(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing, office: str, tmp_path: Any
) -> None:
    settings = Settings(environment=Environment.test, crypto={"key_file": tmp_path / "k.json"},
                        log={"signing_key_file": tmp_path / "l.key"}, access={"clerk_days_ahead": 2})
    client = app_factory(settings=settings)
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    assert _day(client, headers, TODAY + dt.timedelta(days=2)).status_code == 200
    problem(_day(client, headers, TODAY + dt.timedelta(days=3)), 403, "outside-clerk-window")


def test_a_clerk_reading_another_office_is_answered_as_unknown_and_raises_an_alert(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    scheduling.add_office(session, "north", "North Office", "2 Example Road", "America/New_York")
    clerk, _ = make_staff(session, keyring, ["clerk"], "north")
    headers = bearer(session, clerk)
    add_appointments(session, keyring, 2, NOW + dt.timedelta(hours=1), name="Test Person N")
    r = _day(client, headers)
    problem(r, 404, "office-not-found")  # as an office that does not exist: no existence oracle
    r = _lookup(client, headers, "Test Person N", reason="phone_call", office="central")
    problem(r, 404, "office-not-found")
    assert "Person N" not in r.text and _records(session) == 0
    assert _alerts(session) == [("other-office-read", clerk.id)] * 2
    # in their own office (the default) the name finds nothing of central's
    own = _lookup(client, headers, "Test Person N", reason="phone_call")
    assert own.status_code == 200 and own.json() == []


def test_a_name_look_up_finds_today_and_later_never_past_visits_and_records_its_reason(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    past = add_appointments(session, keyring, 2, NOW - dt.timedelta(days=40), name="Test Person N", status="fulfilled")
    yesterday = add_appointments(session, keyring, 1, NOW - dt.timedelta(days=1), name="Test Person N")
    coming = add_appointments(session, keyring, 1, NOW + dt.timedelta(days=60), name="Test Person N")
    r = _lookup(client, headers, "test person n", reason="at_counter")
    assert r.status_code == 200, r.text
    assert [a["starts_at"][:10] for a in r.json()] == ["2027-04-30"], "only the coming visit"
    shown = session.scalars(select(AccessRecord).where(AccessRecord.record_type == "appointment")).all()
    assert {int(x.record_id) for x in shown} == {coming[0].id}
    assert not {int(x.record_id) for x in shown} & {a.id for a in past + yesterday}
    assert {(x.purpose, x.reason, x.role) for x in shown} == {("name_lookup", "at_counter", "clerk")}
    event = session.scalars(select(AccessRecord).where(AccessRecord.record_type == "name_lookup")).one()
    assert (event.reason, event.record_id) == ("at_counter", "1")
    # the reason is required and comes from the list
    problem(_lookup(client, headers, "Test Person N"), 422, "invalid-input")
    bad = _lookup(client, headers, "Test Person N", reason="curiosity")
    assert bad.status_code == 422 and "curiosity" not in bad.text
    # it showed a visit 60 days ahead: answered, and an auditor sees it
    assert _alerts(session) == [("name-lookup-future-visit", clerk.id)]


def test_one_name_look_up_that_shows_a_later_day_raises_an_alert_and_todays_does_not(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    """When a named person will come is what was passed on in the reported harm: one look-up is enough."""
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    add_appointments(session, keyring, 1, NOW + dt.timedelta(hours=1), name="Test Person N")
    add_appointments(session, keyring, 1, NOW + dt.timedelta(days=7), name="Test Person M")
    assert len(_lookup(client, headers, "Test Person N", reason="at_counter").json()) == 1
    assert _alerts(session) == [], "the person at the counter today"
    assert len(_lookup(client, headers, "Test Person M", reason="phone_call").json()) == 1
    assert _alerts(session) == [("name-lookup-future-visit", clerk.id)]
    assert "Person M" not in session.scalars(select(AccessAlert)).one().detail


def test_a_clerk_has_no_export_of_any_kind() -> None:
    """Every route a clerk may call answers one day, one name or one appointment: nothing exports."""
    clerk_routes = sorted(f"{m} {p}" for (m, p), allowed in authz.RULES.items()
                          if authz.CLERK in allowed and authz.PUBLIC not in allowed)
    assert clerk_routes == sorted([
        "GET /api/v1/offices/{office}/appointments", "POST /api/v1/appointments/search",
        "POST /api/v1/appointments/{code}/status", "POST /api/v1/disclosure-requests",
        "GET /console/appointments", "POST /console/appointments/lookup",
        "POST /console/appointments/{code}/status", "GET /console/appointments/new",
        "POST /console/appointments/new", "GET /console/appointments/{code}/booked",
        "POST /console/sign-out", "GET /console", "POST /api/v1/auth/logout", "GET /api/v1/auth/me",
        # which office of their own scope the clerk works on today: no record in the answer
        "POST /console/office-choice",
        # the clerk's own passkeys: their own factor, nobody else's record
        "GET /console/passkeys", "POST /api/v1/passkeys", "POST /api/v1/passkeys/registration-options",
        # the walk-in queue: numbers called at the desk, one ticket at a time
        "GET /console/queue", "POST /console/queue/call-next", "POST /console/queue/check-in",
        "POST /console/queue/tickets/{ticket_id}", "POST /api/v1/offices/{office}/queue/call-next",
        "POST /api/v1/offices/{office}/queue/clerk-check-ins",
        "POST /api/v1/offices/{office}/queue/tickets/{ticket_id}/actions",
    ]), "a new clerk route: check that it answers one day, one name or one appointment, then add it here"
    assert not any(word in route for route in clerk_routes for word in ("export", "csv", "download", ".ics"))


# -- alerts: an ordinary day raises none; many look-ups, many people raise one each ---------------
def test_a_clerks_ordinary_60_person_day_raises_no_alert(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    for hour in range(6):
        add_appointments(session, keyring, 10, NOW + dt.timedelta(hours=hour), name=f"Person {hour}")
    add_appointments(session, keyring, 60, NOW + dt.timedelta(days=1), name="Tomorrow Person")
    for _ in range(8):  # the list, again and again through the day
        today = _day(client, headers)
        assert today.status_code == 200 and len(today.json()) == 60
    assert len(_day(client, headers, TODAY + dt.timedelta(days=1)).json()) == 60
    for hour in range(6):  # people at the counter without their code
        assert len(_lookup(client, headers, f"Person {hour}", reason="at_counter").json()) == 10
    first = today.json()[0]["code"]
    assert client.post(f"/api/v1/appointments/{first}/status", json={"status": "checked-in"},
                       headers=headers).status_code == 200
    assert _alerts(session) == []


def test_many_name_look_ups_in_a_day_raise_one_alert(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    for n in range(20):
        assert _lookup(client, headers, f"Person {n}", reason="phone_call").status_code == 200
    assert _alerts(session) == []
    for n in range(5):
        assert _lookup(client, headers, f"Someone {n}", reason="phone_call").status_code == 200
    assert _alerts(session) == [("many-name-lookups", clerk.id)], "one alert a day, not one per look-up"


def test_a_check_in_look_up_for_someone_with_no_visit_today_raises_an_alert(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    add_appointments(session, keyring, 1, NOW + dt.timedelta(hours=2), name="Test Person N")
    add_appointments(session, keyring, 1, NOW + dt.timedelta(days=30), name="Test Person M")
    assert len(_lookup(client, headers, "Test Person N", reason="check_in").json()) == 1
    assert _alerts(session) == [], "checking in someone who comes today is the visit itself"
    r = _lookup(client, headers, "Test Person M", reason="check_in")
    assert r.status_code == 200 and len(r.json()) == 1, "the look-up is answered; the auditors judge"
    assert sorted(_alerts(session)) == [("check-in-lookup-not-today", clerk.id), ("name-lookup-future-visit", clerk.id)]
    assert not any("Person M" in a.detail for a in session.scalars(select(AccessAlert)))


def test_reading_more_people_than_the_setting_in_a_day_raises_bulk_read(
    app_factory: Callable[..., TestClient], session: Session, keyring: KeyRing, office: str, tmp_path: Any
) -> None:
    settings = Settings(environment=Environment.test, crypto={"key_file": tmp_path / "k.json"},
                        log={"signing_key_file": tmp_path / "l.key"}, access={"bulk_people_alert": 100})
    client = app_factory(settings=settings)
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    headers = bearer(session, clerk)
    for days in range(3):
        add_appointments(session, keyring, 40, NOW + dt.timedelta(days=days, hours=1))
    for days in range(3):
        assert _day(client, headers, TODAY + dt.timedelta(days=days)).status_code == 200
    assert _alerts(session) == [("bulk-read", clerk.id)]


# -- path 3: the registrar reads the matches of their own request --------------------------------
def _meta(**overrides: Any) -> str:
    base: dict[str, Any] = {
        "instrument_type": "judicial_warrant", "issuer": "U.S. District Court",
        "court": "U.S. District Court", "docket": "1:27-mj-00042", "signer_name": "Hon. Judge Example",
        "signer_type": "judge", "purpose": "criminal",
        "subjects": [{"name": "Test Person M", "office": "central", "date_from": "2027-03-01",
                      "date_to": "2027-03-10"}],
        "categories": ["appointment_schedule"],
    }
    base.update(overrides)
    return json.dumps(base)


@pytest.fixture
def people(session: Session, keyring: KeyRing, office: str) -> dict[str, Any]:
    """Person M twice in the request's range, once after it; Person N, whom no request names."""
    return {
        "in_range": add_appointments(session, keyring, 2, NOW + dt.timedelta(days=2), name="Test Person M"),
        "after": add_appointments(session, keyring, 1, NOW + dt.timedelta(days=20), name="Test Person M"),
        "person_n": add_appointments(session, keyring, 1, NOW + dt.timedelta(days=2), name="Test Person N"),
    }


def _paper_request(client: TestClient, session: Session, headers: dict[str, str], **overrides: Any) -> int:
    """A paper request scanned by staff, for a registered agency (the registrar is that staff member)."""
    agency = identity.create_agency(session, f"Example Agency {uuid.uuid4().hex[:6]}", "1 Example Road", NOW)
    session.flush()
    r = client.post("/api/v1/disclosure-requests", headers=headers, files={"document": ("w.pdf", PDF)},
                    data={"metadata": _meta(agency_id=agency.id, **overrides)})
    assert r.status_code == 201 and r.json()["status"] == "in_review", r.text
    return int(r.json()["id"])


def _staff(session: Session, keyring: KeyRing, username: str, roles: list[str]) -> tuple[StaffAccount, dict[str, str]]:
    account, _ = make_staff(session, keyring, roles, "central" if "clerk" in roles else None, username=username)
    return account, bearer(session, account)


def test_the_registrar_never_sees_the_matches_and_nobody_does_before_another_reviewer_accepts(
    client: TestClient, session: Session, keyring: KeyRing, people: dict[str, Any]
) -> None:
    registrar, po = _staff(session, keyring, "po-registrar", ["privacy_officer"])
    _, other_po = _staff(session, keyring, "po-other", ["privacy_officer"])
    _, counsel = _staff(session, keyring, "counsel-a", ["counsel"])
    rid = _paper_request(client, session, po)
    subjects = f"/api/v1/disclosure-requests/{rid}/subjects"

    # Path 3, as the privacy officer would try it: register, then read the matches alone.
    r = client.get(subjects, headers=po)
    body = problem(r, 403, "registrar-may-not-see-matches")
    assert "starts_at" not in r.text and "never" in body["detail"]
    assert _alerts(session) == [("registrar-read-matches", registrar.id)]
    # Nor can the registrar accept their own request, and nobody sees the matches before acceptance.
    problem(client.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=po), 403,
             "disclosure-reviewer-not-allowed")
    early = client.get(subjects, headers=counsel)
    assert "/acceptance" in problem(early, 409, "disclosure-not-accepted-for-review")["detail"]
    assert _records(session) == 0

    # Another privacy officer accepts it: logged publicly (the role, never the person).
    r = client.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=other_po)
    assert r.status_code == 200, r.text
    from safeslot.transparency.models import LogEntry

    accepted = [json.loads(d) for d in session.scalars(select(LogEntry.data).order_by(LogEntry.idx))][-1]
    assert (accepted["event"], accepted["action"], accepted["role"]) == ("disclosure.review", "accept",
                                                                       "privacy_officer")
    logged = len(session.scalars(select(LogEntry.data)).all())
    assert client.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=other_po).status_code == 200
    assert len(session.scalars(select(LogEntry.data)).all()) == logged, "accepting twice logs once"

    [subject] = client.get(subjects, headers=counsel).json()
    assert sorted(c["appointment_id"] for c in subject["candidates"]) == sorted(a.id for a in people["in_range"])
    assert client.get(subjects, headers=other_po).status_code == 200
    # the registrar still never sees them
    problem(client.get(subjects, headers=po), 403, "registrar-may-not-see-matches")
    reads = session.scalars(select(AccessRecord)).all()
    assert len(reads) == 4 and {(x.purpose, x.reason) for x in reads} == {("disclosure_review", f"request {rid}")}
    assert {x.role for x in reads} == {"counsel", "privacy_officer"}
    assert _alerts(session) == [("registrar-read-matches", registrar.id)] * 2


def test_a_review_act_by_another_reviewer_accepts_the_request(
    client: TestClient, session: Session, keyring: KeyRing, people: dict[str, Any]
) -> None:
    _, clerk = _staff(session, keyring, "clerk-a", ["clerk"])
    _, counsel = _staff(session, keyring, "counsel-a", ["counsel"])
    rid = _paper_request(client, session, clerk)
    assert client.get(f"/api/v1/disclosure-requests/{rid}/subjects", headers=counsel).status_code == 409
    # asking the requester a question is a review act: counsel has taken the request up
    r = client.post(f"/api/v1/disclosure-requests/{rid}/information-requests",
                    json={"role": "counsel", "reason": "Which office does the warrant mean?"}, headers=counsel)
    assert r.status_code == 200 and r.json()["status"] == "info_requested"
    assert client.get(f"/api/v1/disclosure-requests/{rid}/subjects", headers=counsel).status_code == 200


# -- path 4: counsel searches anyone --------------------------------------------------------------
def test_counsel_searches_only_inside_an_open_accepted_request_and_never_sees_codes(
    client: TestClient, session: Session, keyring: KeyRing, people: dict[str, Any]
) -> None:
    _, clerk = _staff(session, keyring, "clerk-a", ["clerk"])
    counsel_account, counsel = _staff(session, keyring, "counsel-a", ["counsel"])
    _, po = _staff(session, keyring, "po-a", ["privacy_officer"])
    rid = _paper_request(client, session, clerk)

    # Path 4, as counsel would try it: any name, no request.
    r = _lookup(client, counsel, "Test Person M")
    assert "request_id" in problem(r, 403, "search-outside-request")["detail"]
    assert "Person M" not in r.text
    # a request nobody has accepted for review yet
    problem(_lookup(client, counsel, "Test Person M", request_id=rid), 403, "search-outside-request")
    # a request that does not exist
    problem(_lookup(client, counsel, "Test Person M", request_id=rid + 100), 403, "search-outside-request")
    assert _records(session) == 0
    assert client.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=po).status_code == 200
    # a person the request does not name
    r = _lookup(client, counsel, "Test Person N", request_id=rid)
    problem(r, 403, "search-outside-request")
    assert _alerts(session) == [("search-outside-request", counsel_account.id)] * 4

    # inside the request: the named person, within its office and dates; no codes, no needs
    r = _lookup(client, counsel, "test person m", request_id=rid)
    assert r.status_code == 200, r.text
    found = r.json()
    assert sorted(a["appointment_id"] for a in found) == sorted(a.id for a in people["in_range"])
    assert all("code" not in a and a["accommodation"] is None and a["language"] is None for a in found)
    codes = [scheduling.format_code(a.code) for a in people["in_range"]] + [a.code for a in people["in_range"]]
    assert not any(code in r.text for code in codes)
    shown = session.scalars(select(AccessRecord)).all()
    assert {(x.role, x.purpose, x.reason) for x in shown} == {("counsel", "disclosure_review", f"request {rid}")}
    assert len(_alerts(session)) == 4


def test_counsel_sees_needs_only_when_the_request_asks_for_them_and_never_in_a_closed_request(
    client: TestClient, session: Session, keyring: KeyRing, people: dict[str, Any]
) -> None:
    _, clerk = _staff(session, keyring, "clerk-a", ["clerk"])
    counsel_account, counsel = _staff(session, keyring, "counsel-a", ["counsel"])
    rid = _paper_request(client, session, clerk, categories=["appointment_schedule", "language_accommodation"])
    assert client.post(f"/api/v1/disclosure-requests/{rid}/acceptance", headers=counsel).status_code == 200
    found = _lookup(client, counsel, "Test Person M", request_id=rid).json()
    assert found and all(a["accommodation"] == "wheelchair" for a in found)
    denied = client.post(f"/api/v1/disclosure-requests/{rid}/denial", json={"role": "counsel", "reason": "not needed"},
                         headers=counsel)
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    problem(_lookup(client, counsel, "Test Person M", request_id=rid), 403, "search-outside-request")
    problem(client.get(f"/api/v1/disclosure-requests/{rid}/subjects", headers=counsel), 409,
             "disclosure-request-not-reviewable")
    assert _alerts(session) == [("search-outside-request", counsel_account.id)]


def test_a_clerk_cannot_search_inside_a_request(
    client: TestClient, session: Session, keyring: KeyRing, people: dict[str, Any]
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    r = _lookup(client, bearer(session, clerk), "Test Person M", request_id=1, reason="at_counter")
    problem(r, 403, "role-refused")
