"""HTTP for passkeys (identity/passkeys.py): add one to your account; sign in with one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from safeslot.deps import NowDep, SessionDep
from safeslot.identity import events, passkeys, service
from safeslot.identity.guard import SESSION_COOKIE, StaffDep, csrf_token
from safeslot.identity.models import StaffAccount
from safeslot.identity.schemas import SessionOut, Username
from safeslot.kit.http import JSON

router = APIRouter(prefix="/api/v1", tags=["identity"])


class CeremonyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str = Field(min_length=10, max_length=200, description="The `state` from the options answer.")
    credential: dict[str, Any] = Field(description="PublicKeyCredential.toJSON() from the browser.")


class PasskeyOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username


@router.post("/passkeys/registration-options", summary="Options to add a passkey to your own account")
def registration_options(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    account = session.get(StaffAccount, staff.id)
    assert account is not None  # the middleware resolved it this request
    return JSON(passkeys.registration_options(session, request.app.state.settings, account, now))


@router.post("/passkeys", status_code=201, summary="Add the passkey the browser just made (logged)")
def add_passkey(body: CeremonyIn, request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    account = session.get(StaffAccount, staff.id)
    assert account is not None
    settings = request.app.state.settings
    passkey = passkeys.register(session, settings, events.pseudonym_key(settings.secret_key), account, body.state,
                                body.credential, now)
    return JSON({"id": passkey.id, "passkeys": passkeys.count(session, account.id)}, status_code=201)


@router.post("/auth/passkey-options", summary="Options to sign in with a passkey")
def authentication_options(body: PasskeyOptionsIn, request: Request, session: SessionDep, now: NowDep) -> Response:
    return JSON(passkeys.authentication_options(session, request.app.state.settings, body.username, now))


@router.post("/auth/passkey-session", response_model=SessionOut, responses={401: {"description": "Not verified"}},
             summary="Console sign-in with a passkey: a session that may approve disclosures")
def passkey_session(body: CeremonyIn, request: Request, session: SessionDep, now: NowDep) -> Response:
    settings = request.app.state.settings
    account = passkeys.authenticate(session, settings, body.state, body.credential, now)
    credential, secret = service.issue_credential(session, "session", now, staff=account, amr="hwk")
    out = SessionOut(csrf_token=csrf_token(settings.secret_key, credential.secret_hash),
                     expires_at=credential.expires_at)
    response = JSON(out.model_dump(mode="json"))
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(service.SESSION_LIFETIME.total_seconds()),
                        secure=True, httponly=True, samesite="strict", path="/")
    return response
