"""Refuse oversized bodies with 413 before the application sees them.

The body is read here, up to the limit, and then replayed to the application.
Reading first (instead of counting while the endpoint reads) means an
oversized or chunked body never reaches a handler, so nothing is half-written.
Multipart uploads (instrument documents) get the larger upload limit.
"""

from __future__ import annotations

from typing import Any

import orjson

from safeslot.errors import PROBLEM_MEDIA_TYPE


class BodyLimitMiddleware:
    def __init__(self, app: Any, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.max_upload if multipart else self.max_body
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _refuse(send, limit)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = {"done": False}

        async def _replay() -> Any:
            if not replayed["done"]:
                replayed["done"] = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, _replay, send)


async def _refuse(send: Any, limit: int) -> None:
    body = orjson.dumps({
        "type": "/problems/payload-too-large",
        "title": "The request body is too large",
        "status": 413,
        "detail": f"Send at most {limit} bytes. Nothing was saved.",
    })
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})
