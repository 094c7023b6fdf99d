"""Scheduling re-seals its own rows when privacy's key rotation asks (scheduling/sealing.py): appointments and
walk-in tickets under the current key, a month's appointments under its data key, and the key ids still named."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.kit.crypto import KeyRing, month_kid
from safeslot.scheduling import interfaces as scheduling
from safeslot.scheduling.models import Appointment
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue.models import QueueTicket
from tests.conftest import NOW
from tests.identity.helpers import add_appointments


def _names(session: Session, ring: KeyRing) -> list[str]:
    session.expire_all()
    return sorted([ring.open(a.name_enc, "appointment.name") for a in session.scalars(select(Appointment))]
                  + [ring.open(t.name_enc, queue.NAME_CONTEXT) for t in session.scalars(select(QueueTicket))
                     if t.name_enc is not None])


def test_appointments_and_walk_ins_are_resealed_in_resumable_batches(session: Session, office: str) -> None:
    old = KeyRing.generate()
    add_appointments(session, old, 3, NOW + dt.timedelta(hours=1))
    queue.check_in_walk_in(session, old, "central", "card", None, "Test Person A", NOW)
    before = _names(session, old)
    new = old.with_new_key()
    assert scheduling.pending_reseal(session, new) == 4
    assert scheduling.reseal_batch(session, new, batch_size=3) == 3  # the appointments first, then it stops
    assert scheduling.pending_reseal(session, new) == 1
    assert _names(session, new) == before  # half old, half new: every name still opens
    assert scheduling.reseal_batch(session, new, batch_size=3) == 1
    assert scheduling.reseal_batch(session, new, batch_size=3) == 0
    assert scheduling.sealed_key_ids(session) == {new.current}
    assert _names(session, new.without(old.current)) == before  # the old key can go


def test_a_months_appointments_move_under_its_data_key_and_others_stay(session: Session, office: str) -> None:
    ring = KeyRing.generate().with_month_keys(["2027-02", "2027-03"])
    add_appointments(session, ring, 2, dt.datetime(2027, 2, 28, 23, 30, tzinfo=dt.UTC))
    march = add_appointments(session, ring, 2, dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC))
    while scheduling.seal_month_batch(session, ring, "2027-03", batch_size=1):
        pass
    session.expire_all()
    by_month = {a.id: ring.key_id_of(a.name_enc) for a in session.scalars(select(Appointment))}
    assert {by_month[a.id] for a in march} == {month_kid("2027-03")}
    assert sorted(set(by_month.values())) == sorted({ring.current, month_kid("2027-03")})
    assert scheduling.sealed_key_ids(session) == {ring.current, month_kid("2027-03")}
    assert scheduling.pending_reseal(session, ring.with_new_key()) == 2  # month-keyed values are left alone
