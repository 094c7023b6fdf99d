"""Domain errors and their one translation to RFC 9457 problem+json.

Hierarchy (domain code raises these; it never knows about HTTP)::

    DomainError
    ├── NotFound                      404  unknown office, service, code, request …
    ├── InvalidInput                  422  a value a person can fix (dates, names …)
    ├── Conflict                      409  the world changed: slot full, state machine
    │   ├── SlotFull (scheduling)
    │   └── IdempotencyKeyReused
    ├── Forbidden                     403  signed in, but this role may not
    ├── Unauthenticated               401  no, expired or revoked credentials
    ├── PayloadTooLarge               413
    ├── Unavailable                   503  a dependency (database, log key) is missing
    └── Recorded                      (a mixin: the status comes from the other base)
        e.g. SignInFailed(Recorded, Unauthenticated), ReadRefused(Recorded, Forbidden)

Every problem has a stable ``type`` (``/problems/<slug>``, documented at that
URL), a short ``title`` and a ``detail`` that says what to do next.

A `Recorded` error is a refusal that is itself a record: the sign-in failure count, the
log entry of a refused disclosure request, the auditors' alert about a refused read. The
session dependency (`db.get_session`) commits what the request wrote before such an error
was raised, then the error is answered like any other; every other error rolls back.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"


def N_(message: str) -> str:
    """Mark a message for the gettext catalogs (pybabel ``-k N_``); it is translated where it is shown.

    Error titles are marked so the console can show them in the page's language;
    problem+json answers stay in English (their ``type`` is the stable part).
    """
    return message


class DomainError(Exception):
    """Base of every error a service may raise; rendered as problem+json."""

    slug: ClassVar[str] = "error"
    title: ClassVar[str] = N_("Something went wrong")

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    slug = "not-found"
    title = N_("Not found")


class InvalidInput(DomainError):
    slug = "invalid-input"
    title = N_("Some input is not valid")


class Conflict(DomainError):
    slug = "conflict"
    title = N_("The request conflicts with the current state")


class IdempotencyKeyReused(Conflict):
    slug = "idempotency-key-reused"
    title = N_("This Idempotency-Key was used for a different request")


class Forbidden(DomainError):
    slug = "forbidden"
    title = N_("Your role may not do this")


class Unauthenticated(DomainError):
    slug = "unauthenticated"
    title = N_("Sign-in required")


class PayloadTooLarge(DomainError):
    slug = "payload-too-large"
    title = N_("The request body is too large")


class Unavailable(DomainError):
    slug = "unavailable"
    title = N_("Service unavailable")


class Recorded(DomainError):
    """A refusal whose writes are kept: the request's session commits them, then answers the error.

    Mix it in before the class that gives the status (``class SignInFailed(Recorded,
    Unauthenticated)``). Raise it only when everything the request wrote so far is the record
    of the refusal itself (a failure count, a refusal log entry, an alert), never after a
    write the refusal should undo: those would be committed too.
    """


# The one table from error class to HTTP status; the most specific class wins.
STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    InvalidInput: 422,
    Conflict: 409,
    Forbidden: 403,
    Unauthenticated: 401,
    PayloadTooLarge: 413,
    Unavailable: 503,
    DomainError: 400,
}

# Descriptions served at /problems/<slug>, filled by register_problem().
PROBLEM_DOCS: dict[str, str] = {}


def status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem_body(status: int, slug: str, title: str, detail: str, instance: str | None = None, **extra: Any) -> bytes:
    """The problem+json document itself (for answers written outside FastAPI, e.g. the booking fast path)."""
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return orjson.dumps(body)


def problem_response(
    status: int, slug: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> Response:
    body = problem_body(status, slug, title, detail, instance, **extra)
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="safeslot"'
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return problem_response(
            status_for(exc), exc.slug, exc.title, exc.detail, instance=request.url.path, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                return problem_response(
                    400,
                    "malformed-json",
                    "The body is not valid JSON",
                    "Send a JSON object with Content-Type: application/json; check quotes and commas.",
                    instance=request.url.path,
                )
            # Never echo the submitted value back: it may be personal data.
            errors.append({"field": _field_name(tuple(err.get("loc", ()))), "message": err.get("msg", "")})
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem_response(
            422,
            "invalid-input",
            "Some input is not valid",
            f"Fix these fields and send again: {fields}.",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
            exc.status_code, "http-error"
        )
        detail = str(exc.detail)
        if exc.status_code == 404:
            detail = "There is nothing at this address. See /docs for the API."
        return problem_response(exc.status_code, slug, str(exc.detail), detail, instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # No stack trace and no exception text: it may carry personal data.
        return problem_response(
            500,
            "internal",
            "Internal error",
            "The request was not completed and nothing was saved. Try again later.",
            instance=request.url.path,
        )
