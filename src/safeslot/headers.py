"""Headers every answer gets, whatever route wrote it (a pure ASGI middleware).

* JSON (``application/json``, ``application/problem+json``) without its own
  ``Cache-Control`` gets ``no-store``: appointments, accounting entries, staff
  listings and tokens must not sit in a browser's or a proxy's cache. Answers
  meant to be cached (log tiles, published reports) set their own.
* HTML without its own ``Content-Security-Policy`` gets a strict one: scripts
  and styles from this origin only, plus the SHA-256 hash of each inline
  ``<script>`` and ``<style>`` block the page carries (CSP Level 3 hash-source),
  so a signed report page keeps its exact bytes and nothing injected can run.
  The API documentation pages (``/docs``, ``/redoc``) also load FastAPI's
  Swagger UI and ReDoc from their CDN.
* Every answer: ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

INLINE = re.compile(rb"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1>", re.S | re.I)
CDN = "https://cdn.jsdelivr.net"
DOC_PAGES = ("/docs", "/redoc")


def content_security_policy(html: bytes, path: str) -> str:
    scripts: list[str] = []
    styles: list[str] = []
    for kind, content in INLINE.findall(html):
        digest = "'sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode() + "'"
        (scripts if kind.lower() == b"script" else styles).append(digest)
    extra = f" {CDN}" if path in DOC_PAGES else ""
    images = " https://fastapi.tiangolo.com" if path in DOC_PAGES else ""
    return (
        f"default-src 'self'; img-src 'self' data:{images}; "
        f"script-src 'self'{extra}{''.join(' ' + s for s in scripts)}; "
        f"style-src 'self'{extra}{''.join(' ' + s for s in styles)}; "
        "font-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )


def secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers of an answer that is not HTML, with what every answer gets (nosniff; no-store for JSON
    without its own Cache-Control). The booking fast path's front, outside this middleware, calls it too."""
    names = {k.lower() for k, _ in headers}
    if b"x-content-type-options" not in names:
        headers.append((b"x-content-type-options", b"nosniff"))
    content_type = dict(headers).get(b"content-type", b"").lower()
    if content_type.startswith((b"application/json", b"application/problem+json")) and b"cache-control" not in names:
        headers.append((b"cache-control", b"no-store"))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def _send(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = secured(list(message.get("headers") or []))
                names = {k.lower() for k, _ in headers}
                content_type = dict(headers).get(b"content-type", b"").lower()
                message = {**message, "headers": headers}
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    held["start"] = message  # the policy needs the page's inline blocks: hold the start
                    return
                await send(message)
                return
            if "start" not in held or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            start = held.pop("start")
            policy = content_security_policy(body, scope.get("path", ""))
            await send({**start, "headers": [*start["headers"], (b"content-security-policy", policy.encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, _send)
