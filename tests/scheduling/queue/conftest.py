"""Queue fixtures: the demo office (six staff: en/es/vi, apply/card/interview) at NOW, and helpers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import QueueSettings
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment, Office, Staff
from safeslot.scheduling.schemas import BookingIn

SETTINGS = QueueSettings()


@pytest.fixture
def office_weeks() -> int:
    return 1


@pytest.fixture
def office(office: str, session: Session) -> Office:
    """The shared demo office (tests/conftest.py), as its row: the queue's services take it."""
    return session.scalars(select(Office).where(Office.slug == office)).one()


def desk(session: Session, name: str) -> Staff:
    """A demo staff member by display name: Desk A (en; apply card) … Desk F (en es vi; apply interview)."""
    return session.scalars(select(Staff).where(Staff.display_name == name)).one()


def book(session: Session, ring: KeyRing, service: str, at: dt.datetime, language: str | None = None,
         name: str = "Test Person A") -> Appointment:
    data = {"office": "central", "service": service, "starts_at": at.isoformat(), "name": name}
    if language:
        data["language"] = language
    return scheduling.book(session, ring, BookingIn.model_validate(data), at - dt.timedelta(days=1))
