"""How answers leave the app (delivery.py): compressed when the browser accepts it, HEAD answered wherever
GET is (same headers, no content), and the secret in a compressed page masked afresh each time so its
length leaks nothing (BREACH). Pages light enough for a prepaid phone rely on these; bench/pages.py
measures the bytes in a real browser."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from safeslot.delivery import mask_secret, unmask_secret

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_pages_come_compressed_when_the_browser_accepts_it(client: TestClient, office: str) -> None:
    plain = client.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    squeezed = client.get("/", headers={"accept-encoding": "br"})
    assert squeezed.headers["content-encoding"] == "br" and "accept-encoding" in squeezed.headers["vary"].lower()
    assert int(squeezed.headers["content-length"]) < len(plain.content) / 2
    gz = client.get("/", headers={"accept-encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.text.startswith("<!doctype html>")


@pytest.mark.parametrize("path", ["/", "/manage", "/records", "/healthz", "/api/v1/offices", "/log/checkpoint",
                                  "/console/sign-in"])
def test_head_is_answered_wherever_get_is(client: TestClient, office: str, path: str) -> None:
    got = client.get(path, headers={"accept-encoding": "br"})
    head = client.head(path, headers={"accept-encoding": "br"})
    assert head.status_code == got.status_code
    assert head.content == b""
    assert head.headers.get("content-type") == got.headers.get("content-type")
    assert head.headers.get("content-encoding") == got.headers.get("content-encoding")


def test_head_of_a_hashed_stylesheet(client: TestClient, office: str) -> None:
    url = next(u for u in ASSET.findall(client.get("/").text) if u.endswith(".css"))
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["cache-control"].endswith("immutable")


def test_head_where_only_post_exists_is_still_refused(client: TestClient, office: str) -> None:
    assert client.head("/book").status_code == 405


@given(st.text(min_size=1, max_size=200))
def test_masking_round_trips_and_never_repeats(token: str) -> None:
    masked = mask_secret(token)
    assert unmask_secret(masked) == token
    assert "." not in masked and masked.startswith("m_")


@given(st.text(max_size=100))
def test_unmasking_garbage_never_raises(text: str) -> None:
    assert isinstance(unmask_secret("m_" + text), str)
