"""Failing gracefully: what the database or the disk refuses becomes 503 or 422, never a reset 500.

``ErrorBoundary`` is a pure ASGI middleware just inside the metrics. Anything
raised below it — by an endpoint, the session dependency's commit, or a
middleware such as the authorization check that reads credentials — is
answered here as problem+json and *not* re-raised, so the server keeps the
connection (Starlette's own last-resort handler re-raises, and uvicorn then
resets the connection without a word). Classification:

* the database or its disk is unavailable — connection refused or terminated,
  pool exhausted, SQLite read-only, locked or full, disk I/O error —
  → 503 ``/problems/database-unavailable`` with ``Retry-After``. The pool drops
  the broken connections (``pool_pre_ping`` on PostgreSQL, a fresh connection
  on SQLite), so service resumes by itself once the database is back;
* a value the database cannot hold — an id past its integer range, a date
  past year 9999, a NUL character in text — → 422 ``/problems/invalid-input``
  (a backstop: ``EdgeGuard`` refuses most of these before any work is done);
* anything else → 500 ``/problems/internal``, with the exception's type (never
  its text, which may carry personal data) in the log.

``EdgeGuard`` refuses NUL characters in the path, the query and JSON or form
bodies, and numeric path segments past 2^31 - 1 (every id column fits in a
PostgreSQL ``integer``), with 422 or 404, before the request reaches a route.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from sqlalchemy import exc as sa_exc
from starlette.routing import Match

from safeslot.kit.errors import N_, PROBLEM_MEDIA_TYPE, DomainError, Internal, InvalidInput, NotFound, Unavailable
from safeslot.kit.http import read_body, replay

log = logging.getLogger(__name__)
RETRY_AFTER = 5  # seconds: a restarted database or a freed disk is usually back within that



class DatabaseUnavailable(Unavailable, slug="database-unavailable", title=N_("The database is unavailable")):
    """The database (or the disk under it) refused the request, so nothing was saved. Send the same
    request again after the seconds in Retry-After (a few); with an Idempotency-Key a retry never
    books twice.
    """


MAX_ID = 2**31 - 1

SQLITE_UNAVAILABLE = ("readonly", "read-only", "locked", "disk i/o", "full", "unable to open", "busy")


def unavailable(exc: BaseException) -> bool:
    """The database (or the disk under it) cannot serve now; the request itself was fine."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError, sa_exc.InterfaceError)):
        return True
    if isinstance(exc, sa_exc.OperationalError):
        orig = exc.orig
        if isinstance(orig, sqlite3.OperationalError):
            text = str(orig).lower()
            return any(word in text for word in SQLITE_UNAVAILABLE)
        return True  # PostgreSQL: connection refused, terminated, server shutting down …
    if isinstance(exc, sa_exc.PendingRollbackError):
        return True
    return isinstance(exc, (ConnectionError, sqlite3.OperationalError)) and not isinstance(exc, sa_exc.StatementError)


def unstorable(exc: BaseException) -> bool:
    """A value the database refuses by its type (a client's input, not our bug)."""
    if isinstance(exc, sa_exc.DataError):
        return True
    if isinstance(exc, sa_exc.StatementError) and isinstance(exc.orig, OverflowError):
        return True
    return isinstance(exc, OverflowError)


def _answer(kind: type[DomainError], detail: str, path: str,
            headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status = kind.status
    body = orjson.dumps({"type": f"/problems/{kind.slug}", "title": kind.title, "status": status, "detail": detail,
                         "instance": path})
    return status, [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"cache-control", b"no-store"),
                    (b"content-length", str(len(body)).encode()), *(headers or [])], body


def database_unavailable(path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return _answer(DatabaseUnavailable, f"Nothing was saved. Try again in {RETRY_AFTER} seconds.", path,
                   [(b"retry-after", str(RETRY_AFTER).encode())])


def classify(exc: BaseException, path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    if unavailable(exc):
        return database_unavailable(path)
    if unstorable(exc):
        return _answer(InvalidInput, "A value is out of range: a number too large, a date past year 9999, or a NUL "
                       "character. Fix it and send again; nothing was saved.", path)
    return _answer(Internal, "The request was not completed and nothing was saved. Try again later.", path)


class ErrorBoundary:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = {"yes": False}

        async def _send(message: Any) -> None:
            if message["type"] == "http.response.start":
                started["yes"] = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception as exc:
            if started["yes"]:
                raise  # half an answer is out: only closing the connection is honest now
            status, headers, body = classify(exc, scope.get("path", ""))
            if status == 500:
                route = getattr(scope.get("route"), "path", "unmatched")
                log.error("unexpected %s on %s %s", type(exc).__name__, scope.get("method"), route, exc_info=True)
            elif status == 503:
                log.warning("database unavailable (%s)", type(exc).__name__)
            page: Callable[[dict[str, Any], str, int], tuple[int, list[tuple[bytes, bytes]], bytes]] | None = (
                getattr(scope["app"].state, "status_page", None)
            )
            if page is not None and not scope.get("path", "").startswith(("/api/", "/log/", "/healthz")) \
                    and status in (500, 503):
                status, headers, body = page(scope, "unavailable" if status == 503 else "internal", status)
                if status == 503:
                    headers = [*headers, (b"retry-after", str(RETRY_AFTER).encode())]
                headers = [*headers, (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})


# -- the edge -------------------------------------------------------------------------------------
def _int_path_params(app: Any) -> list[tuple[Any, frozenset[str]]]:
    """(route, names of its integer path parameters), computed once per app."""
    cached: list[tuple[Any, frozenset[str]]] | None = getattr(app.state, "edge_int_params", None)
    if cached is None:
        cached = []
        for route in app.router.routes:
            dependant = getattr(route, "dependant", None)
            if dependant is None:
                continue
            names = frozenset(
                f.name for f in dependant.path_params if getattr(f.field_info, "annotation", None) is int
            )
            if names:
                cached.append((route, names))
        app.state.edge_int_params = cached
    return cached


def _id_out_of_range(scope: dict[str, Any]) -> bool:
    if not DIGITS_PAST_RANGE.search(scope.get("path", "")):
        return False
    for route, names in _int_path_params(scope["app"]):
        match, child = route.matches(scope)
        if match is Match.FULL:
            params = child.get("path_params", {})
            return any(str(params.get(n, "")).isdigit() and int(params[n]) > MAX_ID for n in names)
    return False


DIGITS_PAST_RANGE = re.compile(r"\d{10,}")


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"%00" in raw or b"\\u0000" in raw


class EdgeGuard:
    """NUL characters and ids past the integer range are refused before any route runs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        raw_path = scope.get("raw_path") or path.encode("utf-8", "surrogateescape")
        query = scope.get("query_string", b"")
        if "\x00" in path or _has_nul(raw_path) or b"\x00" in unquote_to_bytes(query):
            await _send_answer(send, _answer(
                InvalidInput, "Remove the NUL character (%00) from the address and send again.", path))
            return
        if _id_out_of_range(scope):
            await _send_answer(send, _answer(NotFound, "There is no record with that number.", path))
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"")
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") or content_type.startswith(b"multipart/"):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        form = content_type.startswith(b"application/x-www-form-urlencoded")
        if b"\x00" in body or (b"\\u0000" in body and not form) or (form and b"%00" in body):
            await _send_answer(send, _answer(
                InvalidInput, "Remove the NUL character (\\u0000) from the text and send again.", path))
            return
        await self.app(scope, replay(body, receive), send)


async def _send_answer(send: Any, answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
