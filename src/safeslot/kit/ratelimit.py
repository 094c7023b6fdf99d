"""Rate limits with the ``limits`` library: per client address, per credential, per action.

One ASGI middleware, ``RateLimitMiddleware``, over one limiter (``app.state.limiter``, built
from ``settings.rate_limits``; in memory for one worker, on Redis for several). ``app.py``
mounts it at the two points of the stack where its two stages can run:

* ``stage="address"`` — outermost, reads only the headers: every request counts
  against its client address, and a request that carries a credential (bearer
  token or console session cookie) also against that credential's hash. It must
  refuse a flood before anything reads a body.
* ``stage="action"`` — inside the body limit, so the (bounded) body is in memory:
  booking per address and per office, confirmation-code and accounting look-ups
  per address, and sign-in failures (keyed by the username in the body).

Sign-in (NIST SP 800-63B 5.2.2): only *failures* are counted, keyed by the
username as typed (so an unknown username is throttled exactly like a known
one, and the answer never tells which exists), per (username, address) with
growing windows, per address over all usernames, and per username over all
addresses at NIST's ceiling of 100. A client at one address therefore runs out
of its own tries long before the username's ceiling, and cannot lock the owner
out from elsewhere; there is no lock stored on the account.

Refusals are RFC 9457 problem+json 429 with ``Retry-After`` (the console's
pages answer with an HTML page in the person's language instead).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import parse_qs

import orjson

from safeslot.kit.errors import N_, PROBLEM_MEDIA_TYPE, DomainError
from safeslot.kit.http import read_body, replay
from safeslot.kit.limiter import Limiter
from safeslot.kit.routing import route_template

CLIENT_ID_FALLBACK = "unknown"

class RateLimited(DomainError, slug="rate-limited", title=N_("Too many requests"), status=429):
    """Too many requests came from this address, account or office in a short time (sign-in failures
    count more). Wait the seconds in Retry-After, then try again.
    """


def client_address(scope: dict[str, Any]) -> str:
    """The peer address uvicorn reports (behind a proxy: run it with --forwarded-allow-ips)."""
    client = scope.get("client")
    return str(client[0]) if client else CLIENT_ID_FALLBACK


def _digest(value: str) -> str:
    # Keys hold no secret and no username in clear (Redis is shared infrastructure).
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _credential(headers: dict[bytes, bytes]) -> str | None:
    auth = headers.get(b"authorization", b"")
    if auth[:7].lower() == b"bearer ":
        return auth[7:].strip().decode("latin-1")
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "safeslot_session" and value:
            return value
    return None


# -- answers ------------------------------------------------------------------------------------
def problem_429(wait: int, detail: str, path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = orjson.dumps({
        "type": f"/problems/{RateLimited.slug}", "title": RateLimited.title, "status": RateLimited.status,
        "detail": detail, "instance": path, "retry_after": wait,
    })
    return RateLimited.status, [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"cache-control", b"no-store"),
        (b"retry-after", str(wait).encode()),
    ], body


async def _send(send: Any, answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
    status, headers, body = answer
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def refuse(scope: dict[str, Any], send: Any, wait: int, detail: str) -> None:
    """A 429: problem+json for the API, the page renderer's HTML for the console's pages."""
    path = scope.get("path", "")
    renderer: Callable[[dict[str, Any], int], tuple[int, list[tuple[bytes, bytes]], bytes]] | None = getattr(
        scope["app"].state, "throttled_page", None
    )
    if renderer is not None and not path.startswith("/api/"):
        status, headers, body = renderer(scope, wait)
        await _send(send, (status, [*headers, (b"retry-after", str(wait).encode())], body))
        return
    await _send(send, problem_429(wait, detail, path))


# -- middlewares --------------------------------------------------------------------------------
def _limiter(scope: dict[str, Any]) -> Limiter | None:
    app = scope.get("app")
    found: Limiter | None = getattr(app.state, "limiter", None) if app is not None else None
    return found


# Scope key: an outer layer (the booking fast path's front, scheduling/fastfront.py) already counted this
# request with the functions below; the middlewares then do not count it twice.
COUNTED = "safeslot.limits_counted"


async def address_wait(limiter: Limiter, scope: dict[str, Any]) -> tuple[int, str]:
    """The address stage's count: (0, "") if allowed, else (seconds to wait, the refusal's detail)."""
    wait = await limiter.hit(limiter.limits.per_address, "addr", client_address(scope))
    if wait:
        return wait, f"Too many requests from your address. Try again in {wait} seconds."
    secret = _credential(dict(scope.get("headers") or []))
    if secret is not None:
        wait = await limiter.hit(limiter.limits.per_credential, "cred", _digest(secret))
        if wait:
            return wait, f"Too many requests with this credential. Try again in {wait} seconds."
    return 0, ""


async def booking_wait(limiter: Limiter, scope: dict[str, Any], template: str | None, body: bytes) -> tuple[int, str]:
    """The action stage's count for a booking: per address, then per office (from the path or the body)."""
    wait = await limiter.hit(limiter.limits.booking_per_address, "book", client_address(scope))
    if not wait:
        office = (_path_value(template, scope["path"], "{office}")
                  or _field(dict(scope.get("headers") or []), body, "office")).strip().lower()
        wait = await limiter.hit(limiter.limits.booking_per_office, "book-office", _digest(office))
    return wait, f"Too many bookings right now. Try again in {wait} seconds." if wait else ""


