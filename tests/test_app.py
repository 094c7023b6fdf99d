"""The assembled app (app.py): every domain's routes answer at their addresses, the API's document is
served, a problem's ``type`` links to a page that explains it, and the layers around the routes wrap every
answer (security headers and compression on errors too, HEAD wherever GET is). SQLite only: nothing here
depends on the database.

The layers themselves are tested by module: delivery (test_delivery.py), headers (test_headers.py), limits
(tests/kit/test_ratelimit.py, tests/kit/test_limits.py), failures (test_failures.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from safeslot import __version__
from tests.conftest import ON_SQLITE


@ON_SQLITE
@pytest.mark.parametrize("path", ["/", "/api/v1/offices", "/log/checkpoint", "/console/sign-in", "/healthz",
                                  "/queue/central", "/problems/slot-full"])
def test_every_domain_answers_at_its_address(client: TestClient, office: str, path: str) -> None:
    assert client.get(path).status_code in (200, 204), path


@ON_SQLITE
def test_the_api_document_names_the_app_and_every_domain(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert (document["info"]["title"], document["info"]["version"]) == ("safeslot", __version__)
    prefixes = {"/api/v1/offices", "/api/v1/appointments", "/api/v1/disclosure", "/log/checkpoint",
                "/api/v1/auth"}
    assert all(any(p.startswith(prefix) for p in document["paths"]) for prefix in prefixes)
    assert not any(p.startswith("/console") for p in document["paths"])  # pages are not the API


@ON_SQLITE
def test_a_problems_type_links_to_a_page_that_explains_it(client: TestClient) -> None:
    answer = client.get("/api/v1/offices/nowhere")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    page = client.get(answer.json()["type"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert page.text.startswith(answer.json()["title"])
    unknown = client.get("/problems/no-such-problem")
    assert unknown.status_code == 404 and unknown.json()["type"] == "/problems/not-found"


@ON_SQLITE
def test_the_outer_layers_wrap_error_answers_too(client: TestClient) -> None:
    missing = client.get("/api/v1/offices/nowhere", headers={"accept-encoding": "gzip"})
    assert missing.headers["x-content-type-options"] == "nosniff"
    page = client.get("/queue/nowhere", headers={"accept-encoding": "br"})  # a public page's 404 is a page
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers and page.headers["content-encoding"] == "br"
    head = client.head("/api/v1/offices/nowhere")
    assert head.status_code == 404 and head.content == b""
    assert client.get("/metrics").status_code == 401  # operations' figures are not public
