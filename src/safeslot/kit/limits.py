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

from typing import Any

from safeslot.kit.http import BodyTooLarge, BodyTooSlow, read_body, replay, send_problem
from safeslot.kit.routing import route_template

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
            await _refuse(send, limit)
            return
        try:
            body = await read_body(receive, limit=limit, timeout=self.body_timeout)
        except BodyTooLarge:
            await _refuse(send, limit)
            return
        except BodyTooSlow:  # a half-sent body must not hold a worker's connection for ever
            await send_problem(send, 408, "request-timeout", "The request body came too slowly",
                               f"Send the whole body within {self.body_timeout:g} seconds. Nothing was saved.",
                               [(b"connection", b"close")])
            return
        if body is None:
            return
        await self.app(scope, replay(body, receive), send)


async def _refuse(send: Any, limit: int) -> None:
    await send_problem(send, 413, "payload-too-large", "The request body is too large",
                       f"Send at most {limit} bytes. Nothing was saved.", [(b"connection", b"close")])
