"""HTTP for two-person privileged changes, offboarding, enrolment and key claims.

Proposals are made by the endpoints that used to act at once (POST /accounts, /agencies,
…/verification, …/credentials, /legal-holds/{id}/lift, /sharing-agreements/{id}/suspension and
/reinstatement); they are decided here by a second, authorised person.
"""

from __future__ import annotations

from typing import Any

import pyotp
from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity import events, invitations, offboarding, proposals
from safeslot.identity.authz import ADMIN, PRIVILEGED_ROLES
from safeslot.identity.guard import StaffDep
from safeslot.identity.interfaces import proposal_out
from safeslot.identity.schemas import (
    ClaimIn,
    EnrolIn,
    EnrolOut,
    KeyOut,
    OffboardOut,
    OfficeScopeIn,
    ProposalOut,
    RoleRemovalIn,
)
from safeslot.identity.service import Principal
from safeslot.kit.http import JSON

router = APIRouter(prefix="/api/v1", tags=["identity"])

def _ctx(request: Request, ring: Any) -> proposals.Context:
    return proposals.context_for(request.app.state.settings, ring)


@router.get("/proposals", response_model=list[ProposalOut])
def list_proposals(staff: StaffDep, session: SessionDep, now: NowDep,
                   waiting_for_me: bool = Query(default=False, description="Only those I may approve now."),
                   decided: bool = Query(default=False, description="Decided ones, newest first.")) -> Response:
    """Pending privileged changes (or decided ones). A supervisor sees only those waiting for them: their
    offices' scope changes."""
    if not staff.roles & PRIVILEGED_ROLES:
        waiting_for_me, decided = True, False
    found = (proposals.decided(session) if decided else
             proposals.waiting_for(session, staff.id, now) if waiting_for_me else proposals.pending(session))
    return JSON([proposal_out(session, p).model_dump(mode="json") for p in found])


@router.post("/proposals/{proposal_id}/approval", response_model=ProposalOut,
             summary="Approve a privileged change: never your own, never one that gives you a role")
def approve(proposal_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
            now: NowDep) -> Response:
    proposal = proposals.approve(session, _ctx(request, ring), staff.id, proposal_id, now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"))


@router.post("/proposals/{proposal_id}/rejection", response_model=ProposalOut,
             summary="Reject a change (an authorised approver) or withdraw it (its proposer)")
def reject(proposal_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
           now: NowDep) -> Response:
    proposal = proposals.reject(session, _ctx(request, ring), staff.id, proposal_id, now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"))


@router.post("/accounts/{username}/role-removals", status_code=202, response_model=ProposalOut)
def remove_role(username: str, body: RoleRemovalIn, request: Request, staff: StaffDep, session: SessionDep,
                ring: RingDep, now: NowDep) -> Response:
    """Propose taking a privileged role away (a second person approves; effective on the next request)."""
    proposal = proposals.propose_role(session, _ctx(request, ring), staff.id, username, body.role, now, remove=True)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/accounts/{username}/office-scopes", status_code=202, response_model=ProposalOut,
             summary="Propose an office scope for an account (a second person approves; never for yourself)")
def add_office_scope(username: str, body: OfficeScopeIn, request: Request, staff: StaffDep, session: SessionDep,
                     ring: RingDep, now: NowDep) -> Response:
    office_id = _office_id(request, session, body.office, staff)
    proposal = proposals.propose_office(session, _ctx(request, ring), staff.id, username, office_id, now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/accounts/{username}/office-scope-removals", status_code=202, response_model=ProposalOut,
             summary="Propose taking an office scope away (a second person approves)")
def remove_office_scope(username: str, body: OfficeScopeIn, request: Request, staff: StaffDep,
                        session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    office_id = _office_id(request, session, body.office, staff)
    proposal = proposals.propose_office(session, _ctx(request, ring), staff.id, username, office_id, now,
                                        remove=True)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


def _office_id(request: Request, session: Session, slug: str, staff: Principal) -> int:
    """An administrator names any office; a supervisor only one of theirs (others are unknown to them).
    The look-up is scheduling's, given to identity by app.py (endpoints.OfficeIdOf)."""
    office_id_of = request.app.state.office_id_of
    found: int = office_id_of(session, slug, None if ADMIN in staff.roles else staff)
    return found


@router.post("/accounts/{username}/deactivation", response_model=OffboardOut)
def deactivate(username: str, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
               now: NowDep) -> OffboardOut:
    """End an account's access now: every session and token stops working on the next request (logged)."""
    account, revoked = offboarding.deactivate(session, _ctx(request, ring), staff.id, username, now)
    return OffboardOut(username=account.username, active=account.active, credentials_revoked=revoked)


@router.post("/accounts/{username}/factor-reset", response_model=OffboardOut)
def reset_factors(username: str, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                  now: NowDep) -> OffboardOut:
    """Forget the account's password, TOTP and passkeys; the holder enrols again by a new link (logged)."""
    account, revoked = offboarding.reset_factors(session, _ctx(request, ring), staff.id, username, now)
    return OffboardOut(username=account.username, active=account.active, credentials_revoked=revoked)


@router.post("/enrolment", response_model=EnrolOut,
             summary="The account holder, with their one-time invitation, sets a password and gets their TOTP secret")
def enrol(body: EnrolIn, request: Request, session: SessionDep, ring: RingDep, now: NowDep) -> EnrolOut:
    account, secret = offboarding.enrol(session, _ctx(request, ring), body.token, body.password, now)
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name="safeslot")
    return EnrolOut(username=account.username, totp_secret=secret, totp_uri=uri)


@router.post("/agency-key-claims", status_code=201, response_model=KeyOut,
             summary="An official claims a new API key with the one-time link sent to their registered address")
def claim(body: ClaimIn, request: Request, session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    credential_id, secret, expires_at = invitations.claim_key(session, _ctx(request, ring), body.token, now)
    out = KeyOut(credential_id=credential_id, api_key=secret, expires_at=expires_at)
    return JSON(out.model_dump(mode="json"), status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/privileged-events", summary="Privileged identity events, newest first (accounts as pseudonyms)")
def privileged_events(session: SessionDep, limit: int = Query(default=200, ge=1, le=1000)) -> Response:
    import json

    return JSON([{"id": e.id, "log_index": e.log_index, **json.loads(e.entry)} for e in events.recent(session, limit)])
