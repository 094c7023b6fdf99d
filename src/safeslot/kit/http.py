"""HTTP plumbing shared by the kernel's middlewares and the routers.

* `JSON`: a JSON response rendered by orjson (FastAPI's own ORJSONResponse is deprecated).
* `read_body` / `replay`: the loop that reads an (already size-limited) request body in ASGI
  chunks, and the ``receive`` that hands the whole body to the application afterwards. The
  edge guard and the action limits read the body before the route runs, so what they refuse
  never reaches a handler (nothing is half-written).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.responses import Response

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body (already bounded by the body limit outside), or None when the client
    disconnected before sending it. The body limit itself reads with `kit.limits.read_body`, which
    also enforces the size and the deadline."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
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
