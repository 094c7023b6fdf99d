"""Request metrics (kit/metrics.py): counted and timed by route template and status, never by the raw path
(a confirmation code or an office's name in a URL never becomes a label)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from safeslot.kit.metrics import REGISTRY, MetricsMiddleware


def _count(route: str, status: str) -> float:
    return REGISTRY.get_sample_value("safeslot_http_requests_total",
                                     {"route": route, "method": "GET", "status": status}) or 0.0


def test_requests_are_counted_by_route_template_and_status_not_by_path() -> None:
    app = FastAPI()

    @app.get("/api/v1/appointments/{code}")
    def _appointment(code: str) -> dict[str, str]:
        return {"code": code}

    app.add_middleware(MetricsMiddleware)
    template = "/api/v1/appointments/{code}"
    before, missing = _count(template, "200"), _count("unmatched", "404")
    with TestClient(app) as client:
        assert client.get("/api/v1/appointments/ABCDE-12345").status_code == 200
        assert client.get("/api/v1/appointments/FGHJK-67890").status_code == 200
        assert client.get("/nowhere").status_code == 404
    assert _count(template, "200") == before + 2
    assert _count("unmatched", "404") == missing + 1
    labels = {s.labels.get("route") for m in REGISTRY.collect() for s in m.samples}
    assert not any("ABCDE" in str(label) for label in labels)
    assert (REGISTRY.get_sample_value("safeslot_http_request_seconds_count", {"route": template, "method": "GET"})
            or 0) >= 2



def test_database_gauges_are_read_at_each_scrape_and_a_failed_read_leaves_them_out() -> None:
    """A gauge read from the database (the newest checkpoint's age, the outbox backlog) is read at each scrape;
    when the database is away the scrape still answers, without those gauges, never a 500."""
    import datetime as dt
    from contextlib import contextmanager
    from typing import Any

    from safeslot.kit.metrics import DatabaseGauges

    gauges, registry, state = DatabaseGauges(), CollectorRegistry(), {"fail": False, "value": 1.0}
    registry.register(gauges)

    def read(session: Any, now: dt.datetime) -> dict[tuple[str, ...], float]:
        if state["fail"]:
            raise ConnectionError("the database is away")
        return {("queued",): state["value"], ("dead",): 0.0}

    @contextmanager
    def sessions() -> Any:
        yield object()

    gauges.register("safeslot_test_messages", "Messages by state", ("status",), read)
    assert registry.get_sample_value("safeslot_test_messages", {"status": "queued"}) is None  # no sessions yet
    gauges.attach(sessions, lambda: dt.datetime(2027, 3, 1, tzinfo=dt.UTC))  # type: ignore[arg-type]
    assert registry.get_sample_value("safeslot_test_messages", {"status": "queued"}) == 1.0
    state["value"] = 7.0
    assert registry.get_sample_value("safeslot_test_messages", {"status": "queued"}) == 7.0
    state["fail"] = True
    assert registry.get_sample_value("safeslot_test_messages", {"status": "queued"}) is None
    assert "safeslot_test_messages" not in generate_latest(registry).decode()
