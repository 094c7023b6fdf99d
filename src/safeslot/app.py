"""create_app(settings): builds the engine, mounts every domain's router, the console and the log."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.engine import Engine
from starlette.middleware import Middleware
from starlette.responses import Response

from safeslot import __version__, delivery, health, openapi
from safeslot.config import Settings
from safeslot.db import build_engine, build_sessionmaker
from safeslot.failures import EdgeGuard, ErrorBoundary
from safeslot.headers import SecurityHeadersMiddleware
from safeslot.kit.crypto import KeyRing, load_key_ring
from safeslot.kit.errors import PROBLEM_DOCS, install_handlers
from safeslot.kit.limits import BodyLimitMiddleware
from safeslot.kit.metrics import REGISTRY, MetricsMiddleware, start_metrics_server
from safeslot.kit.ratelimit import ActionLimitMiddleware, AddressLimitMiddleware, Limiter
from safeslot.optional import import_optional

# Each domain exposes `router` in its endpoints module; a domain that is not
# there yet is simply not mounted. Order matters only for the OpenAPI tags.
DOMAIN_ROUTERS = (
    "safeslot.scheduling.endpoints",
    "safeslot.scheduling.admin_endpoints",
    "safeslot.scheduling.queue.endpoints",
    "safeslot.identity.endpoints",
    "safeslot.transparency.endpoints",
    "safeslot.disclosure.endpoints",
    "safeslot.privacy.endpoints",
    "safeslot.reports.endpoints",
    "safeslot.notifications.endpoints",
    "safeslot.console.endpoints",
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    bind: Any = None,
    clock: Callable[[], dt.datetime] | None = None,
    keyring: KeyRing | None = None,
) -> FastAPI:
    """Build the ASGI app. Tests pass ``bind`` (a connection in a rolled-back transaction), a clock and keys."""
    engine = engine or build_engine(
        settings.database.url, pool_size=settings.database.pool_size, echo=settings.database.echo
    )
    app = FastAPI(
        title="safeslot",
        version=__version__,
        description=(
            "Appointments for a public office. Personal data leaves only through the disclosure gate, "
            "and every disclosure is in a public, verifiable log. Errors are RFC 9457 problem+json."
        ),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = build_sessionmaker(bind if bind is not None else engine)
    app.state.clock = clock or _utcnow
    app.state.keyring = keyring or load_key_ring(
        settings.crypto.key_file, settings.crypto.keys, create=settings.is_demo
    )
    install_handlers(app)

    for module_name in DOMAIN_ROUTERS:
        module = import_optional(module_name)
        if module is None:
            continue
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app, settings)
        app.include_router(module.router)

    health.install(app)
    openapi.install(app)  # the answers of the layers around the endpoints, documented (safeslot/openapi.py)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics_endpoint() -> Response:
        """Prometheus metrics: an auditor's or administrator's token, or the separate metrics_bind address."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/problems/{slug}", tags=["operations"], include_in_schema=False)
    def problem_doc(slug: str) -> Response:
        text_ = PROBLEM_DOCS.get(slug, "See the 'detail' of the response for what to do next.")
        return Response(f"{slug}: {text_}\n", media_type="text/plain")

    _stack_middleware(app, settings)
    return app


def _stack_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware stack, outermost first, whatever order the domains' setup() added theirs in:

    HEAD → compression → metrics → per-address/credential limits → (authorization) → body limit → action limits
    → (the domains' other middlewares, e.g. the booking fast path) → routes.

    The authorization middleware refuses before any body is read; the body limit
    bounds what the action limits and the fast path read.
    """
    limiter = app.state.limiter = Limiter(settings.rate_limits)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            stop = start_metrics_server(settings.server.metrics_bind)
            try:
                yield state
            finally:
                stop()
                await limiter.close()

    app.router.lifespan_context = lifespan
    domain = list(app.user_middleware)  # as added by setup(): outermost first
    authz = [m for m in domain if getattr(m.cls, "__name__", "") == "AuthzMiddleware"]
    others = [m for m in domain if m not in authz]
    app.user_middleware[:] = [
        *delivery.middleware(),  # HEAD as GET without the body, then compression (safeslot/delivery.py)
        Middleware(MetricsMiddleware),
        Middleware(SecurityHeadersMiddleware),
        Middleware(ErrorBoundary),  # database down → 503, bad values → 422, never a reset (safeslot/failures.py)
        Middleware(AddressLimitMiddleware),
        *authz,
        Middleware(
            BodyLimitMiddleware, max_body=settings.server.max_body_bytes, max_upload=settings.server.max_upload_bytes,
            body_timeout=settings.server.body_timeout_seconds,
        ),
        Middleware(EdgeGuard),
        Middleware(ActionLimitMiddleware),
        *others,
    ]
