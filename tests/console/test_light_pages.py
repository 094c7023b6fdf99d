"""Pages light enough for a prepaid phone: compressed, static files cached for a year, HEAD answered.

bench/pages.py measures the bytes in a real browser; these tests hold the
behaviour those figures rely on.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from safeslot.console import assets
from safeslot.delivery import mask_secret, unmask_secret
from tests.console.conftest import TOKEN, book, free_starts

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_pages_come_compressed_when_the_browser_accepts_it(client: TestClient, office: str) -> None:
    plain = client.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    squeezed = client.get("/", headers={"accept-encoding": "br"})
    assert squeezed.headers["content-encoding"] == "br" and "accept-encoding" in squeezed.headers["vary"].lower()
    assert int(squeezed.headers["content-length"]) < len(plain.content) / 2
    gz = client.get("/", headers={"accept-encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.text.startswith("<!doctype html>")


def test_static_files_have_hashed_names_cached_for_a_year(client: TestClient, office: str) -> None:
    page = client.get("/").text
    urls = ASSET.findall(page)
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), url
        answer = client.get(url, headers={"accept-encoding": "br, gzip"})
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    # a hash that is not the file's own is never served, so no cache keeps wrong bytes under a name
    stale = re.sub(r"\.[0-9a-f]{12}\.", ".000000000000.", urls[0])
    assert client.get(stale).status_code == 404
    assert client.get("/static/safeslot.000000000000.css/../../config.py").status_code == 404
    # the plain name still works, revalidated every time
    assert client.get("/static/safeslot.css").headers["cache-control"] == "no-cache"


def test_a_changed_file_gets_a_new_name(tmp_path: pytest.TempPathFactory) -> None:
    root = tmp_path  # type: ignore[assignment]
    (root / "a.css").write_text("body{}")  # type: ignore[operator]
    first = assets.asset_url("a.css", root)  # type: ignore[arg-type]
    (root / "a.css").write_text("body{color:red}")  # type: ignore[operator]
    assert assets.asset_url("a.css", root) != first  # type: ignore[arg-type]
    assert assets.asset_url("missing.css", root) == "/static/missing.css"  # type: ignore[arg-type]


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


def test_the_csrf_token_differs_on_every_page_and_each_one_works(client: TestClient, office: str) -> None:
    """BREACH: a secret repeated byte for byte in compressed pages leaks through their length."""
    first = TOKEN.search(client.get("/manage").text)
    second = TOKEN.search(client.get("/manage").text)
    assert first and second and first.group(1) != second.group(1)
    start = free_starts(client)[0]
    assert book(client, start).startswith("/booked/")


def test_a_forged_masked_token_is_refused(client: TestClient, office: str) -> None:
    start = free_starts(client)[0]
    form = {"office": "central", "service": "apply", "start": start, "name": "M. E.",
            "csrf_token": mask_secret("forged.0000")}
    client.get("/manage")
    assert client.post("/book", data=form, follow_redirects=False).status_code == 403


@given(st.text(min_size=1, max_size=200))
def test_masking_round_trips_and_never_repeats(token: str) -> None:
    masked = mask_secret(token)
    assert unmask_secret(masked) == token
    assert "." not in masked and masked.startswith("m_")


@given(st.text(max_size=100))
def test_unmasking_garbage_never_raises(text: str) -> None:
    assert isinstance(unmask_secret("m_" + text), str)

