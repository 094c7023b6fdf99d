"""OpenID Connect sign-in for staff whose agency has an identity provider.

Authorization code flow (OIDC Core 3.1) with PKCE S256 (RFC 7636), ``state``
and ``nonce``; authlib builds the authorization URL and exchanges the code,
joserfc (authlib's JOSE successor) checks the ID token: signature against the
provider's JWKS (asymmetric algorithms only), ``iss``, ``aud`` (and ``azp``),
``nonce``, ``exp``/``iat`` with 60 s leeway.

The provider only says *who* someone is. It never creates accounts or grants
roles: the configured claim (``settings.oidc.link_claim``, ``sub`` by default)
must equal the ``oidc_subject`` an administrator stored on an existing, active,
unlocked staff account; roles and office stay those of the account. The
sign-in then starts the same console session the password + TOTP sign-in
starts (cookie ``safeslot_session``).

state, nonce and the PKCE verifier travel in a short-lived cookie signed with
``settings.secret_key`` (HttpOnly, Secure, SameSite=Lax so it comes back on
the provider's top-level redirect), so no server-side store is needed.
Everything is off (404 problem) until ``settings.oidc.issuer`` and
``client_id`` are set. HTTP goes through httpx2 (the client authlib's
httpx integration uses); tests inject an httpx2 transport as
``app.state.oidc_transport``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from fastapi import APIRouter, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from safeslot.config import OidcSettings
from safeslot.deps import NowDep, SessionDep
from safeslot.identity import service
from safeslot.identity.authz import PRIVILEGED_ROLES
from safeslot.identity.errors import UnknownRole, UsernameTaken
from safeslot.identity.guard import SESSION_COOKIE, StaffDep
from safeslot.identity.models import StaffAccount
from safeslot.kit.errors import N_, NotFound, Unauthenticated, Unavailable, problem_response, status_for
from safeslot.kit.http import tls_context

log = logging.getLogger("safeslot.identity.oidc")

router = APIRouter(tags=["identity"])


STATE_COOKIE = "safeslot_oidc"
STATE_PATH = "/auth/oidc"
STATE_LIFETIME = dt.timedelta(minutes=10)
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")  # never "none" or HMAC
LEEWAY_SECONDS = 60
AFTER_SIGN_IN = "/console"
TIMEOUT = 10.0


class OidcNotConfigured(NotFound, slug="oidc-not-configured", title=N_("OpenID Connect sign-in is not configured")):
    """This office does not sign staff in with an OpenID Connect provider. Sign in with username,
    password and code.
    """


class OidcRefused(Unauthenticated, slug="oidc-sign-in-refused", title=N_("OpenID Connect sign-in refused")):
    """The identity provider's answer was refused (state, nonce, signature or account does not
    match). Start the sign-in again.
    """


class OidcProviderUnavailable(Unavailable, slug="oidc-provider-unavailable", title=N_("Identity provider unavailable")):
    """The identity provider did not answer. Try again later, or sign in with username, password and
    code.
    """


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    verifier: str


# -- configuration and provider metadata ----------------------------------------------------------
def _config(request: Request) -> OidcSettings:
    cfg: OidcSettings = request.app.state.settings.oidc
    if not cfg.enabled:
        raise OidcNotConfigured(
            "This office signs staff in with username, password and code: POST /api/v1/auth/session."
        )
    return cfg


def _redirect_url(request: Request, cfg: OidcSettings) -> str:
    return cfg.redirect_url or request.app.state.settings.server.public_url.rstrip("/") + "/auth/oidc/callback"


def _transport(request: Request) -> httpx.BaseTransport | None:
    transport: httpx.BaseTransport | None = getattr(request.app.state, "oidc_transport", None)
    return transport


def _get_json(request: Request, url: str) -> dict[str, Any]:
    try:
        # httpx2's client (authlib's), not kit.http.outgoing_client (httpx's); the TLS context is shared
        with httpx.Client(transport=_transport(request), timeout=TIMEOUT, verify=tls_context()) as http:
            response = http.get(url)
            response.raise_for_status()
            data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcProviderUnavailable(
            "The identity provider did not answer as expected. Try again later or sign in with password and code."
        ) from exc
    if not isinstance(data, dict):
        raise OidcProviderUnavailable("The identity provider sent unexpected metadata. Ask an administrator.")
    return data


def _metadata(request: Request, cfg: OidcSettings) -> dict[str, Any]:
    """OIDC Discovery 1.0; the issuer it names must be the configured one (section 4.3)."""
    issuer = str(cfg.issuer)
    meta = _get_json(request, issuer.rstrip("/") + "/.well-known/openid-configuration")
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if meta.get("issuer") != issuer or not all(isinstance(meta.get(k), str) for k in needed):
        raise OidcProviderUnavailable("The identity provider's metadata does not match the configured issuer.")
    return meta


def _client(request: Request, cfg: OidcSettings) -> OAuth2Client:
    return OAuth2Client(
        client_id=cfg.client_id, client_secret=cfg.client_secret, scope=cfg.scopes,
        redirect_uri=_redirect_url(request, cfg), code_challenge_method="S256",
        transport=_transport(request), timeout=TIMEOUT,
    )


# -- the signed state cookie -----------------------------------------------------------------------
def _sign(secret_key: str, payload: bytes) -> str:
    return hmac.new(secret_key.encode(), b"oidc-state:" + payload, hashlib.sha256).hexdigest()


def _pack(secret_key: str, pending: Pending, now: dt.datetime) -> str:
    body = json.dumps({"s": pending.state, "n": pending.nonce, "v": pending.verifier,
                       "e": int((now + STATE_LIFETIME).timestamp())}).encode()
    payload = base64.urlsafe_b64encode(body).rstrip(b"=")  # no padding: the cookie needs no quoting
    return f"{payload.decode()}.{_sign(secret_key, payload)}"


def _unpack(secret_key: str, cookie: str | None, now: dt.datetime) -> Pending:
    again = "Start again at /auth/oidc/login."
    if not cookie or "." not in cookie:
        raise OidcRefused(f"This sign-in was not started from this browser, or it took too long. {again}")
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(secret_key, payload.encode())):
        raise OidcRefused(f"The sign-in state was altered. {again}")
    data = json.loads(base64.urlsafe_b64decode(payload.encode() + b"=" * (-len(payload) % 4)))
    if int(data["e"]) < now.timestamp():
        raise OidcRefused(f"The sign-in took longer than {STATE_LIFETIME.seconds // 60} minutes. {again}")
    return Pending(state=str(data["s"]), nonce=str(data["n"]), verifier=str(data["v"]))


# -- ID token validation and account linking ---------------------------------------------------------
def validate_id_token(id_token: str, keys: dict[str, Any], cfg: OidcSettings, nonce: str,
                      now: dt.datetime) -> dict[str, Any]:
    """The ID token's claims once signature, iss, aud, azp, nonce, exp and iat check out; else OidcRefused."""
    again = "Start again at /auth/oidc/login; if it keeps failing, ask an administrator."
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=list(ALGORITHMS))  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OidcRefused(f"The ID token's signature does not verify against the provider's keys. {again}") from exc
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()), leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": str(cfg.issuer)}, aud={"essential": True, "value": cfg.client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        claim = getattr(exc, "claim", None)
        what = {"exp": "has expired", "nonce": "was issued for another sign-in (nonce)",
                "aud": "was issued for another client (audience)", "iss": "comes from another issuer",
                "iat": "has an issue time in the future"}.get(str(claim), f"failed its {claim or 'claims'} check")
        raise OidcRefused(f"The ID token {what}. {again}") from exc
    aud = token.claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and token.claims.get("azp") != cfg.client_id:
        raise OidcRefused(f"The ID token was issued for another client (azp). {again}")
    return dict(token.claims)


