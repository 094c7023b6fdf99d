"""Retention: contacts go 30 days after the visit, appointments after 365, the monthly counts stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import RetentionSettings
from safeslot.kit.crypto import KeyRing
from safeslot.privacy import retention
from safeslot.privacy.models import MonthlyCount
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW
from tests.identity.helpers import add_appointments


def _monthly_counts(session: Session) -> list[MonthlyCount]:
    return list(session.scalars(select(MonthlyCount).order_by(MonthlyCount.month, MonthlyCount.id)))


def test_retention_deletes_what_it_should_and_keeps_the_counts(
    session: Session, keyring: KeyRing, office: str
) -> None:
    recent = add_appointments(session, keyring, 2, NOW - dt.timedelta(days=10))
    month_old = add_appointments(session, keyring, 2, NOW - dt.timedelta(days=40), status="fulfilled")
    year_old = add_appointments(session, keyring, 3, dt.datetime(2026, 1, 15, 15, tzinfo=dt.UTC), status="fulfilled")
    add_appointments(session, keyring, 1, dt.datetime(2026, 1, 20, 15, tzinfo=dt.UTC), status="noshow",
                     language="es")
    upcoming = add_appointments(session, keyring, 1, NOW + dt.timedelta(days=3))

    year_old_ids = {a.id for a in year_old}
    result = retention.run(session, RetentionSettings(), NOW, batch_size=2)
    assert result.appointments_purged == 4
    assert result.contacts_deleted == 2  # the month-old ones; the year-old ones went whole
    session.expire_all()
    left = {a.id: a for a in session.scalars(select(Appointment))}
    assert set(left) == {a.id for a in [*recent, *month_old, *upcoming]}
    assert all(left[a.id].contact_enc is not None for a in [*recent, *upcoming])
    assert all(left[a.id].contact_enc is None and not left[a.id].reminders_opt_in for a in month_old)
    # the month-old visit keeps its name and need until the appointment period ends
    assert keyring.open(left[month_old[0].id].name_enc, "appointment.name").startswith("Test Person M")
    assert not year_old_ids & set(left)

    counts = [(c.month, c.status, c.language, c.count) for c in _monthly_counts(session)]
    assert counts == [("2026-01", "fulfilled", "", 3), ("2026-01", "noshow", "es", 1)]

    # a second run deletes nothing more and does not count twice
    again = retention.run(session, RetentionSettings(), NOW)
    assert (again.appointments_purged, again.contacts_deleted) == (0, 0)
    assert [c.count for c in _monthly_counts(session)] == [3, 1]
    # a later purge in the same month adds to the same count
    add_appointments(session, keyring, 2, dt.datetime(2026, 1, 25, 15, tzinfo=dt.UTC), status="fulfilled")
    retention.run(session, RetentionSettings(contact_days=5, appointment_days=30), NOW)
    fulfilled = [c.count for c in _monthly_counts(session)
                 if c.month == "2026-01" and c.status == "fulfilled"]
    assert fulfilled == [5]
