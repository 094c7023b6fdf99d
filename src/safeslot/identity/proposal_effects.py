"""What an approved privileged change does: the effect of each kind of proposal, in the approval's transaction.

``proposals.approve`` checks who may approve (the matrix ``authz.APPROVALS``, nobody approving their
own change or a role for themselves) and then calls ``apply``: the role is granted or removed, the
agency registered, the official verified, the claim link sent, the office scope given or taken, the
changes of what another domain owns (lifting a hold, suspending or reinstating an agreement: disclosure's;
opening and closing an office: scheduling's) are that domain's, registered here with `register` when its
module loads (``disclosure/hold_proposals.py``, ``scheduling/office_proposals.py``), so identity imports
neither. Each effect is one privileged event (``EFFECT_EVENTS``) in the event table and the public log, with
the proposer and approver as keyed pseudonyms and ids only (never a name, note or address).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import events, grants, scopes, service
from safeslot.identity.authz import Change, mixes_duties
from safeslot.identity.errors import AccountNotFound, DutiesSeparated, OwnProposal, UsernameTaken
from safeslot.identity.invitations import send_claim_link, send_invitation
from safeslot.identity.models import Proposal, StaffAccount
from safeslot.kit.errors import Conflict, Unavailable

if TYPE_CHECKING:
    from safeslot.identity.proposals import Context

EFFECT_EVENTS = {
    Change.grant_role: "role_granted",
    Change.remove_role: "role_removed",
    Change.register_agency: "agency_registered",
    Change.verify_official: "official_verified",
    Change.issue_agency_key: "agency_key_approved",
    Change.lift_hold: "hold_lift_approved",
    Change.suspend_agreement: "agreement_suspension_approved",
    Change.reinstate_agreement: "agreement_reinstatement_approved",
    Change.grant_office: "office_scope_granted",
    Change.remove_office: "office_scope_removed",
    Change.open_office: "office_opened",
    Change.close_office: "office_closed",
}
OFFICE_CHANGES = frozenset({Change.grant_office, Change.remove_office})
# Changes to what another domain owns: their effect is that domain's (`register`).
OWNED_ELSEWHERE = frozenset({Change.lift_hold, Change.suspend_agreement, Change.reinstate_agreement,
                             Change.open_office, Change.close_office})


class Effect(Protocol):
    """What an approved change does in the domain that owns what it changes, in the approval's transaction.

    Gets who proposed it and the proposal's parameters; returns the ids that go into the privileged event
    and the proposal's result (never a name, note or address). Raises the owner's error to refuse.
    """

    def __call__(self, session: Session, proposer_id: int, params: dict[str, Any],
                 now: dt.datetime) -> dict[str, Any]: ...


_EFFECTS: dict[Change, Effect] = {}


def register(change: Change, effect: Effect) -> None:
    """The owning domain's effect of an approved ``change`` (one of `OWNED_ELSEWHERE`), set when its module loads."""
    if change not in OWNED_ELSEWHERE:
        raise ValueError(f"identity applies {change.value} itself")
    _EFFECTS[change] = effect


def office_role(account: StaffAccount) -> str | None:
    """The office-bound role an account holds (for the public trace of its scope: role and office only)."""
    held = account.roles.split()
    return "supervisor" if "supervisor" in held else "clerk" if "clerk" in held else None


