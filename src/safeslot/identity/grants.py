"""Privileged role grants and their cooling-off.

`staff_account.roles` is what the authorization table reads; for the privileged roles
(authz.PRIVILEGED_ROLES) every role held there has an active `identity_role_grant` row
saying who proposed it, who approved it and from when it counts. A reviewer role
(privacy_officer, counsel) counts for approvals only from `effective_at` = approval time +
the cooling-off setting; the grant itself is public in the log from its approval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.identity.authz import ADMIN, PRIVILEGED_ROLES, REVIEWER_ROLES
from safeslot.identity.errors import ReviewerCoolingOff, RoleRefused
from safeslot.identity.models import RoleGrant, StaffAccount


def active(session: Session, account_id: int) -> Sequence[RoleGrant]:
    return session.scalars(
        select(RoleGrant).where(RoleGrant.account_id == account_id, RoleGrant.removed_at.is_(None))
        .order_by(RoleGrant.id)
    ).all()


def effective_since(session: Session, account_id: int, role: str) -> dt.datetime | None:
    """When the account's active grant of this role started to count, or None without one."""
    return session.scalar(
        select(func.min(RoleGrant.effective_at)).where(
            RoleGrant.account_id == account_id, RoleGrant.role == role, RoleGrant.removed_at.is_(None))
    )


def acting_roles(session: Session, account_id: int, held: frozenset[str], now: dt.datetime) -> frozenset[str]:
    """The roles that count now: non-privileged roles as held; privileged ones only with a grant
    already effective (a new reviewer waits out the cooling-off)."""
    counted = set(held - PRIVILEGED_ROLES)
    for grant in active(session, account_id):
        if grant.role in held and grant.effective_at <= now:
            counted.add(grant.role)
    return frozenset(counted)


def require_reviewer(session: Session, account_id: int, role: str, now: dt.datetime) -> None:
    """Refuse unless the account is active and holds `role` by a grant past its cooling-off."""
    account = session.get(StaffAccount, account_id)
    if account is None or not account.active or role not in account.roles.split():
        raise RoleRefused(f"Only staff holding the {role} role may do this.")
    since = effective_since(session, account_id, role)
    if since is None:
        raise ReviewerCoolingOff(
            f"Your {role} role was never approved by a second person; ask an administrator to propose it.")
    if since > now and role in REVIEWER_ROLES:
        raise ReviewerCoolingOff(
            f"Your {role} role counts from {since.isoformat()} (the cooling-off after its approval); "
            "another reviewer must act until then.", effective_at=since.isoformat())


def add(session: Session, account: StaffAccount, role: str, now: dt.datetime, cooling_off: dt.timedelta, *,
        origin: str, proposal_id: int | None = None, proposed_by: int | None = None,
        approved_by: int | None = None) -> RoleGrant:
    """Record a grant and add the role to the account; reviewer roles count after the cooling-off."""
    grant = RoleGrant(account_id=account.id, role=role, origin=origin, proposal_id=proposal_id,
                      proposed_by=proposed_by, approved_by=approved_by, approved_at=now,
                      effective_at=now + (cooling_off if role in REVIEWER_ROLES else dt.timedelta(0)))
    session.add(grant)
    account.roles = " ".join(sorted(set(account.roles.split()) | {role}))
    session.flush()
    return grant


def remove(session: Session, account: StaffAccount, role: str, now: dt.datetime) -> None:
    for grant in active(session, account.id):
        if grant.role == role:
            grant.removed_at = now
    account.roles = " ".join(sorted(set(account.roles.split()) - {role}))
    session.flush()


def active_admins(session: Session) -> int:
    rows = session.scalars(select(StaffAccount).where(StaffAccount.active.is_(True))).all()
    return sum(1 for a in rows if ADMIN in a.roles.split())
