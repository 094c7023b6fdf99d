"""Leaks closed: /metrics, caching of personal data, CSP on every page, demo credentials
outside demo mode, bodies refused before they are read, body limits by route, agency storage quota."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from safeslot.app import create_app
from safeslot.config import Environment, Settings
from safeslot.disclosure.models import DisclosureRequest
from safeslot.identity import demo as identity_demo
from safeslot.kit.crypto import KeyRing, load_key_ring
from safeslot.scheduling import service as scheduling
from safeslot.transparency.note import CosignatureSigner
from tests.conftest import LENIENT_LIMITS, NOW
from tests.disclosure.conftest import PDF
from tests.disclosure.test_endpoints import meta, official, staff
from tests.identity.helpers import code_at, staff_headers

PROBLEM = "application/problem+json"


@pytest.fixture
def office_weeks() -> int:
    return 1


# -- /metrics --------------------------------------------------------------------------------------
def test_metrics_need_an_auditors_or_admins_token(client: TestClient, session: Session, keyring: KeyRing,
                                                  office: str) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=staff_headers(session, keyring, ["clerk"])).status_code == 403
    for role in ("auditor", "admin"):
        r = client.get("/metrics", headers=staff_headers(session, keyring, [role], None))
        assert r.status_code == 200 and "safeslot_http_requests_total" in r.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_on_a_separate_address_without_a_token(
    app_factory: Callable[..., TestClient], settings: Settings
) -> None:
    port = _free_port()
    separate = settings.model_copy(update={"server": settings.server.model_copy(
        update={"metrics_bind": f"127.0.0.1:{port}"})})
    with app_factory(settings=separate) as client:
        client.get("/api/v1/offices")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert b"safeslot_http_requests_total" in answer.read()
        assert client.get("/metrics").status_code == 401  # the main address still wants a token


# -- caching and CSP -------------------------------------------------------------------------------
def test_json_with_personal_data_is_never_cached(client: TestClient, office: str) -> None:
    day = (NOW.date() + dt.timedelta(days=1)).isoformat()
    slots = client.get("/api/v1/slots", params={"office": office, "service": "apply", "from": day}).json()
    booked = client.post("/api/v1/appointments", json={"office": office, "service": "apply",
                                                       "starts_at": slots[0]["starts_at"], "name": "Test Person A"})
    assert booked.status_code == 201 and booked.headers["cache-control"] == "no-store"
    code = booked.json()["code"]
    for r in (client.get(f"/api/v1/appointments/{code}"),
              client.post(f"/api/v1/appointments/{code}/cancel"),
              client.post("/api/v1/accounting/lookup", json={"code": code, "name": "Test Person A"}),
              client.get("/api/v1/appointments/NOSUCHCODE")):
        assert r.headers["cache-control"] == "no-store", r.request.url
        assert r.headers["x-content-type-options"] == "nosniff"


def test_every_html_page_has_a_content_security_policy(client: TestClient, office: str) -> None:
    for path in ("/", "/manage", "/records", "/console/sign-in", "/docs", "/redoc", "/transparency/report"):
        r = client.get(path)
        assert r.headers["content-type"].startswith("text/html"), path
        policy = r.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "'unsafe-inline'" not in policy, path
    docs = client.get("/docs")
    # Swagger's inline start-up script is allowed by its hash, and only that
    assert "'sha256-" in docs.headers["content-security-policy"]


def test_a_report_pages_inline_style_is_allowed_by_its_hash_and_nothing_else() -> None:
    import base64
    import hashlib

    from safeslot.headers import content_security_policy

    style = b"body{font-family:serif}"
    page = b"<!doctype html><style>" + style + b'</style><script type="application/json">{"a":1}</script>'
    policy = content_security_policy(page, "/transparency/report/2027H1")
    digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
    assert f"style-src 'self' 'sha256-{digest}'" in policy and "cdn" not in policy


# -- demo mode -------------------------------------------------------------------------------------
def test_environment_unset_is_production_and_refuses_the_placeholder_secret(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFESLOT_ENVIRONMENT", raising=False)
    monkeypatch.delenv("SAFESLOT_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="SAFESLOT_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("SAFESLOT_SECRET_KEY", "s" * 40)
    assert Settings().environment is Environment.production and not Settings().demo_credentials
    assert not Settings(environment=Environment.development).demo_credentials


@pytest.mark.parametrize("environment", [Environment.production, Environment.development])
def test_demo_credentials_are_refused_outside_demo_mode(
    engine: Engine, connection: Connection, session: Session, keyring: KeyRing, tmp_path: Path, office: str,
    environment: Environment,
) -> None:
    demo_settings = Settings(environment=Environment.demo, crypto={"key_file": tmp_path / "keys.json"},
                             log={"signing_key_file": tmp_path / "log.key"}, rate_limits=LENIENT_LIMITS)
    console = Console(record=True, width=400)
    identity_demo.load(session, demo_settings, console, office_id=scheduling.get_office(session, office).id)
    session.flush()
    printed = console.export_text()
    agency_key = printed.split("API key: ")[1].split()[0]
    totp_secret = printed.split("demo-admin / demo-admin-password / TOTP secret ")[1].split()[0]
    now = dt.datetime.now(dt.UTC)  # demo load issues the agency key at the real time
    sign_in = {"username": "demo-admin", "password": identity_demo.demo_password("admin"),
               "totp": code_at(totp_secret, now)}

    def client_in(settings: Settings) -> TestClient:
        ring = load_key_ring(tmp_path / "keys.json", None, create=False)  # the one demo load sealed with
        app = create_app(settings, engine=engine, bind=connection, clock=lambda: now, keyring=ring)
        return TestClient(app, raise_server_exceptions=False)

    demo_client = client_in(demo_settings)
    assert demo_client.get("/api/v1/disclosure-requests",
                           headers={"Authorization": f"Bearer {agency_key}"}).status_code == 200
    witness = CosignatureSigner.generate("witness.example").verifier().to_vkey()  # required outside demo mode
    other = demo_settings.model_copy(update={
        "environment": environment, "secret_key": "s" * 40,
        "log": demo_settings.log.model_copy(update={"witnesses": [f"https://witness.example {witness}"]}),
    })
    outside = client_in(other)
    r = outside.get("/api/v1/disclosure-requests", headers={"Authorization": f"Bearer {agency_key}"})
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
    r = outside.post("/api/v1/auth/token", json=sign_in)
    assert r.status_code == 401 and r.json()["type"] == "/problems/sign-in-failed"
    assert demo_client.post("/api/v1/auth/token", json=sign_in).status_code == 200


# -- bodies -----------------------------------------------------------------------------------------
def _asgi_post(app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """POST through the ASGI app; returns the status and how many body chunks the app pulled."""
    pulled = [0]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        if pulled[0] < len(chunks):
            pulled[0] += 1
            return {"type": "http.request", "body": chunks[pulled[0] - 1], "more_body": pulled[0] < len(chunks)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"testserver"), *headers], "client": ("192.0.2.9", 1),
             "server": ("testserver", 80)}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    return statuses[0], pulled[0]


def test_an_unauthenticated_upload_is_refused_before_it_is_read(client: TestClient) -> None:
    chunks = [b"x" * (1024 * 1024)] * 10
    headers = [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"10485760")]
    status, pulled = _asgi_post(client.app, "/api/v1/disclosure-requests", headers, chunks)
    assert status == 401 and pulled == 0


def test_body_limits_go_by_route_not_by_content_type(client: TestClient) -> None:
    big = b"--x\r\n" + b"a" * (2 * 1024 * 1024)
    r = client.post("/api/v1/appointments", content=big,
                    headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    status, _ = _asgi_post(client.app, "/api/v1/auth/token",
                           [(b"content-type", b"multipart/form-data; boundary=x")], [big])
    assert status == 413


def test_an_agency_has_a_storage_quota(
    app_factory: Callable[..., TestClient], settings: Settings, session: Session, keyring: KeyRing, office: str
) -> None:
    agent = official(session, keyring, staff(session, keyring, "po", ["privacy_officer"]))
    session.flush()
    first = app_factory().post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                               data={"metadata": meta()})
    assert first.status_code == 201
    # The quota counts what the office stores: the document sealed at rest, a little larger than the upload.
    stored = session.scalar(select(func.max(func.length(DisclosureRequest.document))))
    assert stored is not None and stored >= len(PDF)
    small = settings.model_copy(update={"server": settings.server.model_copy(
        update={"agency_storage_quota_bytes": 3 * stored})})
    client = app_factory(settings=small)
    statuses = [client.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                            data={"metadata": meta()}).status_code for _ in range(3)]
    assert statuses == [201, 201, 413]
    r = client.post("/api/v1/disclosure-requests", headers=agent, files={"document": ("w.pdf", PDF)},
                    data={"metadata": meta()})
    assert r.json()["type"] == "/problems/storage-quota-exceeded" and "quota" in r.json()["detail"]
    assert len(client.get("/api/v1/disclosure-requests", headers=agent).json()) == 3
