"""Walk-in records follow the appointments' retention and encryption, and never reach the disclosure gate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from safeslot.config import RetentionSettings
from safeslot.kit.crypto import KeyRing, month_kid
from safeslot.privacy import retention, rotation
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Office
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue.models import QueueDailyCount, QueueTicket
from tests.conftest import NOW
from tests.scheduling.queue.conftest import SETTINGS, desk

NAME = "Test Person A"
DAY = dt.timedelta(days=1)


def _a_served_and_a_missed_ticket(session: Session, ring: KeyRing, office: Office) -> list[QueueTicket]:
    served = queue.check_in_walk_in(session, ring, "central", "card", "es", NAME, NOW)
    missed = queue.check_in_walk_in(session, ring, "central", "card", None, None, NOW)
    c = desk(session, "Desk C")
    queue.call_next(session, office, c.id, "Desk 3", NOW + dt.timedelta(minutes=7), SETTINGS)
    queue.finish(session, office, served.id, c.id, "done", NOW + dt.timedelta(minutes=15))
    queue.call_next(session, office, c.id, "Desk 3", NOW + dt.timedelta(minutes=16), SETTINGS)
    queue.finish(session, office, missed.id, c.id, "noshow", NOW + dt.timedelta(minutes=20))
    return [served, missed]


def test_names_go_after_the_contact_period_tickets_after_the_appointment_period_counts_stay(
        session: Session, keyring: KeyRing, office: Office) -> None:
    served, _missed = _a_served_and_a_missed_ticket(session, keyring, office)
    periods = RetentionSettings(contact_days=30, appointment_days=365)
    result = retention.run(session, periods, NOW + 30 * DAY)
    assert result.ticket_names_erased == 0 and served.name_enc is not None  # the day itself is within the period
    result = retention.run(session, periods, NOW + 32 * DAY)
    session.expire_all()
    assert result.ticket_names_erased == 1
    assert session.get(QueueTicket, served.id).name_enc is None  # type: ignore[union-attr]
    result = retention.run(session, periods, NOW + 367 * DAY)
    assert result.tickets_purged == 2
    assert session.scalar(select(func.count()).select_from(QueueTicket)) == 0
    counts = {(c.language, c.outcome, c.wait_band): c.count for c in session.scalars(select(QueueDailyCount))}
    assert counts == {("es", "done", "5-15"): 1, ("", "noshow", "15-30"): 1}
    again = retention.run(session, periods, NOW + 368 * DAY)  # a rerun counts nothing twice
    assert again.tickets_purged == 0
    assert sum(c.count for c in session.scalars(select(QueueDailyCount))) == 2


def test_a_walk_in_name_is_sealed_under_its_month_key_and_counted_in_use(
        session: Session, office: Office) -> None:
    keyring = KeyRing.generate().with_month_keys([scheduling.data_key_month(NOW)])
    ticket = queue.check_in_walk_in(session, keyring, "central", "card", None, NAME, NOW)
    raw = bytes(session.execute(text("SELECT name_enc FROM queue_ticket WHERE id = :i"), {"i": ticket.id}).scalar_one())
    assert NAME.encode() not in raw
    assert keyring.key_id_of(raw) == month_kid(scheduling.data_key_month(NOW))
    assert month_kid(scheduling.data_key_month(NOW)) in rotation.keys_in_use(session)


def test_the_disclosure_gate_cannot_match_a_walk_in(session: Session, keyring: KeyRing, office: Office) -> None:
    """No blind index on tickets: a named subject's search finds appointments only, never a walk-in."""
    queue.check_in_walk_in(session, keyring, "central", "card", None, NAME, NOW)
    assert "name_index" not in QueueTicket.__table__.columns
    assert scheduling.appointments_for_subject(session, keyring.blind_index(NAME)) == []
