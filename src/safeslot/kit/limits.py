"""Refuse oversized bodies with 413 before the application sees them.

The body is read here, up to the limit, and then replayed to the application.
Reading first (instead of counting while the endpoint reads) means an
oversized or chunked body never reaches a handler, so nothing is half-written.
The limit is chosen by the route the request reaches, never by what the client
says its content type is: only the routes in ``UPLOAD_ROUTES`` (the instrument
document) get the larger upload limit. This middleware sits inside the
authorization middleware, so a body sent without valid credentials to a route
that needs them is refused with 401 before a byte of it is read.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

import orjson

from safeslot.kit.errors import N_, PROBLEM_MEDIA_TYPE, DomainError, PayloadTooLarge
from safeslot.kit.routing import route_template


class RequestTimeout(DomainError, slug="request-timeout", title=N_("The request body came too slowly"), status=408):
    """The whole request body did not arrive in time, so the connection was closed and nothing was
    saved. Send the request again on a steadier connection.
    """


# (method, route template) that take a file upload; every other route gets max_body.
UPLOAD_ROUTES = frozenset({("POST", "/api/v1/disclosure-requests")})


class BodyLimitMiddleware:
    def __init__(self, app: Any, max_body: int, max_upload: int, body_timeout: float = 60.0) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        upload = (scope["method"], route_template(scope["app"], scope)) in UPLOAD_ROUTES
        limit = self.max_upload if upload else self.max_body
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse_too_large(send, limit)
            return
        read = await read_body(receive, limit, self.body_timeout)
        if read is None:
            return
        if read is TOO_SLOW:
            await refuse_slow(send, self.body_timeout)
            return
        if read is TOO_LARGE:
            await refuse_too_large(send, limit)
            return
        assert isinstance(read, bytes)
        body = read
        replayed = {"done": False}

        async def _replay() -> Any:
            if not replayed["done"]:
                replayed["done"] = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, _replay, send)


class Unread(Enum):
    """Why ``read_body`` gives no body."""

    TOO_LARGE = "too large"
    TOO_SLOW = "too slow"


TOO_LARGE, TOO_SLOW = Unread.TOO_LARGE, Unread.TOO_SLOW


async def read_body(receive: Any, limit: int, timeout: float) -> bytes | Unread | None:
    """The whole body, read within ``timeout`` seconds: TOO_LARGE past ``limit`` bytes (reading stops there),
    TOO_SLOW when the deadline passes (a half-sent body must not hold a worker's connection for ever),
    None when the client left. The booking fast path reads its bodies with this too (scheduling/fastfront.py)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                body = message.get("body", b"")
                size += len(body)
                if size > limit:
                    return TOO_LARGE
                chunks.append(body)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        return TOO_SLOW
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _refuse(send: Any, kind: type[DomainError], detail: str) -> None:
    """A problem+json answer written straight to the ASGI send, closing the connection."""
    status = kind.status
    body = orjson.dumps({"type": f"/problems/{kind.slug}", "title": kind.title, "status": status, "detail": detail})
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})


async def refuse_slow(send: Any, seconds: float) -> None:
    await _refuse(send, RequestTimeout, f"Send the whole body within {seconds:g} seconds. Nothing was saved.")


async def refuse_too_large(send: Any, limit: int) -> None:
    await _refuse(send, PayloadTooLarge, f"Send at most {limit} bytes. Nothing was saved.")
