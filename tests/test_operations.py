"""Operations endpoints: /healthz (database reachable, migrations current) and /metrics."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text, update
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Settings
from safeslot.db import build_engine
from safeslot.kit.crypto import KeyRing
from safeslot.scheduling import demo
from safeslot.scheduling.models import SlotCapacity
from tests.conftest import NOW, drop_later
from tests.identity.helpers import staff_headers
from tests.scheduling.conftest import first_free


def test_healthz_ok_on_a_migrated_database(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["migrations"]


@pytest.fixture
def empty_url(backend: str, pg_admin_url: str | None, tmp_path: Path) -> Iterator[str]:
    """A database that exists but was never migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if pg_admin_url is None:
        pytest.skip("no PostgreSQL")
    name = f"safeslot_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    admin.dispose()
    drop_later(pg_admin_url, name)  # PostgreSQL checkpoints for a DROP DATABASE: not while the tests wait


def test_healthz_is_503_while_migrations_are_pending(empty_url: str, settings: Settings, keyring: KeyRing) -> None:
    engine = build_engine(empty_url)
    try:
        client = TestClient(create_app(settings, engine=engine, keyring=keyring), raise_server_exceptions=False)
        r = client.get("/healthz")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/migrations-pending"
        assert "safeslot db upgrade" in r.json()["detail"]
    finally:
        engine.dispose()


def _samples(client: TestClient) -> dict[str, float]:
    r = client.get("/metrics")  # with the auditor's token the test set (tests/test_leaks.py: not public)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}"] = s.value
    return out


def test_metrics_count_bookings_conflicts_and_requests(
    client: TestClient, session: Session, keyring: KeyRing
) -> None:
    demo.load(session, NOW.date(), weeks=1)
    session.flush()
    client.headers.update(staff_headers(session, keyring, ["auditor"], None))
    start = first_free(client, "card")
    before = _samples(client)
    body = {"office": "central", "service": "card", "starts_at": start, "name": "M. Example"}
    assert client.post("/api/v1/appointments", json=body).status_code == 201
    session.execute(update(SlotCapacity).values(capacity=SlotCapacity.booked))  # everything full now
    assert client.post("/api/v1/appointments", json=body).status_code == 409
    after = _samples(client)

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert delta("safeslot_bookings_total{}") == 1
    assert delta("safeslot_booking_conflicts_total{reason=slot}") == 1
    route = "method=POST,route=/api/v1/appointments"
    assert delta(f"safeslot_http_requests_total{{{route},status=201}}") == 1
    assert delta(f"safeslot_http_requests_total{{{route},status=409}}") == 1
    assert delta(f"safeslot_http_request_seconds_count{{{route}}}") == 2
    # request paths are counted by template, never by raw path (codes are personal references)
    client.get("/api/v1/appointments/ZZZZZ-ZZZZZ")
    assert not any("ZZZZZ" in name for name in _samples(client))


def _documented_metrics() -> dict[str, set[str]]:
    """safeslot's metric names in docs/operations.md and the alert rules, each with the labels used with it."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "operations.md").read_text()
    monitoring = doc[doc.index("### Monitoring"):]
    monitoring = monitoring[:monitoring.index("\n### ", 1)]
    rules = yaml.safe_load((root / "deploy" / "prometheus" / "safeslot-alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    found: dict[str, set[str]] = {}
    for text_ in [monitoring, *exprs]:
        for name, labels in re.findall(r"\b(safeslot_[a-z_]+)(?:\{([^}]*)\})?", text_):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            found.setdefault(base, set()).update(
                m.group(1) for m in re.finditer(r"([a-z_]+)\s*(?:=~|!=|=|,|$)", labels) if m.group(1) != "le")
    return found


def test_the_documented_metrics_and_their_labels_are_the_ones_served() -> None:
    """Every safeslot_* name in docs/operations.md's Monitoring table and in the alert rules is a metric the
    app serves, with the labels the doc and the rules use (a renamed metric would silence an alert)."""
    from safeslot.kit.metrics import REGISTRY

    served = {m.name: set() for m in REGISTRY.collect()}
    for family in REGISTRY.collect():
        for sample in family.samples:
            served[family.name] |= set(sample.labels) - {"le"}
    # labelled families have no samples until used: their label names from the collectors themselves
    for collector in list(REGISTRY._collector_to_names):  # prometheus-client keeps them here
        names = getattr(collector, "_labelnames", ())
        for name in REGISTRY._collector_to_names[collector]:
            base = re.sub(r"_(total|bucket|count|sum|created)$", "", name)
            served.setdefault(base, set()).update(names)
    # the gauges read from the database at each scrape, as the app registers them
    from safeslot.app import register_database_gauges
    from safeslot.kit.metrics import DATABASE

    register_database_gauges()
    for name, (_, labels, _) in DATABASE.gauges.items():
        served.setdefault(name, set()).update(labels)
    documented = _documented_metrics()
    assert {"safeslot_http_requests_total", "safeslot_bookings_total",
            "safeslot_log_checkpoint_age_seconds", "safeslot_outbox_messages"} <= set(documented)
    for name, labels in documented.items():
        family = re.sub(r"_total$", "", name)
        assert family in served, f"{name} is documented or alerted on but not served"
        assert labels <= served[family], f"{name}: labels {labels - served[family]} are not served"


def test_metrics_read_the_checkpoint_age_and_the_outbox_from_the_database(
    client: TestClient, session: Session, keyring: KeyRing
) -> None:
    """What alerts fire on when a timer runs but its work fails: the newest checkpoint's age, and the outbox's
    messages waiting, dead and how long the oldest due one has waited (every server reads the same database)."""
    import datetime as dt

    from safeslot.notifications import outbox
    from safeslot.transparency import service as log
    from safeslot.transparency.note import Signer

    client.headers.update(staff_headers(session, keyring, ["auditor"], None))
    log.append_raw(session, [{"event": "policy.change", "time": "2027-02-01T10:00:00Z", "change_id": 1,
                              "step": "proposed"}], now=NOW)
    log.checkpoint(session, Signer.generate("ops.example/log"), NOW - dt.timedelta(minutes=10),
                   origin="ops.example/log")
    for i in range(3):
        outbox.enqueue(session, kind="reminder", ref=i, dedupe_key=f"ops-{i}", now=NOW - dt.timedelta(minutes=i))
    outbox.enqueue(session, kind="reminder", ref=9, dedupe_key="ops-later", now=NOW,
                   not_before=NOW + dt.timedelta(hours=1))  # a retry waiting for its time: not due
    session.flush()
    samples = _samples(client)
    assert samples["safeslot_log_checkpoint_age_seconds{}"] == 600
    assert samples["safeslot_outbox_messages{status=queued}"] == 4
    assert samples["safeslot_outbox_messages{status=dead}"] == 0
    assert samples["safeslot_outbox_oldest_due_seconds{}"] == 120
