"""One check of an RFC 9457 refusal, for tests that read an answer's problem body."""

from __future__ import annotations

from typing import Any


def problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    """Assert the answer is problem+json with ``status`` and ``/problems/<slug>``; return its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["type"] == f"/problems/{slug}", body
    return body
