"""Compressed pages keep their secrets (BREACH): the CSRF token in a form is masked afresh on every page and
each one works; a forged one is refused. Compression and HEAD are tested in tests/test_delivery.py, the static
files' hashed names in test_assets.py; bench/pages.py measures the bytes in a real browser.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from safeslot.delivery import mask_secret
from tests.console.conftest import TOKEN, book, free_starts

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


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


