"""The ASGI side of the booking fast path: the middleware that takes ``POST /api/v1/appointments``,
and ``install``, which adds it when the app writes to PostgreSQL through its own engine."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from safeslot.config import Environment, Settings
from safeslot.scheduling.fastpath import PATH, PLAINTEXT_FLAG, FastBooking
from safeslot.scheduling.idempotency import MAX_KEY_LENGTH

log = logging.getLogger(__name__)


class _Route:
    """What the metrics middleware reads from ``scope["route"]``: the route template."""

    path = PATH


ROUTE = _Route()


def asyncpg_dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class FastBookingMiddleware:
    def __init__(self, app: Any, fast: FastBooking) -> None:
        self.app = app
        self.fast = fast

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST"
            or not self.fast.running
        ):
            await self.app(scope, receive, send)
            return
        key: str | None = None
        json_body = False
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
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
        if json_body and (key is None or (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable())):
            result = await self.fast.book(body, key)
        if result is None:
            await self.app(scope, _replay(body, receive), send)
            return
        scope["route"] = ROUTE
        status, answer, headers = result
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(answer)).encode()), *headers]})
        await send({"type": "http.response.body", "body": answer})


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def install(app: FastAPI, settings: Settings) -> None:
    """Add the fast path when the app writes to PostgreSQL through its own engine (not a test's connection)."""
    engine: Engine = app.state.engine
    bind = app.state.sessionmaker.kw.get("bind")
    if engine.dialect.name != "postgresql" or bind is not engine:
        return
    seal = not (settings.environment is Environment.demo and os.environ.get(PLAINTEXT_FLAG) == "1")
    if not seal:
        log.warning("%s=1: names are stored UNSEALED by the booking fast path (benchmark only)", PLAINTEXT_FLAG)
    fast = FastBooking(asyncpg_dsn(engine), app.state.clock, app.state.keyring, seal=seal)
    app.state.fast_booking = fast
    app.add_middleware(FastBookingMiddleware, fast=fast)
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
