"""All identity queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from safeslot.identity.models import Agency, AgencyOfficial, Credential, OfficeScope, StaffAccount


def account_by_username(session: Session, username: str, *, for_update: bool = False) -> StaffAccount | None:
    stmt = select(StaffAccount).where(StaffAccount.username == username)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def accounts(session: Session) -> Sequence[StaffAccount]:
    return session.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()


def usernames(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Account id → username, for pages that name who did something (auditors)."""
    if not ids:
        return {}
    rows = session.execute(select(StaffAccount.id, StaffAccount.username).where(StaffAccount.id.in_(set(ids))))
    return {account_id: username for account_id, username in rows.tuples()}  # noqa: C416 (Row → tuple)


# Every request with a credential reads these (service.resolve): the credential, its holder's fields and the
# staff account's offices, in one statement of plain columns, read afresh each time. Three ORM reads cost
# 3x the CPU and three round trips (docs/decisions.md, "A request's credential in one statement").
_HOLDER = (
    select(
        Credential.id, Credential.kind, Credential.secret_hash, Credential.staff_id, Credential.official_id,
        Credential.expires_at, Credential.revoked_at, Credential.amr, Credential.office_id,
        StaffAccount.id.label("account_id"), StaffAccount.username, StaffAccount.roles,
        StaffAccount.office_id.label("account_office_id"), StaffAccount.active.label("account_active"),
        StaffAccount.demo.label("account_demo"),
        AgencyOfficial.id.label("holder_official_id"), AgencyOfficial.name.label("official_name"),
        AgencyOfficial.active.label("official_active"), AgencyOfficial.demo.label("official_demo"),
        AgencyOfficial.verified_at.label("official_verified_at"),
        OfficeScope.office_id.label("scope_office_id"),
    )
    .outerjoin(StaffAccount, StaffAccount.id == Credential.staff_id)
    .outerjoin(AgencyOfficial, AgencyOfficial.id == Credential.official_id)
    .outerjoin(OfficeScope, (OfficeScope.account_id == StaffAccount.id) & OfficeScope.removed_at.is_(None))
)


def credential_holder(session: Session, secret_hash: str) -> Sequence[Row[Any]]:
    """The credential with this hash joined with its staff account (or agency official) and the account's
    active office scopes: one row per office in scope, one row (``scope_office_id`` None) without any,
    no row for an unknown hash."""
    return session.execute(_HOLDER.where(Credential.secret_hash == secret_hash)).all()


def credentials_of_official(session: Session, official_id: int) -> Sequence[Credential]:
    return session.scalars(select(Credential).where(Credential.official_id == official_id)).all()


def agency_by_name(session: Session, name: str) -> Agency | None:
    return session.scalars(select(Agency).where(Agency.name == name)).one_or_none()


def agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.name)).all()


def officials(session: Session, agency_id: int) -> Sequence[AgencyOfficial]:
    return session.scalars(
        select(AgencyOfficial).where(AgencyOfficial.agency_id == agency_id).order_by(AgencyOfficial.id)
    ).all()


def credentials_of_staff(session: Session, staff_id: int) -> Sequence[Credential]:
    return session.scalars(select(Credential).where(Credential.staff_id == staff_id)).all()


def active_official_keys(session: Session, official_id: int, now: dt.datetime) -> int:
    """How many keys of an agency official are neither revoked nor expired."""
    return int(session.scalar(select(func.count()).select_from(Credential).where(
        Credential.official_id == official_id, Credential.revoked_at.is_(None), Credential.expires_at > now)) or 0)
