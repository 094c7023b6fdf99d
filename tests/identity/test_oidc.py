"""OpenID Connect sign-in against a small in-process identity provider (an httpx transport).

The fake provider serves discovery, JWKS and the token endpoint, checks the
client secret and the PKCE verifier, and signs ID tokens with an RSA key via
joserfc. Each refusal must answer 401 problem+json and start no session.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.config import Environment, Settings
from safeslot.identity import oidc
from safeslot.identity.guard import SESSION_COOKIE
from safeslot.identity.models import Credential, StaffAccount
from safeslot.kit.crypto import KeyRing
from tests.conftest import NOW
from tests.identity.helpers import make_staff, staff_headers

ISSUER = "https://idp.example.test/realms/agency"
CLIENT_ID = "safeslot"
CLIENT_SECRET = "fake-idp-client-secret"
REDIRECT = "https://safeslot.example.test/auth/oidc/callback"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, not published


class FakeIdP:
    """Discovery, JWKS and token endpoint; ``authorize`` stands in for the user signing in at the provider."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, Any]] = {}

    def authorize(self, location: str, *, sub: str = "idp-user-1", key: RSAKey = KEY,
                  **overrides: Any) -> dict[str, str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert location.startswith(f"{ISSUER}/protocol/openid-connect/auth?")
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == REDIRECT and query["code_challenge_method"] == "S256"
        assert "openid" in query["scope"].split() and query["nonce"] and query["state"]
        claims = {"iss": ISSUER, "sub": sub, "aud": CLIENT_ID, "nonce": query["nonce"],
                  "iat": int(NOW.timestamp()), "exp": int((NOW + dt.timedelta(minutes=5)).timestamp())}
        claims.update(overrides)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"claims": claims, "challenge": query["code_challenge"], "key": key}
        return {"code": code, "state": query["state"]}

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(urlsplit(ISSUER).path)
        if request.method == "GET" and path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
                "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
                "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
                "id_token_signing_alg_values_supported": ["RS256"],
            })
        if request.method == "GET" and path == "/protocol/openid-connect/certs":
            return httpx.Response(200, json=KeySet([KEY]).as_dict(private=False))
        if request.method == "POST" and path == "/protocol/openid-connect/token":
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {basic}":
                return httpx.Response(401, json={"error": "invalid_client"})
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            entry = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if entry is None or challenge != entry["challenge"] or form.get("redirect_uri") != REDIRECT:
                return httpx.Response(400, json={"error": "invalid_grant"})
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, entry["claims"], entry["key"])
            return httpx.Response(200, json={"access_token": "opaque", "token_type": "Bearer",
                                             "expires_in": 300, "id_token": id_token})
        return httpx.Response(404)


@pytest.fixture
def idp() -> FakeIdP:
    return FakeIdP()


@pytest.fixture
def oidc_client(app_factory: Callable[..., TestClient], settings: Settings, idp: FakeIdP) -> TestClient:
    configured = settings.model_copy(update={"oidc": settings.oidc.model_copy(update={
        "issuer": ISSUER, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": "openid email",
        "redirect_url": REDIRECT,
    })})
    client = app_factory(settings=configured)
    client.app.state.oidc_transport = httpx.MockTransport(idp.handler)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def linked(session: Session, keyring: KeyRing, office: str) -> StaffAccount:
    account, _ = make_staff(session, keyring, ["clerk"], "central", username="clerk-oidc")
    oidc.link_subject(session, "clerk-oidc", "idp-user-1")
    return account


def _start(client: TestClient) -> tuple[str, str]:
    r = client.get("/auth/oidc/login", follow_redirects=False)
    assert r.status_code == 302, r.text
    set_cookie = r.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "samesite=lax" in set_cookie.lower()
    return r.headers["location"], r.cookies[oidc.STATE_COOKIE]


def _finish(client: TestClient, params: dict[str, str], state_cookie: str | None) -> httpx.Response:
    headers = {"Cookie": f"{oidc.STATE_COOKIE}={state_cookie}"} if state_cookie else {}
    return client.get("/auth/oidc/callback", params=params, headers=headers, follow_redirects=False)


def _sessions(session: Session, account: StaffAccount) -> int:
    return int(session.scalar(select(func.count()).select_from(Credential).where(
        Credential.staff_id == account.id, Credential.kind == "session")) or 0)


def test_sign_in_links_to_the_staff_account_and_starts_a_console_session(
    oidc_client: TestClient, idp: FakeIdP, linked: StaffAccount, session: Session
) -> None:
    location, cookie = _start(oidc_client)
    r = _finish(oidc_client, idp.authorize(location, roles=["admin"]), cookie)
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text
    secret = r.cookies[SESSION_COOKIE]
    assert "HttpOnly" in r.headers["set-cookie"] and "samesite=strict" in r.headers["set-cookie"].lower()
    me = oidc_client.get("/api/v1/auth/me", headers={"Cookie": f"{SESSION_COOKIE}={secret}"})
    assert me.status_code == 200
    # the account's own roles: a "roles" claim from the provider grants nothing
    assert me.json()["name"] == "clerk-oidc" and me.json()["roles"] == ["clerk"] and me.json()["csrf_token"]
    assert _sessions(session, linked) == 1


