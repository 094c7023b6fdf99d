"""Prometheus metrics (prometheus-client), exposed at /metrics to auditors and administrators
(identity/authz.py), or without a token on a separate address (``server.metrics_bind``).

Counters and histograms count what this process did; ``DATABASE``'s gauges are read from the database at
each scrape (what only the database knows, whichever server wrote it: the newest signed checkpoint, the
outbox's backlog and dead letters). app.py registers each gauge with the domain function that reads it and
hands in its sessions and clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "safeslot_http_requests_total", "HTTP requests by route template, method and status",
    ["route", "method", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "safeslot_http_request_seconds", "HTTP request latency by route template",
    ["route", "method"], registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BOOKINGS = Counter("safeslot_bookings_total", "Appointments booked", registry=REGISTRY)
CONFLICTS = Counter(
    "safeslot_booking_conflicts_total", "Bookings refused because a slot or interpreter was full",
    ["reason"], registry=REGISTRY,
)

BATCH_RETRIES = Counter(
    "safeslot_booking_batch_retries_total",
    "Fast-path booking batches run again after a deadlock or serialization failure (none expected: one lock order)",
    ["reason"], registry=REGISTRY,
)


# A gauge's reader: (session, now) -> value by label values (``()`` for a gauge without labels); a value left
# out is not served (no checkpoint yet: no age).
GaugeReader = Callable[[Session, dt.datetime], Mapping[tuple[str, ...], float]]


class DatabaseGauges(Collector):
    """Gauges read from the database at scrape time. A read that fails (the database away in a failover) leaves
    the gauges out of that scrape, logged by exception class: the scrape still answers, and the database's own
    alerts say what is wrong."""

    def __init__(self) -> None:
        self.gauges: dict[str, tuple[str, tuple[str, ...], GaugeReader]] = {}
        self._sessions: Callable[[], AbstractContextManager[Session]] | None = None
        self._clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def register(self, name: str, documentation: str, labels: tuple[str, ...], read: GaugeReader) -> None:
        self.gauges[name] = (documentation, labels, read)

    def attach(self, sessions: Callable[[], AbstractContextManager[Session]],
               clock: Callable[[], dt.datetime]) -> None:
        """Read through these sessions from now on (the latest app built; a process builds one)."""
        self._sessions, self._clock = sessions, clock

    def describe(self) -> Iterator[GaugeMetricFamily]:
        for name, (documentation, labels, _) in self.gauges.items():
            yield GaugeMetricFamily(name, documentation, labels=list(labels))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self._sessions is None or not self.gauges:
            return
        families = []
        try:
            with self._sessions() as session:
                now = self._clock()
                for name, (documentation, labels, read) in self.gauges.items():
                    family = GaugeMetricFamily(name, documentation, labels=list(labels))
                    for values, value in read(session, now).items():
                        family.add_metric(list(values), value)
                    families.append(family)
        except Exception as exc:  # the database is away: serve the rest of the scrape
            logging.getLogger(__name__).warning("database gauges not read: %s", type(exc).__name__)
            return
        yield from families


DATABASE = DatabaseGauges()
REGISTRY.register(DATABASE)


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times requests by route template (never by raw path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def _send(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            REQUESTS.labels(template, method, str(status["code"])).inc()
            LATENCY.labels(template, method).observe(time.perf_counter() - started)


def start_metrics_server(bind: str | None) -> Callable[[], None]:
    """Serve the registry on a separate address (no token there: bind it where only monitoring reaches)."""
    if not bind:
        return lambda: None
    host, _, port = bind.rpartition(":")
    try:
        server, thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=REGISTRY)
    except OSError as exc:  # another worker has it, or the port is taken
        logging.getLogger(__name__).warning("metrics not served on %s: %s", bind, exc.strerror)
        return lambda: None

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
