"""Scheduling's side of retention (scheduling/retention.py): privacy asks for the visits that ended before
a cutoff, in batches, counts them, then has them deleted; contacts and stored retry answers go sooner."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import booking, idempotency, retention, service
from safeslot.scheduling.models import Appointment, IdempotencyRecord
from safeslot.scheduling.schemas import BookingIn, Contact
from tests.conftest import NOW, ON_SQLITE

NY = service.zone("America/New_York")
TUESDAY_10 = dt.datetime(2027, 3, 2, 10, 0, tzinfo=NY)


def _book(session: Session, keyring: KeyRing, start: dt.datetime) -> Appointment:
    return booking.book(session, keyring, BookingIn(
        office="central", service="card", starts_at=start, name="Test Person 1",
        contact=Contact(kind="phone", value="555-0100"), reminders_opt_in=True), NOW)


@ON_SQLITE
def test_ended_visits_come_in_batches_oldest_first_without_names_and_are_purged(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    visits = [_book(session, keyring, TUESDAY_10 + dt.timedelta(minutes=15 * i)) for i in range(3)]
    later = _book(session, keyring, TUESDAY_10 + dt.timedelta(days=1))
    cutoff = TUESDAY_10 + dt.timedelta(hours=2)
    first = retention.ended_before(session, cutoff, 2)
    assert [e.id for e in first] == [v.id for v in visits[:2]]
    assert not hasattr(first[0], "name_enc") and first[0].status == "booked"
    retention.purge(session, [e.id for e in retention.ended_before(session, cutoff, 10)])
    session.expire_all()
    assert retention.ended_before(session, cutoff, 10) == []
    assert session.scalar(select(func.count()).select_from(Appointment).where(Appointment.id == later.id)) == 1


@ON_SQLITE
def test_contacts_of_ended_visits_are_erased_and_their_reminders_switched_off(
    office: str, session: Session, keyring: KeyRing,
) -> None:
    ended, later = _book(session, keyring, TUESDAY_10), _book(session, keyring, TUESDAY_10 + dt.timedelta(days=1))
    assert retention.erase_contacts(session, TUESDAY_10 + dt.timedelta(hours=1)) == 1
    session.expire_all()
    assert (ended.contact_enc, ended.reminders_opt_in) == (None, False)
    assert later.contact_enc is not None and later.reminders_opt_in


@ON_SQLITE
def test_stored_retry_answers_go_after_the_cutoff(office: str, session: Session) -> None:
    def answer() -> tuple[int, dict[str, str]]:
        return 201, {"code": "ABCDE-12345"}

    idempotency.run_once(session, "book", "key-old", "h", NOW - dt.timedelta(days=2), answer)
    idempotency.run_once(session, "book", "key-new", "h", NOW, answer)
    assert retention.purge_idempotency(session, NOW - dt.timedelta(days=1)) == 1
    assert session.scalars(select(IdempotencyRecord.key)).all() == ["key-new"]
