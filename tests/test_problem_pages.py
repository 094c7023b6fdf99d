"""Every problem type an answer can name has a page of its own at ``/problems/<slug>``.

The page is the error class's docstring (or the text a middleware gave `register_problem`), so
a new error class without a docstring, or two classes sharing a slug, fail here.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from fastapi.testclient import TestClient

import safeslot
from safeslot.kit import errors
from safeslot.kit.errors import problem_classes, problem_docs, register_problem


def _import_everything() -> None:
    for module in pkgutil.walk_packages(safeslot.__path__, "safeslot."):
        if module.name != "safeslot.asgi":  # builds an app from the environment's settings
            importlib.import_module(module.name)


def test_every_error_class_has_its_own_slug_and_its_own_text() -> None:
    _import_everything()
    classes = problem_classes()
    assert len(classes) > 60, "the error classes of every domain were found"
    shared = {slug: [c.__qualname__ for c in found] for slug, found in classes.items() if len(found) > 1}
    assert shared == {}, f"two error classes share a problem type: {shared}"
    undocumented = sorted(slug for slug, (cls,) in classes.items() if not (cls.__dict__.get("__doc__") or "").strip())
    assert undocumented == [], f"these error classes need a docstring (it is their /problems page): {undocumented}"
    texts: dict[str, str] = {}
    for slug, doc in problem_docs().items():
        assert doc.text not in texts, f"{slug} and {texts.get(doc.text)} have the same page text"
        texts[doc.text] = slug


def test_every_problem_page_shows_its_own_title_and_text(client: TestClient) -> None:
    _import_everything()
    docs = problem_docs()
    for slug in ("rate-limited", "database-unavailable", "payload-too-large", "request-timeout", "internal",
                 "malformed-json", "invalid-input", "slot-full", "sign-in-failed", "disclosure-request-refused"):
        assert slug in docs, f"/problems/{slug} is answered by the service but has no page"
    generic = "See the 'detail' of the response"
    for slug, doc in docs.items():
        r = client.get(f"/problems/{slug}")
        assert r.status_code == 200, slug
        assert r.headers["content-type"].startswith("text/plain")
        assert doc.title in r.text and doc.text in r.text and generic not in r.text, slug
        assert f"({doc.status})" in r.text
    slot_full = client.get("/problems/slot-full").text
    assert "nearest free times" in slot_full and slot_full != client.get("/problems/read-refused").text


def test_an_unknown_problem_type_is_not_found(client: TestClient) -> None:
    r = client.get("/problems/no-such-problem")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_a_problem_type_cannot_be_documented_twice_with_different_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors, "_OTHER_PROBLEMS", dict(errors._OTHER_PROBLEMS))  # leave the registry as it was
    register_problem("test-only-twice", "Twice", 400, "The first text.")
    register_problem("test-only-twice", "Twice", 400, "The first text.")  # the same again is harmless
    with pytest.raises(ValueError, match="twice"):
        register_problem("test-only-twice", "Twice", 400, "Another text.")
    with pytest.raises(ValueError, match="twice"):
        register_problem("slot-full", "Full", 409, "Shadowing an error class's page.")