def account_for(session: Session, cfg: OidcSettings, claims: dict[str, Any], now: dt.datetime,
                *, demo_mode: bool) -> StaffAccount:
    """The existing, active staff account linked to these claims. Never creates one, never reads roles."""
    value = claims.get(cfg.link_claim)
    if cfg.link_claim == "email" and claims.get("email_verified") is not True:
        value = None
    if not isinstance(value, str) or not value:
        raise OidcRefused(f"The identity provider did not send a usable '{cfg.link_claim}'. Ask an administrator.")
    account = session.scalars(select(StaffAccount).where(StaffAccount.oidc_subject == value)).one_or_none()
    if account is None or not account.active or (account.demo and not demo_mode):
        raise OidcRefused("No active staff account is linked to this identity. Ask an administrator to link it.")
    if account.locked_until is not None and now < account.locked_until:
        raise OidcRefused("This account is locked for now. Try later or ask an administrator to unlock it.")
    return account


def link_subject(session: Session, username: str, subject: str | None) -> StaffAccount:
    """Store (or clear) the value of the link claim that signs in as this account."""
    account = service.get_account(session, username)
    if subject is not None and set(account.roles.split()) & PRIVILEGED_ROLES:
        # Whoever controls the linked identity would act as this account, past its own factors.
        raise UnknownRole("Accounts with the roles admin, privacy_officer, counsel or auditor sign in with their "
                          "own password, code and passkey; they are not linked to an identity provider.")
    if subject is not None:
        other = session.scalars(select(StaffAccount).where(StaffAccount.oidc_subject == subject)).one_or_none()
        if other is not None and other.id != account.id:
            raise UsernameTaken("This identity is linked to another account already; unlink it there first.")
    account.oidc_subject = subject
    session.flush()
    return account


