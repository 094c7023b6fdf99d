"""The ASGI side of the booking fast path: the front that takes ``POST /api/v1/appointments``, and ``install``.

Why a front outside the stack: a booking's CPU on the app side decides how
much is left for PostgreSQL on the same cores (docs/performance.md). Behind
the app's dozen ASGI layers (FastAPI's and Starlette's own, compression,
metrics, headers, error boundary, rate limits, authorization, body limit, edge
guard) every request paid for each layer's closures and the route-table scans
of three of them before the fast path saw it. ``FastFront`` wraps the whole
built stack instead and applies, for this one public route, exactly what those
layers would, with the same functions:

* rate limits: ``ratelimit.address_wait`` before the body is read and
  ``ratelimit.booking_wait`` after it (per address, per credential, per
  address booking, per office), answered by ``ratelimit.refuse``; the request
  is then marked ``ratelimit.COUNTED`` so the stack never counts it twice;
* authorization: the route is public (``authz.RULES``); ``install`` checks it
  and adds no front otherwise;
* the body limit: ``limits.read_body`` (size and deadline), 413 and 408 as the
  body-limit middleware answers them;
* the edge guard's NUL rule: a body with a NUL goes to the stack, which
  refuses it with 422;
* headers: ``headers.secured`` (nosniff, no-store); compression:
  ``delivery.compressor`` for answers large enough to be compressed;
* metrics: the same counters and histogram, labelled as the metrics middleware
  labels them; the error boundary: ``failures.classify``.

Anything unusual (a chunked body, no Content-Length, a body over the limit, a
query string, a non-JSON body, a bad Idempotency-Key or several) goes untouched to the
stack, where ``FastBookingMiddleware`` — the same fast path inside every layer,
as before — still takes it. What the fast path does not decide goes on to the
FastAPI endpoint, marked ``TRIED`` so the inner middleware does not try again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from safeslot.config import Environment, Settings
from safeslot.delivery import COMPRESS_MINIMUM, compressor
from safeslot.failures import classify
from safeslot.headers import secured
from safeslot.kit import metrics
from safeslot.kit.http import replay
from safeslot.kit.limiter import Limiter
from safeslot.kit.limits import TOO_LARGE, TOO_SLOW, read_body, refuse_slow, refuse_too_large
from safeslot.kit.ratelimit import COUNTED, address_wait, booking_wait, refuse
from safeslot.scheduling.fastpath import PATH, PLAINTEXT_FLAG, FastBooking, Result, writers_per_process
from safeslot.scheduling.idempotency import MAX_KEY_LENGTH

log = logging.getLogger(__name__)

RAW_PATH = PATH.encode()
TRIED = "safeslot.fast_booking_tried"  # scope key: the front asked the fast path, which left it to the endpoint
ANSWER = "safeslot.fast_booking_answer"  # scope key: what the front's compressed answer sends
UNMATCHED = "unmatched"  # the metrics middleware's label for an answer given before routing


class _Route:
    """What the metrics middleware reads from ``scope["route"]``: the route template."""

    path = PATH


ROUTE = _Route()


def asyncpg_dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _send_answer(scope: Any, receive: Any, send: Any) -> None:
    """The ASGI app behind the front's compressor: sends the answer the front put in the scope."""
    status, headers, body = scope[ANSWER]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FastFront:
    """Outside the whole stack: ``POST /api/v1/appointments`` with a plain JSON body, as the stack would."""

    def __init__(self, app: Any, fast: FastBooking, max_body: int, body_timeout: float) -> None:
        self.app = app
        self.fast = fast
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.compress = compressor(_send_answer)
        self.latency = metrics.LATENCY.labels(PATH, "POST")
        self.counted: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST" or not self.fast.running:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        key: str | None = None
        length = b""
        json_body = chunked = compressible = several_keys = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                json_body = value.split(b";")[0].strip() == b"application/json"
            elif name == b"idempotency-key":
                several_keys = key is not None
                key = value.decode("latin-1")
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"accept-encoding":
                compressible = True
        if (not json_body or chunked or several_keys or not length.isdigit() or int(length) > self.max_body
                or scope.get("query_string") or scope.get("raw_path", RAW_PATH) != RAW_PATH
                or (key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()))):
            await self.app(scope, receive, send)  # the stack and its answers, the fast path inside it
            return
        state: dict[str, Any] = {"route": UNMATCHED, "status": 0}

        async def metered(message: Any) -> None:  # what the stack's headers and metrics layers do to answers
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message = {**message, "headers": secured(list(message.get("headers") or []))}
            await send(message)

        try:
            body = await self._book(scope, receive, metered, key, compressible, state)
        except Exception as exc:  # the error boundary's answer (safeslot/failures.py)
            if state["status"]:
                raise  # half an answer is out: only closing the connection is honest now
            status, headers, answer = classify(exc, PATH)
            if status == 500:
                log.error("unexpected %s on the booking front", type(exc).__name__, exc_info=True)
            await metered({"type": "http.response.start", "status": status, "headers": headers})
            await metered({"type": "http.response.body", "body": answer})
            body = None
        if body is not None:  # the stack answers, counts and heads its answer itself
            scope[TRIED] = True
            await self.app(scope, replay(body, receive), send)
        elif state["status"]:
            self._count(state["route"], state["status"], time.perf_counter() - started)

    async def _book(self, scope: Any, receive: Any, send: Any, key: str | None, compressible: bool,
                    state: dict[str, Any]) -> bytes | None:
        """Answer the booking, or return its body for the stack to answer (the endpoint, or a layer's refusal)."""
        limiter: Limiter | None = getattr(scope["app"].state, "limiter", None)
        limited = limiter is not None and limiter.enabled
        if limited:
            assert limiter is not None
            scope[COUNTED] = True
            wait, detail = await address_wait(limiter, scope)
            if wait:
                await refuse(scope, send, wait, detail)
                return None
        body = await read_body(receive, self.max_body, self.body_timeout)
        if body is None:
            return None  # the client left
        if body is TOO_SLOW:
            await refuse_slow(send, self.body_timeout)
            return None
        if body is TOO_LARGE:
            await refuse_too_large(send, self.max_body)
            return None
        assert isinstance(body, bytes)
        if b"\x00" in body or b"\\u0000" in body:
            return body  # the edge guard refuses it (422, safeslot/failures.py)
        if limited:
            assert limiter is not None
            wait, detail = await booking_wait(limiter, scope, PATH, body)
            if wait:
                await refuse(scope, send, wait, detail)
                return None
        result = await self.fast.book(body, key)
        if result is None:
            return body
        state["route"] = PATH
        await self._answer(scope, send, result, compressible)
        return None

    async def _answer(self, scope: Any, send: Any, result: Result, compressible: bool) -> None:
        status, answer, headers = result
        headers = [(b"content-length", str(len(answer)).encode()), *headers]
        if compressible and len(answer) >= COMPRESS_MINIMUM:
            scope[ANSWER] = (status, headers, answer)
            await self.compress(scope, _nothing, send)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _count(self, route: str, status: int, seconds: float) -> None:
        counter = self.counted.get((route, status))
        if counter is None:
            counter = self.counted[(route, status)] = metrics.REQUESTS.labels(route, "POST", str(status))
        counter.inc()
        (self.latency if route == PATH else metrics.LATENCY.labels(route, "POST")).observe(seconds)



