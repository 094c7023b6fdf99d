"""Test helpers: staff accounts, agency officials and their credentials, made through the services."""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import service
from safeslot.identity.models import StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment, Office, SlotCapacity
from tests.conftest import NOW

PASSWORD = "correct horse battery staple"


def make_staff(
    session: Session, ring: KeyRing, roles: list[str], office: str | None = None, username: str | None = None
) -> tuple[StaffAccount, str]:
    office_id = session.scalars(select(Office.id).where(Office.slug == office)).one() if office else None
    return service.create_account(
        session, ring, username=username or "-".join(roles).replace("_", "-"), display_name="Desk Example",
        password=PASSWORD, roles=roles, office_id=office_id, now=NOW,
    )


def bearer(session: Session, account: StaffAccount, now: dt.datetime = NOW) -> dict[str, str]:
    _, secret = service.issue_credential(session, "api", now, staff=account)
    return {"Authorization": f"Bearer {secret}"}


def staff_headers(session: Session, ring: KeyRing, roles: list[str], office: str | None = "central") -> dict[str, str]:
    account, _ = make_staff(session, ring, roles, office if {"clerk", "supervisor"} & set(roles) else None)
    return bearer(session, account)


def code_at(secret: str, when: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def add_appointments(
    session: Session, ring: KeyRing, n: int, starts_at: dt.datetime, *, name: str = "Maria Example",
    contact: str | None = "phone:555-0100", status: str = "booked", language: str | None = None,
) -> list[Appointment]:
    """Rows inserted directly (bypassing capacity): for listing and retention tests."""
    office = session.scalars(select(Office).where(Office.slug == "central")).one()
    slot = session.scalars(select(SlotCapacity).where(SlotCapacity.office_id == office.id)).first()
    assert slot is not None
    rows = []
    for i in range(n):
        a = Appointment(
            code=secrets.token_hex(5).upper(), office_id=office.id, service_id=slot.service_id,
            slot_id=slot.id, starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=30), status=status,
            language=language, name_enc=ring.seal(f"{name} {i}", "appointment.name"),
            name_index=ring.blind_index(name), accommodation_enc=ring.seal("wheelchair", "appointment.accommodation"),
            contact_enc=ring.seal(contact, "appointment.contact") if contact else None,
            reminders_opt_in=contact is not None, sequence=0, created_at=NOW, updated_at=NOW,
        )
        session.add(a)
        rows.append(a)
    session.flush()
    return rows