# -- HTTP ------------------------------------------------------------------------------------------------
def _refusal(request: Request, exc: OidcRefused | OidcProviderUnavailable) -> Response:
    log.warning("oidc sign-in refused: %s", exc.title)
    response = problem_response(status_for(exc), exc.slug, exc.title, exc.detail, instance=request.url.path)
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH, secure=True, httponly=True, samesite="lax")
    return response


@router.get("/auth/oidc/login", status_code=302, responses={404: {"description": "OIDC not configured"}})
def login(request: Request, now: NowDep) -> Response:
    """Redirect to the identity provider (authorization code flow with state, nonce and PKCE S256)."""
    cfg = _config(request)
    meta = _metadata(request, cfg)
    pending = Pending(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
                      verifier=secrets.token_urlsafe(48))
    with _client(request, cfg) as client:
        url, _ = client.create_authorization_url(meta["authorization_endpoint"], state=pending.state,
                                                 nonce=pending.nonce, code_verifier=pending.verifier)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(STATE_COOKIE, _pack(request.app.state.settings.secret_key, pending, now),
                        max_age=int(STATE_LIFETIME.total_seconds()), path=STATE_PATH,
                        secure=True, httponly=True, samesite="lax")
    return response


@router.get("/auth/oidc/callback", status_code=303, responses={401: {"description": "Sign-in refused"}})
def callback(request: Request, session: SessionDep, now: NowDep, code: str | None = None,
             state: str | None = None, error: str | None = None) -> Response:
    """Check the answer, link to the staff account and start a console session (same cookie as password sign-in)."""
    cfg = _config(request)
    settings = request.app.state.settings
    try:
        pending = _unpack(settings.secret_key, request.cookies.get(STATE_COOKIE), now)
        if error:
            raise OidcRefused("The identity provider did not sign you in. Start again at /auth/oidc/login.")
        if not state or not hmac.compare_digest(state, pending.state):
            raise OidcRefused("The answer belongs to another sign-in (state). Start again at /auth/oidc/login.")
        if not code:
            raise OidcRefused("The identity provider sent no authorization code. Start again at /auth/oidc/login.")
        meta = _metadata(request, cfg)
        try:
            with _client(request, cfg) as client:
                token = client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                           code_verifier=pending.verifier)
        except (AuthlibBaseError, httpx.HTTPError, ValueError) as exc:
            raise OidcRefused("The identity provider would not exchange the code. Start again at "
                              "/auth/oidc/login.") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused("The identity provider sent no ID token; check that the scopes include openid.")
        claims = validate_id_token(id_token, _get_json(request, meta["jwks_uri"]), cfg, pending.nonce, now)
        account = account_for(session, cfg, claims, now, demo_mode=settings.demo_credentials)
    except (OidcRefused, OidcProviderUnavailable) as exc:
        return _refusal(request, exc)
    _, secret = service.issue_credential(session, "session", now, staff=account)
    log.info("account %s signed in with OpenID Connect", account.username)
    response = RedirectResponse(AFTER_SIGN_IN, status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(service.SESSION_LIFETIME.total_seconds()),
                        secure=True, httponly=True, samesite="strict", path="/")
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH, secure=True, httponly=True, samesite="lax")
    return response


class LinkIn(BaseModel):
    subject: str | None = Field(max_length=255, description="Value of the link claim; null unlinks.")


class LinkOut(BaseModel):
    username: str
    oidc_subject: str | None


@router.post("/api/v1/accounts/{username}/oidc-subject", response_model=LinkOut, tags=["identity"])
def set_subject(username: str, body: LinkIn, request: Request, session: SessionDep, now: NowDep,
                staff: StaffDep) -> LinkOut:
    """Admin: link an existing account to an identity at the provider (or unlink it with null). Logged
    publicly; accounts with a privileged role are never linked."""
    from safeslot.identity import events

    account = link_subject(session, username, body.subject or None)
    events.record(session, events.pseudonym_key(request.app.state.settings.secret_key),
                  "oidc_linked" if account.oidc_subject else "oidc_unlinked", now, account_id=account.id,
                  actor_id=staff.id)
    return LinkOut(username=account.username, oidc_subject=account.oidc_subject)
