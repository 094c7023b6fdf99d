"""Collect the minimum. What is not collected cannot be disclosed.

No SSN, immigration or citizenship status field exists anywhere in the schema,
and the booking API refuses such fields instead of ignoring them, so a form
that asks for them cannot quietly store them somewhere.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

import safeslot.models_all  # noqa: F401  (every table on the metadata)
from safeslot.db import Base
from safeslot.scheduling.models import Appointment
from tests.scheduling.conftest import first_free

FORBIDDEN = re.compile(r"ssn|social_security|immigra|citizen|alien|visa|passport|nationality|birth", re.IGNORECASE)


def test_no_table_has_a_field_for_ssn_or_immigration_status(connection: Connection) -> None:
    # the migrated database, not only the models: a migration could add what the models lack
    inspector = inspect(connection)
    columns = [
        f"{table}.{col['name']}" for table in inspector.get_table_names() for col in inspector.get_columns(table)
    ]
    assert len(columns) > 50, "the inspection should see the whole schema"
    assert [c for c in columns if FORBIDDEN.search(c)] == []
    model_columns = [f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns]
    assert [c for c in model_columns if FORBIDDEN.search(c)] == []


def test_booking_refuses_fields_it_does_not_collect(client: TestClient, office: str, session: Session) -> None:
    start = first_free(client)
    for extra in ({"ssn": "000-00-0000"}, {"immigration_status": "x"}, {"citizenship": "x"}, {"date_of_birth": "x"}):
        body = {"office": "central", "service": "apply", "starts_at": start, "name": "A. B.", **extra}
        r = client.post("/api/v1/appointments", json=body)
        assert r.status_code == 422, extra
        assert r.headers["content-type"] == "application/problem+json"
        field = next(iter(extra))
        assert any(e["field"] == field for e in r.json()["errors"]), r.json()
        assert "000-00-0000" not in r.text  # the refused value is never echoed back
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0
