"""Static files (console/assets.py): named after a hash of their bytes and cached for a year, so a phone
fetches the stylesheet once; a name whose hash is not the file's own is never served; a changed file gets
a new name."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from safeslot.console import assets

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


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
