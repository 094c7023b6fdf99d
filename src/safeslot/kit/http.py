"""HTTP plumbing shared by the kernel's middlewares and the routers.

* `JSON`: a JSON response rendered by orjson (FastAPI's own ORJSONResponse is deprecated).
* `read_body` / `replay`: the one loop that reads a request body in ASGI chunks, and the
  ``receive`` that hands the whole body to the application afterwards. The body limit,
  the edge guard and the action limits all read the body before the route runs, so what
  they refuse never reaches a handler (nothing is half-written).
* `send_problem`: a bare RFC 9457 answer sent from a middleware, outside FastAPI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from starlette.responses import Response

from safeslot.kit.errors import N_, PROBLEM_MEDIA_TYPE, register_problem

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]

register_problem("request-timeout", N_("The request body came too slowly"), 408, """
    The whole request body did not arrive in time, so the connection was closed and nothing was
    saved. Send the request again on a steadier connection.
""")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class BodyTooLarge(Exception):
    """The body grew past the limit given to `read_body`."""


class BodyTooSlow(Exception):
    """The body did not arrive within the seconds given to `read_body`."""


async def read_body(receive: Receive, *, limit: int | None = None, timeout: float | None = None) -> bytes | None:
    """The whole request body, or None when the client disconnected before sending it.

    With ``limit``, raises `BodyTooLarge` as soon as more than ``limit`` bytes arrived (the
    rest is never read). With ``timeout``, raises `BodyTooSlow` when the whole body has not
    arrived within that many seconds: a half-sent body must not hold a connection for ever.
    """
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        if deadline is None:
            message = await receive()
        else:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise BodyTooSlow from None
        if message["type"] == "http.disconnect":
            return None
        body = message.get("body", b"")
        size += len(body)
        if limit is not None and size > limit:
            raise BodyTooLarge
        chunks.append(body)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that returns ``body`` whole once, then defers to the real one (disconnects)."""
    sent = False

    async def _replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return _replay


async def send_problem(
    send: Send, status: int, slug: str, title: str, detail: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """An RFC 9457 problem+json answer from a middleware; ``headers`` are added as given."""
    body = orjson.dumps({"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail})
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    })
    await send({"type": "http.response.body", "body": body})
