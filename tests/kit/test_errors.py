"""Every problem type an answer can name has a page of its own at ``/problems/<slug>``.

The page is the error class's docstring (middlewares answer from classes too), so a new error
class without a docstring, or two classes sharing a slug, fail here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from fastapi.testclient import TestClient

import safeslot
from safeslot.kit import errors
from safeslot.kit.errors import Conflict, DomainError, ProblemDoc


def problem_classes() -> dict[str, list[type[DomainError]]]:
    """slug -> the error classes that carry it (each slug must have exactly one)."""
    return {slug: list(found) for slug, found in errors._ERROR_CLASSES.items()}


def problem_docs() -> dict[str, ProblemDoc]:
    """Every problem type known so far (error classes register when their module is imported)."""
    return {slug: doc for slug in errors._ERROR_CLASSES if (doc := errors.problem_doc(slug)) is not None}


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


def test_an_error_is_declared_one_way_only() -> None:
    # slug, title and status go in the class header; as attributes they would silently lose the
    # page (and the status), so the class is refused when it is defined.
    with pytest.raises(TypeError, match="class header"):
        class _Attributes(Conflict):
            """Declared the old way."""

            slug = "test-only-attributes"
    with pytest.raises(TypeError, match="both a slug and a title"):
        class _NoTitle(Conflict, slug="test-only-no-title"):
            """A slug without a title."""
    assert "test-only-attributes" not in problem_docs() and "test-only-no-title" not in problem_docs()


def test_a_kind_declares_its_status_once_and_every_error_below_it_inherits_it() -> None:
    _import_everything()
    assert {slug: doc.status for slug, doc in problem_docs().items()
            if slug in ("slot-full", "not-found", "rate-limited", "request-timeout", "database-unavailable",
                        "sign-in-failed", "internal")} == {
        "slot-full": 409, "not-found": 404, "rate-limited": 429, "request-timeout": 408,
        "database-unavailable": 503, "sign-in-failed": 401, "internal": 500}
    assert DomainError.status == 400


def test_a_problem_page_speaks_to_the_caller_not_of_the_code() -> None:
    # The docstring is the page a caller reads at /problems/<slug>: what happened and what to do, in their
    # words. How the code keeps a refusal (a `Recorded` kind) or where it lives goes in a comment instead.
    _import_everything()
    code_words = re.compile(r"\bRecorded\b|\.py\b|\braises?\b|\bclass\b|\bcommit")
    found = sorted(slug for slug, doc in problem_docs().items() if code_words.search(doc.text))
    assert found == [], "say what happened and what to do instead"