BOOKING = {("POST", "/api/v1/appointments"), ("POST", "/book"),
           # a walk-in ticket takes a place in the day's queue as a booking takes a time
           ("POST", "/queue/{office}/ticket"), ("POST", "/api/v1/offices/{office}/queue/tickets")}
LOOKUP = {
    ("POST", "/queue/{office}/check-in"), ("POST", "/api/v1/offices/{office}/queue/check-ins"),
    ("GET", "/api/v1/appointments/{code}"), ("POST", "/api/v1/appointments/{code}/cancel"),
    ("POST", "/api/v1/appointments/{code}/reschedule"), ("POST", "/api/v1/accounting/lookup"),
    ("GET", "/booked/{code}"), ("POST", "/manage"), ("GET", "/manage/{code}"),
    ("GET", "/manage/{code}/calendar.ics"), ("GET", "/manage/{code}/reschedule"),
    ("POST", "/manage/{code}/reschedule"), ("GET", "/manage/{code}/cancel"), ("POST", "/manage/{code}/cancel"),
    ("POST", "/records"), ("POST", "/api/v1/access/lookup"),
}
SIGN_IN = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/session"), ("POST", "/console/sign-in")}
SIGN_IN_FAILED = {401}


def _field(headers: dict[bytes, bytes], body: bytes, name: str) -> str:
    """One top-level text field of a JSON or form body ('' when absent or unreadable)."""
    content_type = headers.get(b"content-type", b"")
    value: Any = ""
    try:
        if content_type.startswith(b"application/x-www-form-urlencoded"):
            value = parse_qs(body.decode("utf-8", "replace")).get(name, [""])[0]
        else:
            parsed = orjson.loads(body) if body else {}
            value = parsed.get(name, "") if isinstance(parsed, dict) else ""
    except orjson.JSONDecodeError:
        return ""
    return value[:200] if isinstance(value, str) else ""


def _path_value(template: str | None, path: str, name: str) -> str:
    """The value of one ``{name}`` segment of the path ('' when the template has none)."""
    if not template or name not in template:
        return ""
    parts, values = template.split("/"), path.split("/")
    return values[parts.index(name)] if len(parts) == len(values) else ""


class RateLimitMiddleware:
    """Every request per address and credential (``stage="address"``, headers only), or booking,
    look-ups and sign-in failures (``stage="action"``, inside the body limit, so the body is bounded)."""

    def __init__(self, app: Any, stage: Literal["address", "action"]) -> None:
        self.app = app
        self.stage = stage

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        limiter = _limiter(scope)
        if scope["type"] != "http" or limiter is None or not limiter.enabled or COUNTED in scope:
            await self.app(scope, receive, send)
        elif self.stage == "address":
            await self._address(limiter, scope, receive, send)
        else:
            await self._action(limiter, scope, receive, send)

    async def _address(self, limiter: Limiter, scope: dict[str, Any], receive: Any, send: Any) -> None:
        wait, detail = await address_wait(limiter, scope)
        if wait:
            await refuse(scope, send, wait, detail)
            return
        await self.app(scope, receive, send)

    async def _action(self, limiter: Limiter, scope: dict[str, Any], receive: Any, send: Any) -> None:
        template = route_template(scope["app"], scope)
        action = (scope["method"], template)
        if action not in BOOKING and action not in LOOKUP and action not in SIGN_IN:
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        if action in LOOKUP:
            wait = await limiter.hit(limiter.limits.lookup_per_address, "lookup", address)
            if wait:
                await refuse(scope, send, wait, f"Too many look-ups from your address. Try again in {wait} seconds.")
                return
            await self.app(scope, receive, send)
            return
        read = await read_body(receive)  # already size-limited by the body limit outside
        if read is None:
            return
        body, receive = read, replay(read, receive)
        headers = dict(scope.get("headers") or [])
        if action in BOOKING:
            wait, detail = await booking_wait(limiter, scope, template, body)
            if wait:
                await refuse(scope, send, wait, detail)
                return
            await self.app(scope, receive, send)
            return
        await self._sign_in(limiter, scope, receive, send, address, _field(headers, body, "username"))

    async def _sign_in(
        self, limiter: Limiter, scope: dict[str, Any], receive: Any, send: Any, address: str, username: str
    ) -> None:
        account = _digest(username.strip().casefold())
        keys = (
            (limiter.limits.fail_account_address, ("fail", account, address)),
            (limiter.limits.fail_address, ("fail-addr", address)),
            (limiter.limits.fail_account, ("fail-account", account)),
        )
        wait = 0
        for items, key in keys:
            wait = max(wait, await limiter.room(items, *key))
        if wait:
            await refuse(scope, send, wait, f"Too many failed sign-ins. Try again in {wait} seconds.")
            return
        status = {"code": 0}

        async def _watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, _watch)
        if status["code"] in SIGN_IN_FAILED:
            for items, key in keys:
                await limiter.count(items, *key)
        elif 200 <= status["code"] < 400:
            await limiter.clear(limiter.limits.fail_account_address, "fail", account, address)
