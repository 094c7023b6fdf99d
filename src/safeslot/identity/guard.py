"""The authorization table, enforced for every route, and the dependencies endpoints use.

``AuthzMiddleware`` sits in front of every router, so no route can forget it:
it finds the route a request matches, looks up ``authz.RULES`` and refuses
with 401 or 403 problem+json before the endpoint runs. Credentials are a
bearer token (``Authorization: Bearer …``: staff API tokens and agency keys) or
the console session cookie. A cookie-authenticated request that changes
something must carry the session's CSRF token (header ``X-CSRF-Token``, form
field ``csrf_token`` or, for multipart forms, query parameter ``csrf_token``):
SameSite=Strict alone is not enough against same-site attackers (OWASP CSRF
cheat sheet).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from safeslot.delivery import mask_secret, unmask_secret
from safeslot.identity import authz
from safeslot.identity.errors import CsrfRefused, OfficialNotVerified, RoleRefused
from safeslot.identity.service import Principal, resolve
from safeslot.kit.errors import N_, DomainError, Forbidden, problem_response, status_for
from safeslot.kit.routing import route_template

SESSION_COOKIE = "safeslot_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SCOPE_KEY = "safeslot.principal"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RouteNotInTable(Forbidden, slug="route-not-authorized", title=N_("Endpoint not in the authorization table")):
    """This address is not in the authorization table, so nobody may call it. It is a mistake on our
    side; report it to the office.
    """


def csrf_token(secret_key: str, secret_hash: str) -> str:
    """The CSRF token bound to one console session (HMAC of the session's hash)."""
    return hmac.new(secret_key.encode(), f"csrf:{secret_hash}".encode(), hashlib.sha256).hexdigest()


def _credential(headers: dict[bytes, bytes]) -> tuple[str, str] | None:
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth[:7].lower() == "bearer ":
        return "bearer", auth[7:].strip()
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return "cookie", value
    return None


class AuthzMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fastapi_app = scope["app"]
        template = route_template(fastapi_app, scope)
        if template is None:  # 404 or 405: the router answers
            await self.app(scope, receive, send)
            return
        rule = authz.allowed(scope["method"], template)
        try:
            if rule is None:
                raise RouteNotInTable(
                    f"{scope['method']} {template} has no entry in safeslot/identity/authz.py RULES; "
                    "refused until one is added."
                )
            if authz.PUBLIC in rule:
                await self.app(scope, receive, send)
                return
            found = _credential(dict(scope.get("headers") or []))
            if found is None:
                from safeslot.kit.errors import Unauthenticated

                raise Unauthenticated("Sign in: send `Authorization: Bearer <token>` from POST /api/v1/auth/token.")
            via, secret = found
            state = fastapi_app.state
            principal = await run_in_threadpool(_resolve, state, secret)
            if not (principal.roles & rule):
                raise RoleRefused(
                    f"{scope['method']} {template} needs one of these roles: {', '.join(sorted(rule))}."
                )
            if via == "cookie" and principal.credential_kind != "session":
                from safeslot.identity.errors import CredentialInvalid

                raise CredentialInvalid("Send API tokens in the Authorization header, not in a cookie.")
            if via == "cookie" and scope["method"] in UNSAFE:
                receive = await _check_csrf(scope, receive, csrf_token(state.settings.secret_key,
                                                                       principal.secret_hash))
        except DomainError as exc:
            if scope["method"] == "POST" and template == "/api/v1/disclosure-requests":
                # Refusals before the gate are logged as counts by reason.
                await run_in_threadpool(_count_gate_refusal, fastapi_app.state, exc.slug)
            response = problem_response(status_for(exc), exc.slug, exc.title, exc.detail,
                                        instance=scope.get("path"), **exc.extra)
            await response(scope, receive, send)
            return
        scope[SCOPE_KEY] = principal
        await self.app(scope, receive, send)


def _count_gate_refusal(state: Any, slug: str) -> None:
    # The gate's counter (disclosure's gate_refusals.count), which disclosure's setup() puts on the app's state:
    # identity refuses before the gate, and counts through it without importing it.
    count = getattr(state, "count_gate_refusal", None)
    if count is None:  # no disclosure gate mounted: nothing to count
        return
    try:
        with state.sessionmaker() as session, session.begin():
            count(session, slug, state.clock())
    except Exception:  # counting must never change the refusal itself; the next one counts again
        logging.getLogger(__name__).warning("could not count a refusal before the disclosure gate", exc_info=True)


def _resolve(state: Any, secret: str) -> Principal:
    with state.sessionmaker() as session, session.begin():
        return resolve(session, secret, state.clock(), demo_mode=state.settings.demo_credentials)


async def _check_csrf(scope: dict[str, Any], receive: Any, expected: str) -> Any:
    """Refuse unless the request carries the session's CSRF token; returns a receive that replays the body."""
    headers = dict(scope.get("headers") or [])
    given = headers.get(CSRF_HEADER.encode(), b"").decode("latin-1")
    if not given:
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(CSRF_FIELD, [""])[0]
    if not given and headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
        body = b""
        limit = scope["app"].state.settings.server.max_body_bytes
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > limit:  # the body limit sits inside this middleware: bound this read here
                from safeslot.kit.errors import PayloadTooLarge

                raise PayloadTooLarge(f"Send at most {limit} bytes. Nothing was saved.")
            if not message.get("more_body", False):
                break
        given = parse_qs(body.decode("latin-1")).get(CSRF_FIELD, [""])[0]
        sent = {"done": False}

        async def replay() -> dict[str, Any]:
            if sent["done"]:
                message: dict[str, Any] = await receive()
                return message
            sent["done"] = True
            return {"type": "http.request", "body": body, "more_body": False}

        receive = replay
    given = unmask_secret(given)
    if not given or not hmac.compare_digest(given, expected):
        raise CsrfRefused("Reload the page and submit the form again; it must carry its csrf_token.")
    return receive


# -- dependencies for endpoints -----------------------------------------------------------------
# The dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool, a
# thread hop for a read of the scope the middleware filled in (the request's hops together were about a tenth
# of a small staff request's CPU in a py-spy profile of bench/request_cost.py). They never wait on anything.
# The `*_of` functions are the same checks for code that has a request in hand.
def principal_of(request: Request) -> Principal:
    principal: Principal | None = request.scope.get(SCOPE_KEY)
    if principal is None:
        from safeslot.kit.errors import Unauthenticated

        raise Unauthenticated("Sign in first.")
    return principal


def staff_of(request: Request) -> Principal:
    """The signed-in staff account (set by the middleware on non-public routes)."""
    principal = principal_of(request)
    if principal.kind != "staff":
        raise RoleRefused("Only staff accounts may do this.")
    return principal


def official_of(request: Request) -> Principal:
    """The verified agency official calling with an API key (for the disclosure gate)."""
    principal = principal_of(request)
    if principal.kind != "agency":
        raise RoleRefused("Only a registered agency official may do this.")
    return principal


async def current_principal(request: Request) -> Principal:
    return principal_of(request)


async def current_staff(request: Request) -> Principal:
    """The signed-in staff account (set by the middleware on non-public routes)."""
    return staff_of(request)


async def current_official(request: Request) -> Principal:
    """The verified agency official calling with an API key (for the disclosure gate)."""
    return official_of(request)


def require_roles(*roles: str) -> Callable[[Request], Principal]:
    """A dependency for finer checks inside an endpoint; the table already gates the route."""
    wanted = frozenset(roles)

    def dependency(request: Request) -> Principal:
        principal = principal_of(request)
        if not (principal.roles & wanted):
            raise RoleRefused(f"This needs one of these roles: {', '.join(sorted(wanted))}.")
        return principal

    return dependency


def require_passkey(request: Request, principal: Principal) -> None:
    """Disclosure approvals need a phishing-resistant sign-in (a passkey; OMB M-22-09), unless the
    settings say otherwise (by default: not in development, demo and test)."""
    if request.app.state.settings.passkey_required and "hwk" not in principal.amr.split():
        from safeslot.identity.errors import PasskeyRequired

        raise PasskeyRequired("Sign in again with your passkey (security key or device), then approve.")


def csrf_protect(request: Request) -> None:
    """For console form handlers: a signed-in session is required; the middleware has already
    refused every cookie-authenticated POST without the session's token."""
    principal_of(request)


def session_csrf_token(request: Request) -> str:
    """The CSRF token to put in the console's forms for the current session."""
    principal = principal_of(request)
    # masked afresh for each page: console pages are compressed (BREACH; safeslot/delivery.py)
    return mask_secret(csrf_token(request.app.state.settings.secret_key, principal.secret_hash))


__all__ = ["OfficialNotVerified", "Principal", "csrf_protect", "current_official", "current_staff", "require_roles"]


PrincipalDep = Annotated[Principal, Depends(current_principal)]  # staff or an agency official
StaffDep = Annotated[Principal, Depends(current_staff)]
