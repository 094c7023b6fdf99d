"""Identity HTTP API: sign-in, accounts (admin), agencies and officials (privacy officer).

``setup`` installs the authorization middleware that enforces identity/authz.py
for every route of the app.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.config import Settings
from safeslot.db import SessionDep
from safeslot.deps import NowDep, RingDep
from safeslot.identity import repository as repo
from safeslot.identity import service
from safeslot.identity.errors import AccountLocked, SignInFailed
from safeslot.identity.guard import (
    SESSION_COOKIE,
    AuthzMiddleware,
    PrincipalDep,
    StaffDep,
    csrf_token,
)
from safeslot.identity.models import AgencyOfficial, StaffAccount
from safeslot.identity.schemas import (
    AccountCreated,
    AccountIn,
    AccountOut,
    AgencyIn,
    AgencyOut,
    KeyIn,
    KeyOut,
    MeOut,
    OfficialIn,
    OfficialOut,
    RolesIn,
    SessionOut,
    SignIn,
    TokenOut,
    VerificationIn,
)
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import problem_response, status_for
from safeslot.kit.http import JSON
from safeslot.scheduling import service as scheduling

router = APIRouter(prefix="/api/v1", tags=["identity"])



def setup(app: FastAPI, settings: Settings) -> None:
    from safeslot.identity import oidc

    app.add_middleware(AuthzMiddleware)
    app.include_router(oidc.router)


def _sign_in(
    request: Request, body: SignIn, session: Session, ring: KeyRing, now: dt.datetime
) -> StaffAccount | Response:
    try:
        return service.sign_in(session, ring, body.username, body.password, body.totp, now,
                               demo_mode=request.app.state.settings.demo_credentials)
    except (SignInFailed, AccountLocked) as exc:
        # Answer without raising, so the failure count is committed (the lockout depends on it).
        return problem_response(status_for(exc), exc.slug, exc.title, exc.detail, instance=request.url.path,
                                **exc.extra)


@router.post("/auth/token", response_model=TokenOut, responses={401: {"description": "Sign-in failed or locked"}})
def token(request: Request, body: SignIn, session: SessionDep, ring: RingDep, now: NowDep) -> Any:
    """Exchange username, password and TOTP code for an API bearer token."""
    account = _sign_in(request, body, session, ring, now)
    if isinstance(account, Response):
        return account
    credential, secret = service.issue_credential(session, "api", now, staff=account)
    return TokenOut(access_token=secret, expires_at=credential.expires_at)


@router.post("/auth/session", response_model=SessionOut, responses={401: {"description": "Sign-in failed or locked"}})
def console_session(request: Request, body: SignIn, session: SessionDep, ring: RingDep, now: NowDep) -> Any:
    """Console sign-in: sets a Secure, HttpOnly, SameSite=Strict cookie and returns the CSRF token for forms."""
    account = _sign_in(request, body, session, ring, now)
    if isinstance(account, Response):
        return account
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


def _account_out(account: StaffAccount) -> AccountOut:
    return AccountOut(username=account.username, display_name=account.display_name, roles=account.roles.split(),
                      office_id=account.office_id, active=account.active, locked_until=account.locked_until)


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(session: SessionDep) -> list[AccountOut]:
    return [_account_out(a) for a in repo.accounts(session)]


@router.post("/accounts", status_code=201, response_model=AccountCreated)
def create_account(body: AccountIn, session: SessionDep, ring: RingDep, now: NowDep) -> AccountCreated:
    office_id = scheduling.get_office(session, body.office).id if body.office else None
    account, secret = service.create_account(
        session, ring, username=body.username, display_name=body.display_name, password=body.password,
        roles=body.roles, office_id=office_id, now=now,
    )
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name="safeslot")
    return AccountCreated(**_account_out(account).model_dump(), totp_secret=secret, totp_uri=uri)


@router.post("/accounts/{username}/roles", response_model=AccountOut)
def set_roles(username: str, body: RolesIn, session: SessionDep) -> AccountOut:
    return _account_out(service.set_roles(session, username, body.roles))


@router.post("/accounts/{username}/unlock", response_model=AccountOut)
def unlock(username: str, session: SessionDep) -> AccountOut:
    return _account_out(service.unlock(session, username))


def _official_out(o: AgencyOfficial) -> OfficialOut:
    return OfficialOut(id=o.id, agency_id=o.agency_id, name=o.name, title=o.title,
                       delegation_level=o.delegation_level, verified=o.verified_at is not None,
                       verification_method=o.verification_method)


@router.get("/agencies", response_model=list[AgencyOut])
def list_agencies(session: SessionDep) -> list[AgencyOut]:
    return [AgencyOut(id=a.id, name=a.name, address=a.address,
                      officials=[_official_out(o) for o in repo.officials(session, a.id)])
            for a in repo.agencies(session)]


@router.post("/agencies", status_code=201, response_model=AgencyOut)
def create_agency(body: AgencyIn, session: SessionDep, now: NowDep) -> AgencyOut:
    agency = service.create_agency(session, body.name, body.address, now)
    return AgencyOut(id=agency.id, name=agency.name, address=agency.address, officials=[])


@router.post("/agencies/{agency_id}/officials", status_code=201, response_model=OfficialOut)
def add_official(agency_id: int, body: OfficialIn, session: SessionDep, now: NowDep) -> OfficialOut:
    return _official_out(service.add_official(session, agency_id, body.name, body.title, body.delegation_level, now))


@router.post("/agencies/{agency_id}/officials/{official_id}/verification", response_model=OfficialOut)
def verify_official(
    agency_id: int, official_id: int, body: VerificationIn, staff: StaffDep, session: SessionDep, now: NowDep
) -> OfficialOut:
    """Record how the official was verified out of band; only then may they send requests."""
    return _official_out(
        service.record_verification(session, agency_id, official_id, staff, body.method, body.note, now)
    )


@router.post("/agencies/{agency_id}/officials/{official_id}/credentials", status_code=201, response_model=KeyOut)
def issue_key(agency_id: int, official_id: int, body: KeyIn, session: SessionDep, now: NowDep) -> KeyOut:
    """A new API key (shown once); with revoke_others this is a rotation."""
    credential, secret = service.issue_agency_key(session, agency_id, official_id, now,
                                                  revoke_others=body.revoke_others)
    return KeyOut(credential_id=credential.id, api_key=secret, expires_at=credential.expires_at)


@router.post("/agencies/{agency_id}/officials/{official_id}/credentials/{credential_id}/revoke", status_code=204)
def revoke_key(agency_id: int, official_id: int, credential_id: int, session: SessionDep, now: NowDep) -> Response:
    service.revoke_agency_key(session, agency_id, official_id, credential_id, now)
    return Response(status_code=204)
