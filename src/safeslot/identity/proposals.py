"""Two-person privileged changes (invariant "two people, distinct roles", "all the way down").

Giving or removing the roles admin, privacy_officer, counsel and auditor (also by creating an
account that holds one), registering an agency, verifying an official, issuing an agency key,
lifting a legal hold, and suspending or reinstating a sharing agreement are *proposals*: they
take effect only when a different, authorised person approves them. Who may propose and who
may approve each change is the matrix `authz.APPROVALS`; on top of it nobody approves a change
they proposed or that gives them a role, nobody proposes a role for themselves, and
administration and disclosure review never meet on one account (`authz.SEPARATED`).

Every step is a privileged event (identity/events.py): in the append-only event table and in
the public transparency log, with accounts as keyed pseudonyms. A reviewer grant is public
from the moment it is approved and counts for approvals only after the cooling-off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.identity import events, grants, proposal_effects, scopes, service
from safeslot.identity.authz import (
    ADMIN,
    AUDITOR,
    PRIVILEGED_ROLES,
    REVIEWER_ROLES,
    SUPERVISOR,
    Cell,
    Change,
    cell,
    mixes_duties,
)
from safeslot.identity.errors import (
    ApproverNotAllowed,
    DutiesSeparated,
    OwnProposal,
    ProposalDecided,
    ProposalNotFound,
    ReviewerCoolingOff,
    UnknownRole,
    UsernameTaken,
)
from safeslot.identity.models import Proposal, StaffAccount
from safeslot.identity.proposal_effects import OFFICE_CHANGES, apply, office_role
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, InvalidInput

# Ids that go into the public log entries (never names, notes or addresses).
PUBLIC_PARAMS = ("agency_id", "official_id", "hold_id", "agreement_id", "additional_key", "office_id", "office",
                 "bookings")
# Accounts that work across the network and never read an office's appointments hold no office scope.
NETWORK_ROLES = frozenset({ADMIN, AUDITOR})


@dataclass(frozen=True)
class Context:
    """What privileged services need from the settings, so they never read them."""

    ring: KeyRing
    key: bytes  # pseudonym key (events.pseudonym_key)
    cooling_off: dt.timedelta
    link_ttl: dt.timedelta
    public_url: str


def context_for(settings: Settings, ring: KeyRing) -> Context:
    return Context(ring=ring, key=events.pseudonym_key(settings.secret_key), cooling_off=settings.cooling_off,
                   link_ttl=dt.timedelta(hours=settings.identity.invitation_hours),
                   public_url=settings.server.public_url.rstrip("/"))


# -- who may act ----------------------------------------------------------------------------------
def _account(session: Session, account_id: int) -> StaffAccount:
    account = session.get(StaffAccount, account_id)
    if account is None or not account.active:
        raise ApproverNotAllowed("Your account is not active.")
    return account


def _require(session: Session, account: StaffAccount, allowed: frozenset[str], now: dt.datetime,
             doing: str) -> None:
    held = frozenset(account.roles.split())
    acting = grants.acting_roles(session, account.id, held, now)
    if acting & allowed:
        return
    if held & allowed & REVIEWER_ROLES:
        raise ReviewerCoolingOff(f"Your role does not count yet for {doing}: wait until its cooling-off ends, "
                                 "or ask another authorised person.")
    raise ApproverNotAllowed(f"{doing.capitalize()} needs one of these roles: {', '.join(sorted(allowed))}.")


def _require_office(session: Session, account: StaffAccount, change: Change, params: dict[str, Any],
                    now: dt.datetime, doing: str) -> None:
    """An office scope change by someone acting only as supervisor: the office must be in their own scope
    (a supervisor looks after their offices' staff, never another office's)."""
    if change not in OFFICE_CHANGES:
        return
    acting = grants.acting_roles(session, account.id, frozenset(account.roles.split()), now)
    if ADMIN in acting:
        return
    if SUPERVISOR in acting and int(params["office_id"]) in scopes.office_ids(session, account.id):
        return
    raise ApproverNotAllowed(f"{doing.capitalize()} needs an administrator or a supervisor of that office.")


def _public(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in PUBLIC_PARAMS if k in params}


def _propose(session: Session, ctx: Context, by_id: int, change: Change, role: str | None,
             params: dict[str, Any], now: dt.datetime, beneficiary_id: int | None = None) -> Proposal:
    proposer = _account(session, by_id)
    rule = cell(change, role)
    doing = f"proposing {change.value.replace('_', ' ')}"
    _require(session, proposer, rule.proposers, now, doing)
    _require_office(session, proposer, change, params, now, doing)
    if beneficiary_id is not None and beneficiary_id == by_id:
        raise OwnProposal("Nobody proposes a role for themselves: ask another administrator to propose it.")
    proposal = Proposal(kind=change.value, role=role, params=params, proposed_by=by_id, proposed_at=now,
                        beneficiary_id=beneficiary_id, status="pending")
    session.add(proposal)
    session.flush()
    events.record(session, ctx.key, "change_proposed", now, account_id=beneficiary_id, role=role,
                  proposer_id=by_id, proposal_id=proposal.id, change=change.value, **_public(params))
    return proposal


def propose(session: Session, ctx: Context, by_id: int, change: Change, params: dict[str, Any],
            now: dt.datetime) -> Proposal:
    """A proposal with no role and no beneficiary, checked against the matrix; the owning domain checks its
    own facts first (scheduling/office_proposals.py, disclosure/hold_proposals.py)."""
    return _propose(session, ctx, by_id, change, None, params, now)


# -- proposing ------------------------------------------------------------------------------------
def _check_role(role: str) -> None:
    if role not in PRIVILEGED_ROLES:
        raise UnknownRole(f"Only {', '.join(sorted(PRIVILEGED_ROLES))} are proposed; other roles change at once.")


def propose_account(session: Session, ctx: Context, by_id: int, *, username: str, display_name: str, email: str,
                    role: str, other_roles: Sequence[str], office_id: int | None, now: dt.datetime) -> Proposal:
    """A new account holding a privileged role: created, and invited to enrol, once approved."""
    _check_role(role)
    if set(other_roles) & PRIVILEGED_ROLES:
        raise UnknownRole("Propose one privileged role with the account; propose others once it exists.")
    if mixes_duties(frozenset({role, *other_roles})):
        raise DutiesSeparated("An account cannot hold admin together with privacy_officer or counsel.")
    if session.scalars(select(StaffAccount.id).where(StaffAccount.username == username)).first() is not None:
        raise UsernameTaken("Choose another username.")
    new = {"username": username, "display_name": display_name, "email": email, "office_id": office_id,
           "other_roles": sorted(set(other_roles))}
    return _propose(session, ctx, by_id, Change.grant_role, role, {"new_account": new}, now)


def propose_role(session: Session, ctx: Context, by_id: int, username: str, role: str, now: dt.datetime, *,
                 remove: bool = False) -> Proposal:
    """Give an existing account a privileged role, or take it away."""
    _check_role(role)
    account = service.get_account(session, username)
    if account.id == by_id and not remove:
        raise OwnProposal("Nobody proposes a role for themselves: ask another administrator to propose it.")
    held = frozenset(account.roles.split())
    if remove and role not in held:
        raise Conflict(f"{username} does not hold {role}.")
    if not remove and role in held:
        raise Conflict(f"{username} holds {role} already.")
    if not remove and mixes_duties(held | {role}):
        raise DutiesSeparated("An account cannot hold admin together with privacy_officer or counsel; "
                              "use a separate account for each duty.")
    change = Change.remove_role if remove else Change.grant_role
    beneficiary = None if remove else account.id
    return _propose(session, ctx, by_id, change, role, {"account_id": account.id}, now, beneficiary)


def propose_office(session: Session, ctx: Context, by_id: int, username: str, office_id: int, now: dt.datetime, *,
                   remove: bool = False) -> Proposal:
    """Give an account an office scope, or take one away (a second person approves; identity/scopes.py).

    Nobody proposes a scope for themselves, so nobody widens their own scope; the account given a
    scope may not approve it either (proposals.approve)."""
    account = service.get_account(session, username)
    if account.id == by_id and not remove:
        raise OwnProposal("Nobody widens their own office scope: ask another administrator or supervisor.")
    held = scopes.office_ids(session, account.id)
    if remove and office_id not in held:
        raise Conflict(f"{username} has no scope on office {office_id}.")
    if not remove and office_id in held:
        raise Conflict(f"{username} has a scope on office {office_id} already.")
    if not remove and NETWORK_ROLES & set(account.roles.split()):
        raise DutiesSeparated("Administrators and auditors work across the network and read no office's "
                              "appointments: they hold no office scope. Use a separate account for office work.")
    change = Change.remove_office if remove else Change.grant_office
    beneficiary = None if remove else account.id
    return _propose(session, ctx, by_id, change, office_role(account),
                    {"account_id": account.id, "office_id": office_id}, now, beneficiary)


def propose_agency(session: Session, ctx: Context, by_id: int, name: str, address: str,
                   now: dt.datetime) -> Proposal:
    from safeslot.identity import repository as repo

    if repo.agency_by_name(session, name) is not None:
        raise UsernameTaken("An agency with this name is registered already.")
    return _propose(session, ctx, by_id, Change.register_agency, None, {"name": name, "address": address}, now)


def propose_verification(session: Session, ctx: Context, by_id: int, agency_id: int, official_id: int,
                         method: str, note: str, now: dt.datetime) -> Proposal:
    if method not in service.VERIFICATION_METHODS:
        raise UnknownRole(f"Verification method must be one of: {', '.join(service.VERIFICATION_METHODS)}.")
    official = service.get_official(session, agency_id, official_id)
    if official.verified_at is not None:
        raise Conflict("This official is verified already.")
    return _propose(session, ctx, by_id, Change.verify_official, None,
                    {"agency_id": agency_id, "official_id": official_id, "method": method, "note": note}, now)


def propose_key(session: Session, ctx: Context, by_id: int, agency_id: int, official_id: int, now: dt.datetime, *,
                revoke_others: bool) -> Proposal:
    """A new key for an official, reaching them only by a claim link to their registered address.
    Without revoke_others it is an additional key: the approver sees that in the proposal."""
    official = service.get_official(session, agency_id, official_id)
    if not official.email:
        raise InvalidInput("Record the official's registered address first: the key is sent only there.")
    return _propose(session, ctx, by_id, Change.issue_agency_key, None,
                    {"agency_id": agency_id, "official_id": official_id, "additional_key": not revoke_others}, now)


def register_effect(change: Change, effect: proposal_effects.Effect) -> None:
    """The owning domain's effect of an approved change to what it owns (a hold, an agreement, an office),
    registered when its module loads: identity applies it in the approval's transaction and logs the event."""
    proposal_effects.register(change, effect)