class FastBookingMiddleware:
    """The fast path inside the stack, for the bookings the front left to it (see the module's docstring)."""

    def __init__(self, app: Any, fast: FastBooking) -> None:
        self.app = app
        self.fast = fast

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST"
            or not self.fast.running or TRIED in scope
        ):
            await self.app(scope, receive, send)
            return
        key: str | None = None
        json_body = several_keys = False
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                several_keys = key is not None
                key = value.decode("latin-1")
            elif name == b"content-type":
                json_body = value.split(b";")[0].strip() == b"application/json"
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        result = None
        if json_body and not several_keys and (key is None or (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable())):
            result = await self.fast.book(body, key)
        if result is None:
            await self.app(scope, replay(body, receive), send)
            return
        scope["route"] = ROUTE
        status, answer, headers = result
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(answer)).encode()), *headers]})
        await send({"type": "http.response.body", "body": answer})


async def _nothing() -> Any:
    return {"type": "http.disconnect"}


def install(app: FastAPI, settings: Settings) -> None:
    """Add the fast path when the app writes to PostgreSQL through its own engine (not a test's connection)."""
    engine: Engine = app.state.engine
    bind = app.state.sessionmaker.kw.get("bind")
    if engine.dialect.name != "postgresql" or bind is not engine:
        return
    seal = not (settings.environment is Environment.demo and settings.bench_plaintext)
    if not seal:
        log.warning("%s=1: names are stored UNSEALED by the booking fast path (benchmark only)", PLAINTEXT_FLAG)
    fast = FastBooking(asyncpg_dsn(engine), app.state.clock, app.state.keyring, seal=seal,
                       writers=writers_per_process(settings.server.workers))
    app.state.fast_booking = fast
    app.add_middleware(FastBookingMiddleware, fast=fast)
    if _public("POST", PATH):
        build = app.build_middleware_stack

        def build_with_front() -> Any:
            return FastFront(build(), fast, settings.server.max_body_bytes, settings.server.body_timeout_seconds)

        app.build_middleware_stack = build_with_front  # type: ignore[method-assign]
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            await fast.start()
            try:
                yield state
            finally:
                with contextlib.suppress(Exception):
                    await fast.stop()

    app.router.lifespan_context = lifespan


def _public(method: str, template: str) -> bool:
    """Only a public route may skip the authorization middleware (identity/authz.py is its table)."""
    from safeslot.identity.interfaces import route_is_public

    return route_is_public(method, template)
