"""The body limit (kit/limits.py): a body larger than the route allows, or sent too slowly, is refused
with a problem answer before any handler runs, so nothing is half-written; uploads get the larger limit;
a body within the limits reaches the handler whole. Driven as ASGI, no server and no database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import FastAPI, Request

from safeslot.kit.limits import BodyLimitMiddleware

app = FastAPI()
seen: list[bytes] = []


@app.post("/api/v1/disclosure-requests")
@app.post("/api/v1/appointments")
async def _echo(request: Request) -> dict[str, int]:
    seen.append(await request.body())
    return {"bytes": len(seen[-1])}


def _post(path: str, chunks: Iterable[bytes | None], *, declared: int | None = None, timeout: float = 5.0,
          max_body: int = 10, max_upload: int = 100) -> tuple[int, dict[str, Any]]:
    """POST ``chunks`` (None: the client stalls) and return (status, JSON body) of the answer."""
    parts = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not parts:
            return {"type": "http.disconnect"}
        chunk = parts.pop(0)
        if chunk is None:
            await asyncio.sleep(60)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "app": app, "query_string": b"",
             "http_version": "1.1", "scheme": "http", "server": ("testserver", 80), "root_path": ""}
    asyncio.run(BodyLimitMiddleware(app, max_body, max_upload, timeout)(scope, receive, send))
    return sent[0]["status"], orjson.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_a_body_within_the_limit_reaches_the_handler_whole() -> None:
    seen.clear()
    assert _post("/api/v1/appointments", [b"12345", b"67890"]) == (200, {"bytes": 10})
    assert seen == [b"1234567890"]


def test_a_body_over_the_limit_is_refused_before_the_handler_declared_or_not() -> None:
    seen.clear()
    status, problem = _post("/api/v1/appointments", [b"x" * 11], declared=11)
    assert (status, problem["type"]) == (413, "/problems/payload-too-large")
    assert "at most 10 bytes" in problem["detail"] and "Nothing was saved" in problem["detail"]
    assert _post("/api/v1/appointments", [b"x" * 6, b"x" * 6])[0] == 413  # no length given: counted as it comes
    assert seen == []


def test_an_upload_route_has_the_larger_limit() -> None:
    assert _post("/api/v1/disclosure-requests", [b"x" * 50], declared=50)[0] == 200
    assert _post("/api/v1/disclosure-requests", [b"x" * 101], declared=101)[0] == 413


def test_a_body_that_stalls_is_refused_when_its_deadline_passes() -> None:
    seen.clear()
    status, problem = _post("/api/v1/appointments", [b"12", None], timeout=0.05)
    assert (status, problem["type"]) == (408, "/problems/request-timeout")
    assert seen == []
