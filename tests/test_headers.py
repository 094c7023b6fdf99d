"""The security headers every answer gets (headers.py): a page's content security policy allows exactly
its own inline scripts and styles, by hash; nothing is sniffed; JSON is not cached unless it says so."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Any

from safeslot.headers import SecurityHeadersMiddleware, content_security_policy, secured


def _sha(text: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


def test_a_pages_policy_names_its_inline_blocks_by_hash_and_nothing_else() -> None:
    page = b'<script>go()</script><script src="/app.js"></script><STYLE media="print">p{}</STYLE>'
    policy = dict(p.strip().split(" ", 1) for p in content_security_policy(page, "/manage").split(";"))
    assert policy["script-src"] == f"'self' {_sha(b'go()')}"  # the one with src= is covered by 'self'
    assert policy["style-src"] == f"'self' {_sha(b'p{}')}"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "cdn.jsdelivr.net" not in content_security_policy(page, "/manage")
    assert "cdn.jsdelivr.net" in content_security_policy(b"", "/docs")  # the API docs load their CDN assets


def test_every_answer_is_not_sniffed_and_json_is_not_stored_unless_it_says_otherwise() -> None:
    assert secured([(b"content-type", b"application/problem+json")]) == [
        (b"content-type", b"application/problem+json"), (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store")]
    assert (b"cache-control", b"no-store") not in secured([(b"content-type", b"application/json"),
                                                           (b"cache-control", b"max-age=60")])
    assert secured([(b"content-type", b"image/png")]) == [(b"content-type", b"image/png"),
                                                          (b"x-content-type-options", b"nosniff")]


def test_an_html_answer_gets_the_policy_of_the_body_it_sends_in_pieces() -> None:
    async def page(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<script>a()", "more_body": True})
        await send({"type": "http.response.body", "body": b"</script>"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    asyncio.run(SecurityHeadersMiddleware(page)({"type": "http", "path": "/"}, receive, send))
    headers = dict(sent[0]["headers"])
    assert _sha(b"a()") in headers[b"content-security-policy"].decode()
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"<script>a()</script>"
