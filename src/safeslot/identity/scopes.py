"""Office scopes: which offices a staff account may work on (invariant "staff see what their work needs").

A network has up to about 1,200 offices; a clerk or supervisor works at one or a few of them. An
account's scope is the set of offices with an active ``identity_office_scope`` row; the request's
`Principal.office_ids` carries it and every office-bound read or act checks it (scheduling's
``office_in_scope`` / ``appointment_in_scope``, privacy's reads). Outside its scope an office's
records do not exist for the account: the answer is the same 404 as for an office or code that
does not exist, so a clerk cannot learn whether a person has a visit at another office.

Granting or removing a scope is a privileged change (authz.APPROVALS ``grant_office`` /
``remove_office``; identity/proposals.py): one person proposes, a different authorised person
approves, nobody proposes or approves a scope for themselves, and each step is a public log entry
naming only the role, the office id and pseudonyms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity.models import OfficeScope, StaffAccount


def office_ids(session: Session, account_id: int) -> frozenset[int]:
    """The offices the account may work on now."""
    return frozenset(session.scalars(
        select(OfficeScope.office_id).where(OfficeScope.account_id == account_id, OfficeScope.removed_at.is_(None))
    ).all())


def all_office_ids(session: Session) -> dict[int, frozenset[int]]:
    """Account id → its offices, for every account holding a scope (the administrator's account list)."""
    found: dict[int, set[int]] = {}
    for account_id, office_id in session.execute(
            select(OfficeScope.account_id, OfficeScope.office_id).where(OfficeScope.removed_at.is_(None))).tuples():
        found.setdefault(account_id, set()).add(office_id)
    return {k: frozenset(v) for k, v in found.items()}


def active(session: Session, account_id: int) -> Sequence[OfficeScope]:
    return session.scalars(
        select(OfficeScope).where(OfficeScope.account_id == account_id, OfficeScope.removed_at.is_(None))
        .order_by(OfficeScope.office_id)
    ).all()


def home_office(own_office_id: int | None, scoped: frozenset[int]) -> int | None:
    """The office pages open on: the account's own office (``own_office_id``) when it is in scope, else its
    lowest scoped office; None without any scope (an account waiting for its scope's approval works nowhere)."""
    if own_office_id is not None and own_office_id in scoped:
        return own_office_id
    return min(scoped) if scoped else None


def add(session: Session, account: StaffAccount, office_id: int, now: dt.datetime, *, origin: str,
        proposal_id: int | None = None, proposed_by: int | None = None,
        approved_by: int | None = None) -> OfficeScope:
    """Record a scope (the caller has checked the two people); an account with no office gets this one."""
    row = OfficeScope(account_id=account.id, office_id=office_id, origin=origin, proposal_id=proposal_id,
                      proposed_by=proposed_by, approved_by=approved_by, granted_at=now)
    session.add(row)
    if account.office_id is None:
        account.office_id = office_id
    session.flush()
    return row


def remove(session: Session, account: StaffAccount, office_id: int, now: dt.datetime) -> None:
    for row in active(session, account.id):
        if row.office_id == office_id:
            row.removed_at = now
    session.flush()
    if account.office_id == office_id:
        left = office_ids(session, account.id)
        account.office_id = min(left) if left else None
    session.flush()
