"""Staff see what their work needs: every staff read of a person's data is recorded; bulk or unusual reads alert."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.config import Environment, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessAlert, AccessRecord
from tests.conftest import NOW
from tests.identity.helpers import add_appointments, bearer, make_staff


def _records(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AccessRecord)) or 0)


def test_clerk_day_list_shows_names_and_records_each_read(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    rows = add_appointments(session, keyring, 3, NOW + dt.timedelta(hours=1))
    r = client.get("/api/v1/offices/central/appointments", headers=bearer(session, clerk))
    assert r.status_code == 200, r.text
    assert sorted(a["name"] for a in r.json()) == ["Test Person M 0", "Test Person M 1", "Test Person M 2"]
    recorded = session.scalars(select(AccessRecord)).all()
    assert sorted(int(x.record_id) for x in recorded) == sorted(a.id for a in rows)
    assert {(x.staff_id, x.purpose, x.at) for x in recorded} == {(clerk.id, "front_desk", NOW)}
    # past days are not a clerk's work: refused (403, with an alert), nothing read
    past = client.get("/api/v1/offices/central/appointments", params={"day": "2027-02-20"},
                      headers=bearer(session, clerk))
    assert past.status_code == 403 and _records(session) == 3


def test_clerk_of_another_office_sees_nothing_and_nothing_is_recorded(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    from safeslot.scheduling import service as scheduling

    scheduling.add_office(session, "north", "North Office", "2 Example Road", "America/New_York")
    clerk, _ = make_staff(session, keyring, ["clerk"], "north")
    add_appointments(session, keyring, 2, NOW + dt.timedelta(hours=1))
    r = client.get("/api/v1/offices/central/appointments", headers=bearer(session, clerk))
    # another office answers as an unknown one (no existence oracle), and nothing is opened or recorded
    assert r.status_code == 404 and "Person M" not in r.text and _records(session) == 0


def test_more_people_than_the_setting_in_a_day_raises_an_alert_auditors_see(
    app_factory: Any, session: Session, keyring: KeyRing, office: str, tmp_path: Any
) -> None:
    # The threshold is a setting (default 300), so an ordinary 60-person day raises nothing
    # (tests/privacy/test_need_to_know.py); it was a fixed 50 before.
    client = app_factory(settings=Settings(environment=Environment.test, crypto={"key_file": tmp_path / "k.json"},
                                           log={"signing_key_file": tmp_path / "l.key"},
                                           access={"bulk_people_alert": 50}))
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    auditor, _ = make_staff(session, keyring, ["auditor"])
    add_appointments(session, keyring, 30, NOW + dt.timedelta(hours=1))
    add_appointments(session, keyring, 30, NOW + dt.timedelta(days=1, hours=1))
    headers = bearer(session, clerk)
    assert client.get("/api/v1/offices/central/appointments", headers=headers).status_code == 200
    assert session.scalar(select(func.count()).select_from(AccessAlert)) == 0  # 30 people: an office day
    assert client.get("/api/v1/offices/central/appointments", params={"day": "2027-03-02"},
                      headers=headers).status_code == 200
    alerts = client.get("/api/v1/access/alerts", headers=bearer(session, auditor))
    assert alerts.status_code == 200
    assert [(a["rule"], a["staff_id"]) for a in alerts.json()] == [("bulk-read", clerk.id)]
    assert "Person M" not in alerts.text
    # the clerk cannot see or clear the alerts about themselves
    assert client.get("/api/v1/access/alerts", headers=headers).status_code == 403


def test_name_search_outside_the_job_raises_an_alert(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    counsel, _ = make_staff(session, keyring, ["counsel"])
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    add_appointments(session, keyring, 1, NOW + dt.timedelta(hours=1), name="Test Person N")
    # a clerk searching their own office, with a reason: recorded, no alert
    r = client.post("/api/v1/appointments/search", headers=bearer(session, clerk),
                    json={"name": "test person n", "office": "central", "reason": "at_counter"})
    assert r.status_code == 200 and len(r.json()) == 1
    assert session.scalar(select(func.count()).select_from(AccessAlert)) == 0
    # A search across all offices no longer exists. Counsel searches only inside a disclosure
    # request (refused here, with an alert); a clerk always searches their own office.
    r = client.post("/api/v1/appointments/search", headers=bearer(session, counsel),
                    json={"name": "TEST PERSON N"})
    assert r.status_code == 403 and "Person N" not in r.text
    alert = session.scalars(select(AccessAlert)).one()
    assert alert.rule == "search-outside-request" and alert.staff_id == counsel.id and "Person N" not in alert.detail
    assert _records(session) == 2  # the clerk's look-up and the appointment it showed
    bad = client.post("/api/v1/appointments/search", headers=bearer(session, clerk),
                      json={"name": "Test Person N", "reason": "curiosity"})
    assert bad.status_code == 422


def test_access_report_lists_the_period(client: TestClient, session: Session, keyring: KeyRing, office: str) -> None:
    clerk, _ = make_staff(session, keyring, ["clerk"], "central")
    auditor, _ = make_staff(session, keyring, ["auditor"])
    add_appointments(session, keyring, 2, NOW + dt.timedelta(hours=1))
    client.get("/api/v1/offices/central/appointments", headers=bearer(session, clerk))
    r = client.get("/api/v1/access/records", headers=bearer(session, auditor),
                   params={"from": "2027-03-01T00:00:00Z", "to": "2027-03-02T00:00:00Z"})
    assert r.status_code == 200 and len(r.json()) == 2
    r = client.get("/api/v1/access/records", headers=bearer(session, auditor),
                   params={"from": "2027-03-02T00:00:00Z", "to": "2027-03-03T00:00:00Z"})
    assert r.json() == []
