"""Fixtures of the notifications tests: the demo office, bookings with a contact, a recording sender."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from safeslot.cli import outbox_kinds
from safeslot.config import Environment, Settings
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox
from safeslot.notifications.outbox import Tally
from safeslot.notifications.senders import Outgoing, Router, TryLater
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW

ZONE = "America/New_York"  # the demo office's


@dataclass
class Recorder:
    """A sender that keeps what it was given (in memory: the test's own inbox); ``fail`` makes it fail."""

    channel: str = "test"
    sent: list[Outgoing] = field(default_factory=list)
    fail: Exception | None = None

    def send(self, message: Outgoing) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)


@pytest.fixture
def office_weeks() -> int:
    return 3  # into the week after the clocks change (14 March 2027)


@pytest.fixture
def book(session: Session, keyring: KeyRing, office: str) -> Callable[..., Appointment]:
    def make(day: dt.date, *, contact: str | None = "555-0100", kind: str = "phone", opt_in: bool = True,
             hour: int | None = None, booked_at: dt.datetime = NOW) -> Appointment:
        _, _, slots = scheduling.search_slots(session, office, "apply", day, day, None, booked_at)
        chosen = [s for s in slots if hour is None or s.starts_at.astimezone(dt.UTC).hour == hour] or slots
        data = BookingIn.model_validate({
            "office": office, "service": "apply", "starts_at": chosen[0].starts_at.isoformat(),
            "name": "Test Person A", "contact": {"kind": kind, "value": contact} if contact else None,
            "reminders_opt_in": opt_in,
        })
        appointment = scheduling.book(session, keyring, data, booked_at)
        session.flush()
        return appointment

    return make


@pytest.fixture
def notify_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "environment": Environment.test,
        "notifications": settings.notifications.model_copy(update={"backoff_seconds": 60, "max_attempts": 3,
                                                                   "lease_seconds": 300}),
    })


def in_session(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    """The outbox's transactions, inside the test's rolled-back one."""
    @contextmanager
    def tx() -> Iterator[Session]:
        with session.begin_nested():
            yield session
        session.flush()

    return tx


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def run(session: Session, keyring: KeyRing, notify_settings: Settings, recorder: Recorder) -> Callable[..., Tally]:
    """One worker round at ``when``, e-mail and texts both to the recorder (unless a router is given)."""
    outbox_kinds.register_all()

    def go(when: dt.datetime, router: Router | None = None) -> Tally:
        return outbox.drain(in_session(session), router or Router(email=recorder, phone=recorder), keyring,
                            notify_settings, lambda: when)

    return go


__all__ = ["NOW", "ZONE", "Recorder", "TryLater", "in_session"]
