"""Every query of the disclosure gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from safeslot.disclosure.models import (
    AccountingCode,
    AccountingEntry,
    Attestation,
    CategoryDecisionRow,
    DisclosureNotice,
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


def attestations(session: Session, request_id: int) -> Sequence[Attestation]:
    return session.scalars(
        select(Attestation).where(Attestation.request_id == request_id).order_by(Attestation.id)
    ).all()


def delete_decisions(session: Session, request_id: int) -> None:
    """Drop a request's per-category answers before it is decided again (the log keeps both)."""
    for row in decisions(session, request_id):
        session.delete(row)
    session.flush()


def release_for(session: Session, request_id: int) -> Release | None:
    return session.scalars(select(Release).where(Release.request_id == request_id)).first()


def release_by_token_hash(session: Session, token_hash: str) -> Release | None:
    return session.scalars(select(Release).where(Release.token_hash == token_hash).with_for_update()).first()


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


def policy_change(session: Session, change_id: int, *, for_update: bool = False) -> PolicyChange | None:
    stmt = select(PolicyChange).where(PolicyChange.id == change_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def entries_due_for_notice(session: Session, now: dt.datetime,
                           request_id: int | None = None) -> Sequence[AccountingEntry]:
    """Entries the person may see now (not (b)(7), no running order) without a notice yet."""
    noticed = select(DisclosureNotice.entry_id)
    stmt = (
        select(AccountingEntry)
        .where(AccountingEntry.withheld_b7.is_(False),
               or_(AccountingEntry.deferred_until.is_(None), AccountingEntry.deferred_until <= now),
               AccountingEntry.id.not_in(noticed))
        .order_by(AccountingEntry.id)
    )
    if request_id is not None:
        stmt = stmt.where(AccountingEntry.request_id == request_id)
    return session.scalars(stmt).all()


def entry_codes(session: Session, entry_id: int) -> Sequence[str]:
    return session.scalars(
        select(AccountingCode.code).where(AccountingCode.entry_id == entry_id).order_by(AccountingCode.code)
    ).all()


def notices(session: Session) -> Sequence[DisclosureNotice]:
    return session.scalars(select(DisclosureNotice).order_by(DisclosureNotice.id)).all()


def notice(session: Session, notice_id: int) -> DisclosureNotice | None:
    return session.get(DisclosureNotice, notice_id, populate_existing=True)


def stale_requests(session: Session, now: dt.datetime) -> Sequence[DisclosureRequest]:
    """Open requests whose deadline has passed without a release."""
    return session.scalars(
        select(DisclosureRequest)
        .where(DisclosureRequest.deadline.is_not(None), DisclosureRequest.deadline < now,
               DisclosureRequest.status.in_(("received", "in_review", "info_requested", "approved")))
        .order_by(DisclosureRequest.id)
        .with_for_update()
    ).all()


def agency_id(session: Session, name: str | None) -> int | None:
    """The registry id of the agency of this name, if registered (asked of identity)."""
    from safeslot.identity import interfaces as identity

    return identity.agency_id(session, name)


def agency_name(session: Session, agency_id: int) -> str | None:
    """The registered name of agency `agency_id` (what policies, holds and agreements compare)."""
    from safeslot.identity import interfaces as identity

    return identity.agency_name(session, agency_id)


def agency_address(session: Session, name: str) -> str | None:
    """The registered address of the agency of this name (the accounting names the recipient with it)."""
    from safeslot.identity import interfaces as identity

    return identity.agency_address(session, name)


def document_bytes(session: Session, agency: str) -> int:
    """Bytes of instrument documents stored for this agency (its storage quota counts them)."""
    total = session.scalar(
        select(func.coalesce(func.sum(func.length(DisclosureRequest.document)), 0)).where(
            DisclosureRequest.agency == agency
        )
    )
    return int(total or 0)
