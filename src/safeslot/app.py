"""create_app(settings): builds the engine, mounts every domain's router, the console and the log."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

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
from safeslot.kit.errors import NotFound, install_handlers, problem_doc
from safeslot.kit.limiter import Limiter
from safeslot.kit.limits import BodyLimitMiddleware
from safeslot.kit.metrics import DATABASE, REGISTRY, MetricsMiddleware, start_metrics_server
from safeslot.kit.ratelimit import RateLimitMiddleware

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from safeslot.identity.service import Principal


def _mount_domains(app: FastAPI, settings: Settings) -> None:
    """Every domain's routes, wired here by name so the type checker sees each one.

    A domain's ``setup(app, settings)`` (state, middlewares) runs before its router is included.
    Order matters only for the OpenAPI tags and for route matching (the console's catch-alls last).
    """
    from safeslot.disclosure import endpoints as disclosure_endpoints
    from safeslot.disclosure import search as disclosure_search
    from safeslot.identity import endpoints as identity_endpoints
    from safeslot.identity import oidc as identity_oidc
    from safeslot.identity import passkey_endpoints as identity_passkey_endpoints
    from safeslot.identity import privileged_endpoints as identity_privileged_endpoints
    from safeslot.notifications import endpoints as notifications_endpoints
    from safeslot.privacy import endpoints as privacy_endpoints
    from safeslot.privacy import service as privacy_service
    from safeslot.reports import endpoints as reports_endpoints
    from safeslot.scheduling import admin_endpoints as scheduling_admin_endpoints
    from safeslot.scheduling import endpoints as scheduling_endpoints
    from safeslot.scheduling import office_endpoints as scheduling_office_endpoints
    from safeslot.scheduling import service as scheduling_service
    from safeslot.scheduling.queue import endpoints as queue_endpoints
    from safeslot.transparency import endpoints as transparency_endpoints

    def office_id_of(session: Session, slug: str, within: Principal | None = None) -> int:
        """Scheduling's office look-up for identity; ``within`` a scope, another office is unknown."""
        found = (scheduling_service.get_office(session, slug) if within is None
                 else scheduling_service.office_in_scope(session, slug, within))
        return found.id

    scheduling_endpoints.setup(app, settings, record_read=privacy_service.record_access)
    app.include_router(scheduling_endpoints.router)
    app.include_router(scheduling_admin_endpoints.router)
    app.include_router(scheduling_office_endpoints.router)
    app.include_router(queue_endpoints.router)
    identity_endpoints.setup(app, settings, office_id_of=office_id_of)
    app.include_router(identity_oidc.router)
    app.include_router(identity_privileged_endpoints.router)
    app.include_router(identity_passkey_endpoints.router)
    app.include_router(identity_endpoints.router)
    transparency_endpoints.setup(app, settings)
    app.include_router(transparency_endpoints.router)
    disclosure_endpoints.setup(app, settings)
    app.include_router(disclosure_endpoints.router)
    privacy_endpoints.setup(app, settings, counsel_search=disclosure_search.within_request)
    app.include_router(privacy_endpoints.router)
    app.include_router(reports_endpoints.router)
    app.include_router(notifications_endpoints.router)
    _mount_console(app)


def _mount_console(app: FastAPI) -> None:
    """The pages, by audience: the public's (no account), then the staff console under /console.

    Route order is the include order; the public pages' paths and /console do not overlap.
    """
    from safeslot.console import i18n, pages
    from safeslot.console.assets import HashedStaticFiles
    from safeslot.console.public import booking, finder, records, reminders, walk_in
    from safeslot.console.staff import (
        auditor,
        clerk,
        desk,
        messages,
        network,
        office,
        privileged,
        reviewer,
        shell,
    )
    from safeslot.console.staff import booking as staff_booking
    from safeslot.console.staff import hours as staff_hours

    app.mount("/static", HashedStaticFiles(directory=pages.STATIC), name="static")  # our CSS/JS, USWDS
    i18n.translations("es")  # compile a missing or stale .mo now, not on someone's first visit
    shell.install(app)  # /console refusals of the authorization middleware become pages
    app.state.throttled_page = pages.throttled_page  # 429s of the rate limiter become pages too
    app.state.status_page = pages.status_page  # and 503s of an unavailable database (safeslot/failures.py)
    app.include_router(booking.router)
    app.include_router(records.router)
    app.include_router(walk_in.router)
    app.include_router(finder.router)
    app.include_router(reminders.router)
    app.include_router(shell.router)
    app.include_router(clerk.router)
    app.include_router(staff_booking.router)
    app.include_router(office.router)
    app.include_router(staff_hours.router)
    app.include_router(reviewer.router)
    app.include_router(auditor.router)
    app.include_router(privileged.router)
    app.include_router(network.router)
    app.include_router(desk.router)
    app.include_router(messages.router)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def register_database_gauges() -> None:
    """The gauges /metrics reads from the database at each scrape, each with the domain function that reads it:
    what alerts need to fire on a failure, not on a timer having run (deploy/prometheus/safeslot-alerts.yml)."""
    from safeslot.notifications import interfaces as notifications
    from safeslot.transparency import interfaces as transparency

    DATABASE.register("safeslot_log_checkpoint_age_seconds", "Seconds since the newest log checkpoint was signed",
                      (), transparency.checkpoint_age)
    DATABASE.register("safeslot_outbox_messages", "Outbox messages waiting (queued), being sent and dead, by state",
                      ("status",), notifications.backlog)
    DATABASE.register("safeslot_outbox_oldest_due_seconds",
                      "Seconds since the oldest outbox message due now was queued (0: none due)", (),
                      notifications.oldest_due)


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
    register_database_gauges()
    DATABASE.attach(app.state.sessionmaker, app.state.clock)
    app.state.keyring = keyring or load_key_ring(
        settings.crypto.key_file, settings.crypto.keys, create=settings.is_demo
    )
    install_handlers(app)

    _mount_domains(app, settings)

    from safeslot.identity import authz

    health.install(app)
    # The answers of the layers around the endpoints, documented (safeslot/openapi.py); which operations need a
    # credential is identity's table, passed in, so the kernel's openapi.py imports no domain.
    openapi.install(app, needs_credentials=authz.needs_credentials)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics_endpoint() -> Response:
        """Prometheus metrics: an auditor's or administrator's token, or the separate metrics_bind address."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/problems/{slug}", tags=["operations"], include_in_schema=False)
    def problem_page(slug: str) -> Response:
        """The page a problem's ``type`` points at: its title, status and what it means (the error
        class's docstring)."""
        doc = problem_doc(slug)
        if doc is None:
            raise NotFound("There is no problem type with this name; the 'type' of an answer links to its page.")
        return Response(f"{doc.title} ({doc.status})\n\n{doc.text}\n", media_type="text/plain; charset=utf-8")

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
        Middleware(RateLimitMiddleware, stage="address"),  # headers only, before any body is read
        *authz,
        Middleware(
            BodyLimitMiddleware, max_body=settings.server.max_body_bytes, max_upload=settings.server.max_upload_bytes,
            body_timeout=settings.server.body_timeout_seconds,
        ),
        Middleware(EdgeGuard),
        Middleware(RateLimitMiddleware, stage="action"),  # needs the bounded body (booking office, username)
        *others,
    ]
