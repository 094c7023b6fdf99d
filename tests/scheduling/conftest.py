from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from safeslot.scheduling import demo
from tests.conftest import NOW


@pytest.fixture
def office(session: Session) -> str:
    """The demo office with two weeks of slots from NOW."""
    slug = demo.load(session, NOW.date(), weeks=2)
    session.flush()
    return slug


def first_free(client, service: str = "apply", language: str | None = None, day: dt.date | None = None) -> str:  # type: ignore[no-untyped-def]
    params = {"office": "central", "service": service, "from": (day or NOW.date()).isoformat()}
    if language:
        params["language"] = language
    slots = client.get("/api/v1/slots", params=params).json()
    return str(slots[0]["starts_at"])
