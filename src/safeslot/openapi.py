"""The OpenAPI document tells the truth: every status code and media type the server sends.

FastAPI documents what each endpoint declares; the answers that come from the
layers around the endpoints are added here, once, from the same facts those
layers use:

* every operation: 400 (malformed JSON or header), 404, 422 (invalid input —
  ``application/problem+json``, not FastAPI's ``application/json``), 429 (rate
  limits, ``Retry-After``), 503 (database unavailable, ``Retry-After``);
* operations with a body: 408 (body too slow), 413 (body too large);
* operations that change something: 409 (the world changed);
* operations that need credentials: 401 and 403 (which those are is identity's authorization table,
  ``identity/authz.py``, which app.py passes in as ``needs_credentials``: the kernel imports no domain).

Every error is RFC 9457 ``application/problem+json`` with the ``Problem``
schema. A 500 is not documented: it is a bug. tests/test_openapi_fuzz.py and
bench/fuzz.py check the server against this document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from safeslot.kit.errors import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, as every error of this API is answered.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "Stable identifier, e.g. /problems/slot-full."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What to do next."},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "Invalid input: each field."},
        "retry_after": {"type": "integer"},
    },
    "additionalProperties": True,
}
REF = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}

COMMON = {
    "400": "Malformed JSON or header",
    "404": "Nothing at this address, or no such record",
    "422": "Invalid input (`errors` names each field), or a value out of range",
    "429": "Too many requests: wait `Retry-After` seconds",
    "503": "The database is unavailable: nothing was saved, try again after `Retry-After` seconds",
}
WITH_BODY = {"408": "The request body came too slowly", "413": "The request body is too large"}
CHANGES = {"409": "The request conflicts with the current state"}
NEEDS_CREDENTIALS = {
    "401": "Sign-in required: no, expired or revoked credentials",
    "403": "Signed in, but this role may not (identity/authz.py)",
}
WITH_RETRY = {"429", "503"}


def _problem(description: str, status: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": REF}}}
    if status in WITH_RETRY:
        answer["headers"] = RETRY_AFTER
    return answer


NeedsCredentials = Callable[[str, str], bool]
"""Whether an operation (method, path template) needs a credential: identity's ``authz.needs_credentials``."""


def complete(schema: dict[str, Any], needs_credentials: NeedsCredentials) -> dict[str, Any]:
    """Add the answers of the layers around the endpoints to every operation of ``schema``."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            wanted = dict(COMMON)
            if "requestBody" in operation:
                wanted |= WITH_BODY
            if method != "get":
                wanted |= CHANGES
            if needs_credentials(method.upper(), path):
                wanted |= NEEDS_CREDENTIALS
            for status, description in wanted.items():
                existing = responses.get(status)
                if existing is None:
                    responses[status] = _problem(description, status)
                    continue
                content = existing.setdefault("content", {})
                content.pop("application/json", None)  # errors are problem+json (FastAPI's 422 says JSON)
                content.setdefault(PROBLEM_MEDIA_TYPE, {"schema": REF})
                if not content[PROBLEM_MEDIA_TYPE]:
                    content[PROBLEM_MEDIA_TYPE] = {"schema": REF}
                if status in WITH_RETRY:
                    existing.setdefault("headers", RETRY_AFTER)
            for status, answer in responses.items():  # any other error someone documented, as JSON or bare
                content = answer.get("content")
                if status.startswith(("4", "5")) and (not content or "application/json" in content):
                    answer["content"] = {PROBLEM_MEDIA_TYPE: {"schema": REF}}
    return schema


def install(app: FastAPI, *, needs_credentials: NeedsCredentials) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version,
                description=app.description, routes=app.routes, tags=app.openapi_tags, servers=app.servers,
            ), needs_credentials)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
