"""Office reports (privacy/statistics.py): a supervisor sees their offices' figures, the org auditor the
whole network's; nobody else; counts only, never a person; a purged month reads the same as before."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from safeslot.config import RetentionSettings
from safeslot.kit.crypto import KeyRing
from safeslot.privacy import retention
from safeslot.scheduling import service as scheduling
from tests.conftest import NOW
from tests.identity.helpers import add_appointments, bearer, make_staff

MONTH = NOW.strftime("%Y-%m")


def test_a_supervisor_sees_their_office_and_the_auditor_the_network(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    scheduling.add_office(session, "north", "North Office", "1 Example Road", "America/New_York")
    add_appointments(session, keyring, 3, NOW + dt.timedelta(hours=1), name="Test Person N")
    add_appointments(session, keyring, 2, NOW + dt.timedelta(hours=2), status="fulfilled")
    sup = bearer(session, make_staff(session, keyring, ["supervisor"], "central", username="sup-central")[0])
    sup_north = bearer(session, make_staff(session, keyring, ["supervisor"], "north", username="sup-north")[0])
    auditor = bearer(session, make_staff(session, keyring, ["auditor"], None, username="auditor-a")[0])
    admin = bearer(session, make_staff(session, keyring, ["admin"], None, username="admin-a")[0])
    clerk = bearer(session, make_staff(session, keyring, ["clerk"], "central", username="clerk-central")[0])

    own = client.get("/api/v1/offices/central/report", params={"month": MONTH}, headers=sup)
    assert own.status_code == 200, own.text
    body = own.json()
    assert body["total"] == 5 and body["by_status"] == {"booked": 3, "fulfilled": 2}
    assert "Person N" not in own.text and "Person M" not in own.text  # counts, never a person
    # another office's report answers as an unknown office's
    other = client.get("/api/v1/offices/central/report", params={"month": MONTH}, headers=sup_north)
    missing = client.get("/api/v1/offices/nowhere/report", params={"month": MONTH}, headers=sup_north)
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace("central", "x") == missing.json()["detail"].replace("nowhere", "x")
    # the org auditor reads any office and the whole network; admin and clerk read no report
    assert client.get("/api/v1/offices/central/report", params={"month": MONTH}, headers=auditor).json() == body
    network = client.get("/api/v1/network/report", params={"month": MONTH}, headers=auditor)
    assert network.status_code == 200
    rows = {r["office"]: r["total"] for r in network.json()["offices"]}
    assert rows == {"central": 5, "north": 0} and network.json()["total"] == 5
    for headers in (admin, clerk, sup):
        assert client.get("/api/v1/network/report", params={"month": MONTH}, headers=headers).status_code == 403
    for headers in (admin, clerk):
        assert client.get("/api/v1/offices/central/report", params={"month": MONTH},
                          headers=headers).status_code == 403
    bad = client.get("/api/v1/network/report", params={"month": "2027-13"}, headers=auditor)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_a_month_reads_the_same_after_retention_purged_it(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    add_appointments(session, keyring, 4, NOW + dt.timedelta(hours=1), status="fulfilled")
    auditor = bearer(session, make_staff(session, keyring, ["auditor"], None, username="auditor-a")[0])
    before = client.get("/api/v1/network/report", params={"month": MONTH}, headers=auditor).json()
    later = NOW + dt.timedelta(days=400)
    result = retention.run(session, RetentionSettings(), later)
    assert result.appointments_purged >= 4
    after = client.get("/api/v1/network/report", params={"month": MONTH}, headers=auditor).json()
    assert after == before and after["total"] >= 4
