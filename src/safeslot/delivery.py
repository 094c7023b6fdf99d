"""How responses leave the app: compressed, and ``HEAD`` answered wherever ``GET`` is.

Two ASGI middlewares, placed by ``create_app`` (``middleware()``) as the
outermost layers so that other middleware (authorization, security headers,
rate limits) sees an ordinary ``GET`` and the compressed length is what
``HEAD`` reports.

* Compression is starlette-compress (zstd, Brotli or gzip, whichever the browser
  accepts, by the server's order of preference), for every text type, including
  server-sent events, which it flushes message by message. A page of the booking
  flow shrinks from ~9 KB to ~2.5 KB; the stylesheet from 27 KB to 5 KB.
* BREACH (compression leaking a secret in the page) is answered where the secret
  is: the CSRF token in the forms is masked afresh for every response
  (console/csrf.py), as Django does since 1.10.
* ``HEAD`` (RFC 9110 9.3.2: same headers as ``GET``, no content): FastAPI's
  routes answer only the methods they declare, so ``HEAD /`` was 405. The
  request runs as ``GET`` and the body is dropped; a streaming response is told
  the client left once its headers are out.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_compress import CompressMiddleware

MASK_PREFIX = "m_"


def mask_secret(token: str) -> str:
    """A token the page can carry compressed: a fresh one-time pad, then the token XOR the pad.

    Every response holds different bytes for the same secret, so the length of a
    compressed page tells an attacker nothing about it (BREACH, breachattack.com).
    """
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    mixed = bytes(a ^ b for a, b in zip(raw, pad, strict=True))
    return MASK_PREFIX + base64.urlsafe_b64encode(pad + mixed).decode().rstrip("=")


def unmask_secret(given: str) -> str:
    """The token inside ``mask_secret``'s output; anything else (an unmasked token) is returned as is."""
    if not given.startswith(MASK_PREFIX) or "." in given:
        return given
    body = given[len(MASK_PREFIX):]
    try:
        both = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return ""
    if not both or len(both) % 2:
        return ""
    half = len(both) // 2
    raw = bytes(a ^ b for a, b in zip(both[:half], both[half:], strict=True))
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return ""


class HeadAsGet:
    """Answer ``HEAD`` with the headers ``GET`` would send, and no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        done = False

        async def head_send(message: Message) -> None:
            nonlocal done
            if done:
                return
            if message["type"] == "http.response.body":
                done = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        async def head_receive() -> Message:
            if done:  # headers are out: a streaming response may stop now
                return {"type": "http.disconnect"}
            return await receive()

        await self.app({**scope, "method": "GET"}, head_receive, head_send)


COMPRESS_MINIMUM = 500  # bytes: smaller answers go out as they are


def middleware() -> list[Middleware]:
    """The two outermost layers of ``create_app``'s stack, outermost first."""
    return [Middleware(HeadAsGet), Middleware(CompressMiddleware, minimum_size=COMPRESS_MINIMUM)]


def compressor(app: ASGIApp) -> ASGIApp:
    """``app`` behind the same compression as the stack's (for a layer that answers outside the stack:
    the booking fast path's front, scheduling/fastfront.py)."""
    return CompressMiddleware(app, minimum_size=COMPRESS_MINIMUM)
