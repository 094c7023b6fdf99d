"""CSRF protection for the public forms: a signed double-submit token.

The browser holds a random value in a cookie (HttpOnly, SameSite=Lax). Each
form carries ``value.HMAC-SHA256(secret_key, value)``. A POST is accepted only
when the form token's signature is valid *and* its value equals the cookie's
(OWASP CSRF cheat sheet, "signed double-submit cookie"). Another site can
neither read the cookie nor forge the signature. Over HTTPS the cookie is
named with the ``__Host-`` prefix, so a sibling subdomain cannot plant one.

Forms that must work without a cookie (the walk-in kiosk) are checked by `same_site` instead:
Fetch Metadata, then Origin. Signed-in staff forms are checked by identity's session token
(``identity/guard.py``). This module is the console's one home for both of its own checks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlparse

from starlette.requests import Request

from safeslot.delivery import mask_secret, unmask_secret

COOKIE = "safeslot_csrf"
SECURE_COOKIE = "__Host-safeslot_csrf"  # browsers accept it only with Secure, Path=/ and no Domain
FIELD = "csrf_token"


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def new_value() -> str:
    return secrets.token_urlsafe(24)


def _sign(value: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{value}".encode(), hashlib.sha256).hexdigest()


def token_for(value: str, secret: str) -> str:
    """The form's token, masked afresh for each page (BREACH: pages are compressed)."""
    return mask_secret(f"{value}.{_sign(value, secret)}")


def valid(cookie_value: str | None, form_token: str | None, secret: str) -> bool:
    form_token = unmask_secret(form_token) if form_token else form_token
    if not cookie_value or not form_token or "." not in form_token:
        return False
    value, signature = form_token.rsplit(".", 1)
    return hmac.compare_digest(signature, _sign(value, secret)) and hmac.compare_digest(value, cookie_value)


def request_ok(request: Request, token: str | None) -> bool:
    """Whether a POSTed form's token matches this browser's CSRF cookie (the one check every public form makes)."""
    cookie = request.cookies.get(cookie_name(request.url.scheme == "https"))
    return valid(cookie, token, request.app.state.settings.secret_key)


def same_site(request: Request) -> bool:
    """Cookie-less check (Fetch Metadata, then Origin): whether a form was posted from this site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin in (None, "null") or urlparse(origin).netloc == request.url.netloc
