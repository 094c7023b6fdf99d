"""HTTP plumbing shared by the kernel's middlewares and the routers.

* `JSON`: a JSON response rendered by orjson (FastAPI's own ORJSONResponse is deprecated).
* `read_body` / `replay`: the loop that reads an (already size-limited) request body in ASGI
  chunks, and the ``receive`` that hands the whole body to the application afterwards. The
  edge guard and the action limits read the body before the route runs, so what they refuse
  never reaches a handler (nothing is half-written).
* `tls_context` / `outgoing_client`: the TLS settings every outgoing client shares (witnesses, the
  SMS provider, the identity provider, the command line's log and report readers), built once per
  process instead of once per client.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

if TYPE_CHECKING:
    import ssl

    import httpx

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


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's own default TLS settings (the CA bundle SSL_CERT_FILE or SSL_CERT_DIR names, else
    certifi's), made once per process. httpx makes a new one for every client it builds, and loading a
    bundle of a hundred-odd certificates costs about 20 ms of CPU each time; a context is safe to share
    between clients and threads (docs/decisions.md, "One TLS context per process")."""
    import httpx

    return httpx.create_ssl_context()


def outgoing_client(**options: Any) -> httpx.Client:
    """An httpx client for a call out of the process, on the shared TLS context."""
    import httpx

    return httpx.Client(verify=tls_context(), **options)