# -- deciding -------------------------------------------------------------------------------------
def get(session: Session, proposal_id: int, *, for_update: bool = False) -> Proposal:
    stmt = select(Proposal).where(Proposal.id == proposal_id)
    if for_update:
        stmt = stmt.with_for_update()
    proposal = session.scalars(stmt).one_or_none()
    if proposal is None:
        raise ProposalNotFound("Check the id in GET /api/v1/proposals.")
    return proposal


def rule_of(proposal: Proposal) -> Cell:
    return cell(Change(proposal.kind), proposal.role)


def approve(session: Session, ctx: Context, by_id: int, proposal_id: int, now: dt.datetime) -> Proposal:
    """The second person approves: the change takes effect now, in this transaction."""
    proposal = get(session, proposal_id, for_update=True)
    if proposal.status != "pending":
        raise ProposalDecided(f"Proposal {proposal_id} is {proposal.status}; nothing more can be decided.")
    if by_id == proposal.proposed_by:
        raise OwnProposal("You proposed this change; a different authorised person must approve it.")
    if proposal.beneficiary_id is not None and by_id == proposal.beneficiary_id:
        raise OwnProposal("This change gives you a role; a different authorised person must approve it.")
    approver = _account(session, by_id)
    _require(session, approver, rule_of(proposal).approvers, now, "approving this change")
    _require_office(session, approver, Change(proposal.kind), proposal.params, now, "approving this change")
    result = apply(session, ctx, proposal, by_id, now)
    proposal.status, proposal.decided_by, proposal.decided_at, proposal.result = "approved", by_id, now, result
    session.flush()
    return proposal


