"""Every query of the disclosure gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safeslot.disclosure.models import (
    AccountingCode,
    AccountingEntry,
    CategoryDecisionRow,
    DisclosureRequest,
    LegalHold,
    PolicyChange,
    Release,
    RequestSubject,
    ReviewAction,
    SharingAgreement,
)


def get_request(session: Session, request_id: int, *, for_update: bool = False) -> DisclosureRequest | None:
    stmt = select(DisclosureRequest).where(DisclosureRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def requests(session: Session, *, status: str | None = None, agency: str | None = None) -> Sequence[DisclosureRequest]:
    stmt = select(DisclosureRequest).order_by(DisclosureRequest.id)
    if status is not None:
        stmt = stmt.where(DisclosureRequest.status == status)
    if agency is not None:
        stmt = stmt.where(DisclosureRequest.agency == agency)
    return session.scalars(stmt).all()


def subjects(session: Session, request_id: int) -> Sequence[RequestSubject]:
    return session.scalars(
        select(RequestSubject).where(RequestSubject.request_id == request_id).order_by(RequestSubject.id)
    ).all()


def decisions(session: Session, request_id: int) -> Sequence[CategoryDecisionRow]:
    return session.scalars(
        select(CategoryDecisionRow).where(CategoryDecisionRow.request_id == request_id).order_by(CategoryDecisionRow.id)
    ).all()


def reviews(session: Session, request_id: int) -> Sequence[ReviewAction]:
    return session.scalars(
        select(ReviewAction).where(ReviewAction.request_id == request_id).order_by(ReviewAction.id)
    ).all()


def release_for(session: Session, request_id: int) -> Release | None:
    return session.scalars(select(Release).where(Release.request_id == request_id)).first()


def release_by_token_hash(session: Session, token_hash: str) -> Release | None:
    return session.scalars(select(Release).where(Release.token_hash == token_hash).with_for_update()).first()


def releases(session: Session) -> Sequence[Release]:
    return session.scalars(select(Release).order_by(Release.id)).all()


def active_holds(session: Session, now: dt.datetime) -> Sequence[LegalHold]:
    return session.scalars(
        select(LegalHold)
        .where(LegalHold.lifted_at.is_(None))
        .where(or_(LegalHold.expires_at.is_(None), LegalHold.expires_at > now))
        .order_by(LegalHold.id)
    ).all()


def hold(session: Session, hold_id: int) -> LegalHold | None:
    return session.get(LegalHold, hold_id)


def agreements_for(session: Session, agency: str) -> Sequence[SharingAgreement]:
    return session.scalars(
        select(SharingAgreement).where(SharingAgreement.agency == agency).order_by(SharingAgreement.id.desc())
    ).all()


def agreement(session: Session, agreement_id: int) -> SharingAgreement | None:
    return session.get(SharingAgreement, agreement_id)


def accounting_for(session: Session, name_index: str, code: str) -> Sequence[AccountingEntry]:
    return session.scalars(
        select(AccountingEntry)
        .join(AccountingCode, AccountingCode.entry_id == AccountingEntry.id)
        .where(AccountingEntry.name_index == name_index, AccountingCode.code == code)
        .order_by(AccountingEntry.disclosed_at, AccountingEntry.id)
    ).all()


def accounting_for_request(session: Session, request_id: int) -> Sequence[AccountingEntry]:
    return session.scalars(
        select(AccountingEntry).where(AccountingEntry.request_id == request_id).order_by(AccountingEntry.id)
    ).all()


def policy_change(session: Session, change_id: int, *, for_update: bool = False) -> PolicyChange | None:
    stmt = select(PolicyChange).where(PolicyChange.id == change_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()