def apply(session: Session, ctx: Context, proposal: Proposal, approver_id: int, now: dt.datetime) -> dict[str, Any]:
    change, params = Change(proposal.kind), dict(proposal.params)
    common: dict[str, Any] = {"proposer_id": proposal.proposed_by, "approver_id": approver_id,
                              "proposal_id": proposal.id}
    effect = EFFECT_EVENTS[change]
    if change in OWNED_ELSEWHERE:
        owner = _EFFECTS.get(change)
        if owner is None:  # a process that never loaded the owning domain: refuse, the proposal stays pending
            raise Unavailable(f"This server cannot apply {change.value.replace('_', ' ')} now; nothing was changed.")
        fields = owner(session, proposal.proposed_by, params, now)
        events.record(session, ctx.key, effect, now, **fields, **common)
        return fields
    if change is Change.grant_role:
        return _grant(session, ctx, proposal, approver_id, now)
    if change is Change.remove_role:
        account = session.get(StaffAccount, int(params["account_id"]))
        if account is None:
            raise AccountNotFound("The account no longer exists.")
        role = proposal.role or ""
        grants.remove(session, account, role, now)
        events.record(session, ctx.key, effect, now, account_id=account.id, role=role, **common)
        return {"account_id": account.id}
    if change is Change.register_agency:
        agency = service.create_agency(session, str(params["name"]), str(params["address"]), now)
        events.record(session, ctx.key, effect, now, agency_id=agency.id, agency=agency.name, **common)
        return {"agency_id": agency.id}
    if change is Change.verify_official:
        official = service.record_verification(session, int(params["agency_id"]), int(params["official_id"]),
                                               proposal.proposed_by, str(params["method"]), str(params["note"]), now)
        events.record(session, ctx.key, effect, now, agency_id=official.agency_id, official_id=official.id,
                      method=official.verification_method, **common)
        return {"official_id": official.id}
    if change is Change.issue_agency_key:
        official = service.get_official(session, int(params["agency_id"]), int(params["official_id"]))
        send_claim_link(session, ctx, official, now, revoke_others=not params.get("additional_key", False))
        events.record(session, ctx.key, effect, now, agency_id=official.agency_id, official_id=official.id,
                      additional_key=bool(params.get("additional_key", False)), **common)
        return {"official_id": official.id}
    if change in OFFICE_CHANGES:
        account = session.get(StaffAccount, int(params["account_id"]))
        if account is None or not account.active:
            raise AccountNotFound("The account no longer exists or was deactivated; reject this proposal.")
        office_id = int(params["office_id"])
        if change is Change.grant_office:
            if office_id in scopes.office_ids(session, account.id):
                raise Conflict("The account has this office scope already; reject this proposal.")
            scopes.add(session, account, office_id, now, origin="proposal", proposal_id=proposal.id,
                       proposed_by=proposal.proposed_by, approved_by=approver_id)
        else:
            scopes.remove(session, account, office_id, now)
        events.record(session, ctx.key, effect, now, account_id=account.id, role=office_role(account),
                      office_id=office_id, **common)
        return {"account_id": account.id, "office_id": office_id}
    raise ValueError(f"no effect for {change.value}")  # every Change is one of the branches above


def _grant(session: Session, ctx: Context, proposal: Proposal, approver_id: int, now: dt.datetime) -> dict[str, Any]:
    role = proposal.role or ""
    params = dict(proposal.params)
    new = params.get("new_account")
    if isinstance(new, dict):
        if session.scalars(select(StaffAccount.id).where(StaffAccount.username == new["username"])).first():
            raise UsernameTaken("An account with this username was created meanwhile; reject this proposal.")
        account, _ = service.create_account(
            session, ctx.ring, username=str(new["username"]), display_name=str(new["display_name"]), password=None,
            roles=list(new.get("other_roles") or []), office_id=new.get("office_id"), now=now,
            email=str(new["email"]), scope_origin=None,
        )
        if account.office_id is not None:  # the office was in the proposal the second person approved
            scopes.add(session, account, account.office_id, now, origin="proposal", proposal_id=proposal.id,
                       proposed_by=proposal.proposed_by, approved_by=approver_id)
        created = True
    else:
        found = session.get(StaffAccount, int(params["account_id"]))
        if found is None or not found.active:
            raise AccountNotFound("The account no longer exists or was deactivated; reject this proposal.")
        account, created = found, False
        if approver_id == account.id:
            raise OwnProposal("This change gives you a role; a different authorised person must approve it.")
    if mixes_duties(frozenset(account.roles.split()) | {role}):
        raise DutiesSeparated("An account cannot hold admin together with privacy_officer or counsel.")
    grant = grants.add(session, account, role, now, ctx.cooling_off, origin="proposal", proposal_id=proposal.id,
                       proposed_by=proposal.proposed_by, approved_by=approver_id)
    events.record(session, ctx.key, EFFECT_EVENTS[Change.grant_role], now, account_id=account.id, role=role,
                  proposer_id=proposal.proposed_by, approver_id=approver_id, proposal_id=proposal.id,
                  effective_at=grant.effective_at, new_account=created)
    if created:
        send_invitation(session, ctx, account, now)
    return {"account_id": account.id, "username": account.username, "effective_at": grant.effective_at.isoformat()}
