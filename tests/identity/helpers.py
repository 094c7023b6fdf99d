"""Test helpers: staff accounts, agency officials and their credentials, made through the services.

Privileged roles (admin, privacy_officer, counsel, auditor) are given as in production: proposed by
one administrator and approved by another (the two "founder" administrators the CLI bootstraps),
four days before NOW, so reviewer roles have passed their cooling-off by NOW.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import events, grants, invitations, links, proposals, service
from safeslot.identity.authz import PRIVILEGED_ROLES
from safeslot.identity.models import IdentityMail, StaffAccount
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling.models import Appointment, Office, SlotCapacity
from tests.conftest import NOW

PASSWORD = "correct horse battery staple"
APPROVED_AT = NOW - dt.timedelta(days=4)  # past the 72-hour cooling-off at NOW
FOUNDERS = ("founder-a", "founder-b")
SECRET_KEY = "development-only-secret-change-me"  # the test settings' secret key (pseudonyms)


def ctx(ring: KeyRing, cooling_off: dt.timedelta = dt.timedelta(hours=72)) -> proposals.Context:
    return proposals.Context(ring=ring, key=events.pseudonym_key(SECRET_KEY), cooling_off=cooling_off,
                             link_ttl=dt.timedelta(hours=72), public_url="http://testserver")


def founders(session: Session, ring: KeyRing) -> tuple[StaffAccount, StaffAccount]:
    """The two bootstrap administrators (made once per test database transaction)."""
    made = []
    for username in FOUNDERS:
        account = session.scalars(select(StaffAccount).where(StaffAccount.username == username)).one_or_none()
        if account is None:
            account, _ = service.create_account(session, ring, username=username, display_name="Founder Example",
                                                password=PASSWORD, roles=[], office_id=None,
                                                now=APPROVED_AT - dt.timedelta(days=1))
            invitations.bootstrap_admin(session, ctx(ring), account, APPROVED_AT - dt.timedelta(days=1))
        made.append(account)
    return made[0], made[1]


def grant(session: Session, ring: KeyRing, account: StaffAccount, role: str,
          at: dt.datetime = APPROVED_AT) -> None:
    """Give a privileged role the production way: founder A proposes, founder B approves."""
    a, b = founders(session, ring)
    if role == "admin" and grants.active_admins(session) < invitations.BOOTSTRAP_ADMINS:
        invitations.bootstrap_admin(session, ctx(ring), account, at)
        return
    proposal = proposals.propose_role(session, ctx(ring), a.id, account.username, role, at)
    proposals.approve(session, ctx(ring), b.id, proposal.id, at)


def make_staff(
    session: Session, ring: KeyRing, roles: list[str], office: str | None = None, username: str | None = None
) -> tuple[StaffAccount, str]:
    office_id = session.scalars(select(Office.id).where(Office.slug == office)).one() if office else None
    account, secret = service.create_account(
        session, ring, username=username or "-".join(roles).replace("_", "-"), display_name="Desk Example",
        password=PASSWORD, roles=[r for r in roles if r not in PRIVILEGED_ROLES], office_id=office_id,
        now=APPROVED_AT,
    )
    for role in roles:
        if role in PRIVILEGED_ROLES:
            grant(session, ring, account, role)
    return account, secret


def bearer(session: Session, account: StaffAccount, now: dt.datetime = NOW, amr: str | None = None) -> dict[str, str]:
    _, secret = service.issue_credential(session, "api", now, staff=account, amr=amr)
    return {"Authorization": f"Bearer {secret}"}


def staff_headers(session: Session, ring: KeyRing, roles: list[str], office: str | None = "central") -> dict[str, str]:
    account, _ = make_staff(session, ring, roles, office if {"clerk", "supervisor"} & set(roles) else None)
    return bearer(session, account)


def code_at(secret: str, when: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def outbox(session: Session, ring: KeyRing) -> list[tuple[str, str, str]]:
    """Queued identity mail as (address, subject, body): what the holder's inbox would get."""
    rows = session.scalars(select(IdentityMail).order_by(IdentityMail.id)).all()
    return [(ring.open(m.address_enc, links.ADDRESS_CONTEXT), m.subject,
             ring.open(m.body_enc, links.BODY_CONTEXT) if m.body_enc else "") for m in rows]


def link_token(session: Session, ring: KeyRing, address: str, prefix: str) -> str:
    """The newest one-time token (sse_… enrol, ssc_… claim) mailed to an address."""
    for to, _, body in reversed(outbox(session, ring)):
        if to == address and prefix in body:
            start = body.index(prefix)
            return body[start:].split()[0].rstrip('"}')
    raise AssertionError(f"no {prefix} link was sent to {address}")


def add_appointments(
    session: Session, ring: KeyRing, n: int, starts_at: dt.datetime, *, name: str = "Test Person M",
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
