"""Identity HTTP API: sign-in, accounts (admin), agencies and officials (privacy officer).

``setup`` installs the authorization middleware that enforces identity/authz.py
for every route of the app, and takes from the caller how an office's slug becomes its id
(offices are scheduling's; identity stores only the id, and never imports scheduling).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.config import Settings
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity import invitations, proposals, scopes, service
from safeslot.identity import repository as repo
from safeslot.identity.authz import PRIVILEGED_ROLES
from safeslot.identity.errors import OwnProposal, UnknownRole
from safeslot.identity.guard import (
    SESSION_COOKIE,
    AuthzMiddleware,
    PrincipalDep,
    StaffDep,
    csrf_token,
)
from safeslot.identity.interfaces import proposal_out
from safeslot.identity.models import AgencyOfficial, StaffAccount
from safeslot.identity.schemas import (
    AccountIn,
    AccountOut,
    AgencyIn,
    AgencyOut,
    KeyIn,
    MeOut,
    OfficialIn,
    OfficialOut,
    ProposalOut,
    RolesChangeOut,
    RolesIn,
    SessionOut,
    SignIn,
    TokenOut,
    VerificationIn,
)
from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.kit.http import JSON

router = APIRouter(prefix="/api/v1", tags=["identity"])



class OfficeIdOf(Protocol):
    """An office's id from its slug (scheduling's offices); raises the owner's not-found error for an unknown
    one and, ``within`` a principal's scope, for an office outside it too (the same answer: identity/scopes.py)."""

    def __call__(self, session: Session, slug: str, within: Principal | None = None) -> int: ...


def setup(app: FastAPI, settings: Settings, *, office_id_of: OfficeIdOf) -> None:
    """Identity's state and the authorization middleware; app.py includes this router and identity's others
    (``oidc``, ``privileged_endpoints``, ``passkey_endpoints``)."""
    app.state.office_id_of = office_id_of
    app.add_middleware(AuthzMiddleware)


def _sign_in(request: Request, body: SignIn, session: Session, ring: KeyRing, now: dt.datetime) -> StaffAccount:
    # SignInFailed is Recorded: the session commits the failure count before it is answered.
    return service.sign_in(session, ring, body.username, body.password, body.totp, now,
                           demo_mode=request.app.state.settings.demo_credentials)


@router.post("/auth/token", response_model=TokenOut, responses={401: {"description": "Sign-in failed or locked"}})
def token(request: Request, body: SignIn, session: SessionDep, ring: RingDep, now: NowDep) -> Any:
    """Exchange username, password and TOTP code for an API bearer token."""
    account = _sign_in(request, body, session, ring, now)
    credential, secret = service.issue_credential(session, "api", now, staff=account)
    return TokenOut(access_token=secret, expires_at=credential.expires_at)


@router.post("/auth/session", response_model=SessionOut, responses={401: {"description": "Sign-in failed or locked"}})
def console_session(request: Request, body: SignIn, session: SessionDep, ring: RingDep, now: NowDep) -> Any:
    """Console sign-in: sets a Secure, HttpOnly, SameSite=Strict cookie and returns the CSRF token for forms."""
    account = _sign_in(request, body, session, ring, now)
    credential, secret = service.issue_credential(session, "session", now, staff=account)
    out = SessionOut(csrf_token=csrf_token(request.app.state.settings.secret_key, credential.secret_hash),
                     expires_at=credential.expires_at)
    response = JSON(out.model_dump(mode="json"))
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(service.SESSION_LIFETIME.total_seconds()),
                        secure=True, httponly=True, samesite="strict", path="/")
    return response


@router.post("/auth/logout", status_code=204)
def logout(principal: PrincipalDep, session: SessionDep, now: NowDep) -> Response:
    """Revoke the token or session used for this request."""
    service.revoke_credential(session, principal.credential_id, now)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/auth/me", response_model=MeOut)
def me(request: Request, principal: PrincipalDep) -> MeOut:
    csrf = (csrf_token(request.app.state.settings.secret_key, principal.secret_hash)
            if principal.credential_kind == "session" else None)
    return MeOut(kind=principal.kind, name=principal.name, roles=sorted(principal.roles),
                 office_id=principal.office_id, csrf_token=csrf)


def _account_out(session: Session, account: StaffAccount,
                 scoped: Mapping[int, frozenset[int]] | None = None) -> AccountOut:
    offices = scoped.get(account.id, frozenset()) if scoped is not None else scopes.office_ids(session, account.id)
    return AccountOut(username=account.username, display_name=account.display_name, roles=account.roles.split(),
                      office_id=account.office_id, active=account.active, locked_until=account.locked_until,
                      enrolled=account.enrolled_at is not None, office_ids=sorted(offices))


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(session: SessionDep) -> list[AccountOut]:
    scoped = scopes.all_office_ids(session)  # one query for the whole network's staff
    return [_account_out(session, a, scoped) for a in repo.accounts(session)]


@router.post("/accounts", status_code=201, response_model=AccountOut,
             responses={202: {"model": ProposalOut, "description": "A privileged role: proposed, waits for approval"}})
