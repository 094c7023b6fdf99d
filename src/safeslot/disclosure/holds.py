"""Legal holds and sharing agreements, managed by privacy officers; every change is logged.

A hold (court order or injunction) forbids disclosure to a recipient, for a purpose, or
of a category until it is lifted or expires. An agreement (routine use or computer
matching agreement, 5 U.S.C. 552a(b)(3), (o)) lists recipient, purposes, categories and
its term: at most 18 months, renewable once for at most 12 (552a(o)(2)(C), (o)(2)(D)).
Log entries carry scopes and ids, never the text of a court's order.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy.orm import Session

from safeslot.disclosure import logbook
from safeslot.disclosure import repository as repo
from safeslot.disclosure.errors import ReviewerNotAllowed
from safeslot.disclosure.models import LegalHold, SharingAgreement
from safeslot.disclosure.schemas import Actor, AgreementIn, HoldIn
from safeslot.kit.errors import Conflict, InvalidInput, NotFound
from safeslot.transparency.interfaces import (
    AgreementChanged,
    AgreementCreated,
    AgreementRenewed,
    HoldCreated,
    HoldLifted,
    HoldScope,
)

MAX_TERM = dt.timedelta(days=548)  # 18 months
MAX_RENEWAL = dt.timedelta(days=366)  # 12 months
MANAGERS = frozenset({"privacy_officer"})


def _ref(session: Session, agency: str) -> str:
    return logbook.agency_ref(repo.agency_id(session, agency))


def _require_manager(actor: Actor) -> None:
    if actor.kind != "staff" or not (actor.roles & MANAGERS):
        raise ReviewerNotAllowed("Only a privacy officer may manage legal holds and sharing agreements.")


def create_hold(session: Session, actor: Actor, data: HoldIn, now: dt.datetime) -> LegalHold:
    _require_manager(actor)
    if not (data.agency or data.purpose or data.category):
        raise InvalidInput("A hold must cover an agency, a purpose or a category.")
    hold = LegalHold(authority=data.authority, agency=data.agency,
                     purpose=data.purpose.value if data.purpose else None,
                     category=data.category.value if data.category else None,
                     created_by=actor.id, created_at=now, expires_at=data.expires_at)
    session.add(hold)
    session.flush()
    # The recipient by registry id only: a hold's typed agency name never reaches the log.
    recipient = logbook.agency_ref(repo.agency_id(session, hold.agency)) if hold.agency else None
    scope = {k: v for k, v in (("recipient", recipient), ("purpose", hold.purpose),
                                ("category", hold.category)) if v}
    logbook.record(session, HoldCreated(time=logbook.rfc3339(now), hold_id=hold.id,
                                        scope=HoldScope.model_validate(scope)), now)
    return hold


def lift_hold(session: Session, actor: Actor, hold_id: int, now: dt.datetime) -> LegalHold:
    _require_manager(actor)
    hold = repo.hold(session, hold_id)
    if hold is None:
        raise NotFound(f"There is no legal hold {hold_id}.")
    if hold.lifted_at is not None:
        raise Conflict(f"Legal hold {hold_id} was already lifted.")
    hold.lifted_at, hold.lifted_by = now, actor.id
    logbook.record(session, HoldLifted(time=logbook.rfc3339(now), hold_id=hold.id), now)
    session.flush()
    return hold


def check_liftable(session: Session, hold_id: int) -> LegalHold:
    """The hold exists and is in force (before proposing to lift it)."""
    hold = repo.hold(session, hold_id)
    if hold is None:
        raise NotFound(f"There is no legal hold {hold_id}.")
    if hold.lifted_at is not None:
        raise Conflict(f"Legal hold {hold_id} was already lifted.")
    return hold


def lift_hold_approved(session: Session, proposer_id: int, hold_id: int, now: dt.datetime) -> LegalHold:
    """Lift a hold once a second person approved the proposal (identity/proposals.py)."""
    return lift_hold(session, Actor("staff", proposer_id, MANAGERS), hold_id, now)


def check_agreement(session: Session, agreement_id: int, *, suspended: bool) -> SharingAgreement:
    """The agreement exists and is (suspended=True) or is not (False) suspended now."""
    agreement = _agreement(session, agreement_id)
    if agreement.suspended != suspended:
        raise Conflict(f"Sharing agreement {agreement_id} is {'suspended' if agreement.suspended else 'in force'}"
                       " already.")
    return agreement


def set_suspension_approved(session: Session, proposer_id: int, agreement_id: int, reason: str,
                            now: dt.datetime, *, suspended: bool) -> SharingAgreement:
    """Suspend or reinstate once a second person approved the proposal (identity/proposals.py)."""
    return suspend_agreement(session, Actor("staff", proposer_id, MANAGERS), agreement_id, reason or "-", now,
                             suspended=suspended)


def create_agreement(session: Session, actor: Actor, data: AgreementIn, now: dt.datetime) -> SharingAgreement:
    _require_manager(actor)
    if data.expires_at <= data.starts_at or data.expires_at - data.starts_at > MAX_TERM:
        raise InvalidInput("An agreement runs at most 18 months (5 U.S.C. 552a(o)(2)(C)); fix its dates.")
    agreement = SharingAgreement(
        agency=data.agency, kind=data.kind, reference=data.reference,
        purposes=sorted(p.value for p in data.purposes), categories=sorted(c.value for c in data.categories),
        starts_at=data.starts_at, expires_at=data.expires_at, renewed=False, suspended=False, created_by=actor.id,
    )
    session.add(agreement)
    session.flush()
    logbook.record(session, AgreementCreated(
        time=logbook.rfc3339(now), agreement_id=agreement.id, agency=_ref(session, agreement.agency),
        kind=agreement.kind, purposes=agreement.purposes, categories=agreement.categories,
        starts_at=logbook.rfc3339(agreement.starts_at), expires_at=logbook.rfc3339(agreement.expires_at)), now)
    return agreement


def _agreement(session: Session, agreement_id: int) -> SharingAgreement:
    agreement = repo.agreement(session, agreement_id)
    if agreement is None:
        raise NotFound(f"There is no sharing agreement {agreement_id}.")
    return agreement


def suspend_agreement(session: Session, actor: Actor, agreement_id: int, reason: str, now: dt.datetime,
                      *, suspended: bool = True) -> SharingAgreement:
    """Suspend (or, with suspended=False, resume) an agreement."""
    _require_manager(actor)
    agreement = _agreement(session, agreement_id)
    agreement.suspended = suspended
    agreement.suspended_reason = reason if suspended else None
    event: Literal["sharing_agreement.suspended", "sharing_agreement.reinstated"] = (
        "sharing_agreement.suspended" if suspended else "sharing_agreement.reinstated")
    logbook.record(session, AgreementChanged(event=event, time=logbook.rfc3339(now), agreement_id=agreement.id,
                                             agency=_ref(session, agreement.agency)), now)
    session.flush()
    return agreement


def renew_agreement(session: Session, actor: Actor, agreement_id: int, new_expiry: dt.datetime,
                    now: dt.datetime) -> SharingAgreement:
    _require_manager(actor)
    agreement = _agreement(session, agreement_id)
    if agreement.renewed:
        raise Conflict("An agreement may be renewed only once (5 U.S.C. 552a(o)(2)(D)); make a new one.")
    if new_expiry <= agreement.expires_at or new_expiry - agreement.expires_at > MAX_RENEWAL:
        raise InvalidInput("A renewal extends the agreement by at most 12 months.")
    agreement.expires_at, agreement.renewed = new_expiry, True
    logbook.record(session, AgreementRenewed(time=logbook.rfc3339(now), agreement_id=agreement.id,
                                             agency=_ref(session, agreement.agency),
                                             expires_at=logbook.rfc3339(new_expiry)), now)
    session.flush()
    return agreement


def list_holds(session: Session) -> list[LegalHold]:
    """Every legal hold, newest first (the console's registry)."""
    from sqlalchemy import select

    return list(session.scalars(select(LegalHold).order_by(LegalHold.id.desc())))


def list_agreements(session: Session) -> list[SharingAgreement]:
    """Every sharing agreement, newest first (the console's registry)."""
    from sqlalchemy import select

    return list(session.scalars(select(SharingAgreement).order_by(SharingAgreement.id.desc())))
