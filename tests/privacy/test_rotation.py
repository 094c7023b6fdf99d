"""Key rotation: interrupted halfway and resumed, every value stays readable; then the old key can go."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity.models import StaffAccount
from safeslot.identity.service import TOTP_CONTEXT
from safeslot.kit.crypto import KeyRing
from safeslot.privacy import rotation
from safeslot.scheduling.models import Appointment
from tests.conftest import NOW
from tests.identity.helpers import add_appointments, make_staff


def _all_readable(session: Session, ring: KeyRing) -> list[str]:
    session.expire_all()
    names = [ring.open(a.name_enc, "appointment.name") for a in session.scalars(select(Appointment))]
    for a in session.scalars(select(Appointment)):
        if a.contact_enc:
            assert ring.open(a.contact_enc, "appointment.contact") == "phone:555-0100"
    for s in session.scalars(select(StaffAccount)):
        ring.open(s.totp_enc, TOTP_CONTEXT)
    return names


def test_interrupted_rotation_resumes_without_loss(session: Session, office: str) -> None:
    old = KeyRing.generate()
    add_appointments(session, old, 7, NOW + dt.timedelta(hours=1))
    add_appointments(session, old, 3, NOW + dt.timedelta(hours=2), contact=None)
    make_staff(session, old, ["clerk"], office)  # one account with a sealed factor (a clerk needs no proposal)
    before = sorted(_all_readable(session, old))

    new = old.with_new_key()
    assert rotation.pending(session, new) == 11
    assert rotation.reseal_batch(session, new, batch_size=4) == 4  # one batch, then the process "dies"
    assert rotation.pending(session, new) == 7
    assert sorted(_all_readable(session, new)) == before  # half old, half new: all readable

    while rotation.reseal_batch(session, new, batch_size=4):  # the rerun continues where it stopped
        pass
    assert rotation.pending(session, new) == 0
    assert rotation.keys_in_use(session) == {new.current}
    retired = new.without(old.current)
    assert sorted(_all_readable(session, retired)) == before
    # the blind index does not depend on the sealing key: name matching still works
    rows = session.scalars(select(Appointment.name_index)).all()
    assert set(rows) == {retired.blind_index("Test Person M")}