def create_account(request: Request, body: AccountIn, staff: StaffDep, session: SessionDep, ring: RingDep,
                   now: NowDep) -> Response:
    """A new account. With admin, privacy_officer, counsel or auditor it is a proposal (202) that a second,
    authorised person approves; otherwise it is created at once (201). Either way the holder enrols their
    own password and codes through a one-time link sent to `email`; no answer ever shows their secrets."""
    office_id_of: OfficeIdOf = request.app.state.office_id_of
    office_id = office_id_of(session, body.office) if body.office else None
    ctx = proposals.context_for(request.app.state.settings, ring)
    privileged = sorted(set(body.roles) & PRIVILEGED_ROLES)
    if privileged:
        if len(privileged) > 1:
            raise UnknownRole("Propose one privileged role with the account; propose others once it exists.")
        other = [r for r in body.roles if r not in PRIVILEGED_ROLES]
        service.parse_roles(body.roles)
        if ({"clerk", "supervisor"} & set(other)) and office_id is None:
            raise UnknownRole("A clerk or supervisor works at one office: give the office.")
        proposal = proposals.propose_account(
            session, ctx, staff.id, username=body.username, display_name=body.display_name, email=body.email,
            role=privileged[0], other_roles=other, office_id=office_id, now=now)
        return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)
    account, _ = service.create_account(
        session, ring, username=body.username, display_name=body.display_name, password=None,
        roles=body.roles, office_id=office_id, now=now, email=body.email, scope_origin=None,
    )
    if office_id is not None:
        # The office's appointments open only when a second person approves the scope (identity/scopes.py).
        proposals.propose_office(session, ctx, staff.id, account.username, office_id, now)
    invitations.send_invitation(session, ctx, account, now)
    return JSON(_account_out(session, account).model_dump(mode="json"), status_code=201)


@router.post("/accounts/{username}/roles", response_model=RolesChangeOut,
             responses={202: {"description": "Some changes are proposals waiting for a second person"}})
def set_roles(username: str, body: RolesIn, request: Request, staff: StaffDep, session: SessionDep,
              ring: RingDep, now: NowDep) -> Response:
    """Replace an account's roles: clerk and supervisor change at once; adding or removing a privileged
    role becomes a proposal each (202)."""
    service.parse_roles(body.roles)
    account = service.get_account(session, username)
    if account.id == staff.id:
        raise OwnProposal("Nobody changes their own roles: ask another administrator.")
    held, wanted = set(account.roles.split()), set(body.roles)
    ctx = proposals.context_for(request.app.state.settings, ring)
    made = [proposals.propose_role(session, ctx, staff.id, username, role, now)
            for role in sorted((wanted - held) & PRIVILEGED_ROLES)]
    made += [proposals.propose_role(session, ctx, staff.id, username, role, now, remove=True)
             for role in sorted((held - wanted) & PRIVILEGED_ROLES)]
    plain = (wanted - PRIVILEGED_ROLES) | (held & PRIVILEGED_ROLES)
    if ({"clerk", "supervisor"} & plain) and account.office_id is None:
        raise UnknownRole("A clerk or supervisor works at one office: the account has none.")
    account.roles = " ".join(sorted(plain))
    session.flush()
    out = RolesChangeOut(account=_account_out(session, account), proposals=[proposal_out(session, p) for p in made])
    return JSON(out.model_dump(mode="json"), status_code=202 if made else 200)


@router.post("/accounts/{username}/unlock", response_model=AccountOut)
def unlock(username: str, session: SessionDep) -> AccountOut:
    return _account_out(session, service.unlock(session, username))


def _official_out(o: AgencyOfficial) -> OfficialOut:
    return OfficialOut(id=o.id, agency_id=o.agency_id, name=o.name, title=o.title,
                       delegation_level=o.delegation_level, verified=o.verified_at is not None,
                       verification_method=o.verification_method)


@router.get("/agencies", response_model=list[AgencyOut])
def list_agencies(session: SessionDep) -> list[AgencyOut]:
    return [AgencyOut(id=a.id, name=a.name, address=a.address,
                      officials=[_official_out(o) for o in repo.officials(session, a.id)])
            for a in repo.agencies(session)]


@router.post("/agencies", status_code=202, response_model=ProposalOut)
def create_agency(body: AgencyIn, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                  now: NowDep) -> Response:
    """Propose registering an agency; a second reviewer approves (GET /api/v1/proposals)."""
    ctx = proposals.context_for(request.app.state.settings, ring)
    proposal = proposals.propose_agency(session, ctx, staff.id, body.name, body.address, now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/agencies/{agency_id}/officials", status_code=201, response_model=OfficialOut)
def add_official(agency_id: int, body: OfficialIn, session: SessionDep, now: NowDep) -> OfficialOut:
    """Record an official (not yet able to send anything: verification and a key are proposals)."""
    return _official_out(service.add_official(session, agency_id, body.name, body.title, body.delegation_level, now,
                                              email=body.email))


@router.post("/agencies/{agency_id}/officials/{official_id}/verification", status_code=202,
             response_model=ProposalOut)
def verify_official(
    agency_id: int, official_id: int, body: VerificationIn, request: Request, staff: StaffDep, session: SessionDep,
    ring: RingDep, now: NowDep,
) -> Response:
    """Propose recording how the official was verified out of band; a second reviewer approves."""
    ctx = proposals.context_for(request.app.state.settings, ring)
    proposal = proposals.propose_verification(session, ctx, staff.id, agency_id, official_id, body.method,
                                              body.note, now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/agencies/{agency_id}/officials/{official_id}/credentials", status_code=202,
             response_model=ProposalOut)
def issue_key(agency_id: int, official_id: int, body: KeyIn, request: Request, staff: StaffDep,
              session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    """Propose a new key. Once a second person approves, a one-time claim link goes to the official's
    registered address (never to staff); the official claims it with POST /api/v1/agency-key-claims."""
    ctx = proposals.context_for(request.app.state.settings, ring)
    proposal = proposals.propose_key(session, ctx, staff.id, agency_id, official_id, now,
                                     revoke_others=body.revoke_others)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/agencies/{agency_id}/officials/{official_id}/credentials/{credential_id}/revoke", status_code=204)
def revoke_key(agency_id: int, official_id: int, credential_id: int, session: SessionDep, now: NowDep) -> Response:
    service.revoke_agency_key(session, agency_id, official_id, credential_id, now)
    return Response(status_code=204)