@pytest.mark.parametrize(
    ("case", "authorize", "says"),
    [
        ("wrong nonce", {"nonce": "another-sign-in"}, "nonce"),
        ("wrong audience", {"aud": "another-client"}, "audience"),
        ("wrong issuer", {"iss": "https://evil.example.test"}, "issuer"),
        ("expired", {"exp": int((NOW - dt.timedelta(minutes=10)).timestamp()),
                     "iat": int((NOW - dt.timedelta(minutes=20)).timestamp())}, "expired"),
        ("bad signature", {"key": OTHER_KEY}, "signature"),
        ("unknown subject", {"sub": "idp-user-nobody"}, "No active staff account"),
    ],
)
def test_bad_id_tokens_and_unknown_subjects_are_refused_without_a_session(
    oidc_client: TestClient, idp: FakeIdP, linked: StaffAccount, session: Session,
    case: str, authorize: dict[str, Any], says: str,
) -> None:
    accounts = session.scalar(select(func.count()).select_from(StaffAccount))
    location, cookie = _start(oidc_client)
    r = _finish(oidc_client, idp.authorize(location, **authorize), cookie)
    assert r.status_code == 401, (case, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/oidc-sign-in-refused" and says in r.json()["detail"], case
    assert SESSION_COOKIE not in r.cookies
    assert _sessions(session, linked) == 0
    assert session.scalar(select(func.count()).select_from(StaffAccount)) == accounts  # nothing created


def test_state_must_match_and_come_from_this_browser(
    oidc_client: TestClient, idp: FakeIdP, linked: StaffAccount, session: Session
) -> None:
    location, cookie = _start(oidc_client)
    answer = idp.authorize(location)
    assert _finish(oidc_client, answer, None).status_code == 401  # no state cookie: started elsewhere
    assert _finish(oidc_client, {**answer, "state": "forged"}, cookie).status_code == 401
    tampered = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    assert _finish(oidc_client, answer, tampered).status_code == 401
    assert _sessions(session, linked) == 0


def test_a_stolen_code_without_the_pkce_verifier_is_useless(
    oidc_client: TestClient, idp: FakeIdP, linked: StaffAccount, session: Session
) -> None:
    location, _ = _start(oidc_client)
    answer = idp.authorize(location)
    _, attacker_cookie = _start(oidc_client)  # the attacker's own sign-in: another verifier
    attacker_state = oidc._unpack(oidc_client.app.state.settings.secret_key,  # type: ignore[attr-defined]
                                  attacker_cookie, NOW).state
    r = _finish(oidc_client, {"code": answer["code"], "state": attacker_state}, attacker_cookie)
    assert r.status_code == 401 and "exchange" in r.json()["detail"]
    assert _sessions(session, linked) == 0


@pytest.mark.parametrize(("verified", "status"), [(True, 303), (False, 401)])
def test_email_links_only_when_the_provider_verified_it(
    app_factory: Callable[..., TestClient], settings: Settings, idp: FakeIdP, session: Session, keyring: KeyRing,
    office: str, verified: bool, status: int,
) -> None:
    make_staff(session, keyring, ["clerk"], "central", username="clerk-mail")
    oidc.link_subject(session, "clerk-mail", "desk@agency.example.test")
    configured = settings.model_copy(update={"oidc": settings.oidc.model_copy(update={
        "issuer": ISSUER, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_url": REDIRECT,
        "link_claim": "email",
    })})
    client = app_factory(settings=configured)
    client.app.state.oidc_transport = httpx.MockTransport(idp.handler)  # type: ignore[attr-defined]
    location, cookie = _start(client)
    answer = idp.authorize(location, email="desk@agency.example.test", email_verified=verified)
    assert _finish(client, answer, cookie).status_code == status


def test_inactive_account_is_refused(
    oidc_client: TestClient, idp: FakeIdP, linked: StaffAccount, session: Session
) -> None:
    linked.active = False
    session.flush()
    location, cookie = _start(oidc_client)
    assert _finish(oidc_client, idp.authorize(location), cookie).status_code == 401


def test_disabled_unless_configured(client: TestClient) -> None:
    for path in ("/auth/oidc/login", "/auth/oidc/callback?code=x&state=y"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 404 and r.json()["type"] == "/problems/oidc-not-configured"


def test_admin_links_an_account_and_one_identity_links_one_account(
    client: TestClient, session: Session, keyring: KeyRing, office: str
) -> None:
    make_staff(session, keyring, ["clerk"], "central", username="clerk-a")
    make_staff(session, keyring, ["clerk"], "central", username="clerk-b")
    admin = staff_headers(session, keyring, ["admin"], None)
    r = client.post("/api/v1/accounts/clerk-a/oidc-subject", headers=admin, json={"subject": "idp-user-7"})
    assert r.status_code == 200 and r.json() == {"username": "clerk-a", "oidc_subject": "idp-user-7"}
    r = client.post("/api/v1/accounts/clerk-b/oidc-subject", headers=admin, json={"subject": "idp-user-7"})
    assert r.status_code == 409
    clerk = staff_headers(session, keyring, ["clerk"], "central")
    r = client.post("/api/v1/accounts/clerk-b/oidc-subject", headers=clerk, json={"subject": "idp-user-8"})
    assert r.status_code == 403
    assert session.scalars(select(StaffAccount.oidc_subject).where(StaffAccount.username == "clerk-b")).one() is None


def test_production_settings_accept_an_oidc_section() -> None:
    s = Settings(environment=Environment.test, oidc={"issuer": ISSUER, "client_id": CLIENT_ID})
    assert s.oidc.enabled and not Settings(environment=Environment.test).oidc.enabled