def reject(session: Session, ctx: Context, by_id: int, proposal_id: int, now: dt.datetime) -> Proposal:
    """An authorised approver rejects, or the proposer withdraws; nothing else changes."""
    proposal = get(session, proposal_id, for_update=True)
    if proposal.status != "pending":
        raise ProposalDecided(f"Proposal {proposal_id} is {proposal.status}; nothing more can be decided.")
    if by_id != proposal.proposed_by:
        if proposal.beneficiary_id == by_id:
            raise OwnProposal("This change concerns you; another authorised person decides it.")
        decider = _account(session, by_id)
        _require(session, decider, rule_of(proposal).approvers, now, "rejecting this change")
        _require_office(session, decider, Change(proposal.kind), proposal.params, now, "rejecting this change")
    proposal.status = "withdrawn" if by_id == proposal.proposed_by else "rejected"
    proposal.decided_by, proposal.decided_at = by_id, now
    events.record(session, ctx.key, "change_" + proposal.status, now, account_id=proposal.beneficiary_id,
                  role=proposal.role, proposer_id=proposal.proposed_by, approver_id=by_id,
                  proposal_id=proposal.id, change=proposal.kind, **_public(proposal.params))
    session.flush()
    return proposal


def pending(session: Session) -> Sequence[Proposal]:
    return session.scalars(select(Proposal).where(Proposal.status == "pending").order_by(Proposal.id)).all()


def decided(session: Session, limit: int = 100) -> Sequence[Proposal]:
    return session.scalars(select(Proposal).where(Proposal.status != "pending")
                           .order_by(Proposal.decided_at.desc(), Proposal.id.desc()).limit(limit)).all()


def waiting_for(session: Session, account_id: int, now: dt.datetime) -> list[Proposal]:
    """Pending proposals this account may approve now (not its own, not for itself)."""
    account = session.get(StaffAccount, account_id)
    if account is None or not account.active:
        return []
    acting = grants.acting_roles(session, account.id, frozenset(account.roles.split()), now)
    mine = scopes.office_ids(session, account.id)
    return [p for p in pending(session)
            if p.proposed_by != account_id and p.beneficiary_id != account_id and acting & rule_of(p).approvers
            and (Change(p.kind) not in OFFICE_CHANGES or ADMIN in acting or int(p.params["office_id"]) in mine)]
