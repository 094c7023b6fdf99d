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

import inspect
from dataclasses import dataclass
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


_ERROR_CLASSES: dict[str, list[type[DomainError]]] = {}


class DomainError(Exception):
    """Base of every error a service may raise; rendered as problem+json."""

    slug: ClassVar[str] = "error"
    title: ClassVar[str] = N_("Something went wrong")

    # True on a class that answers, on purpose, exactly as another class does (same slug, same
    # page), so that the answer reveals nothing the other would not (privacy.OfficeOutOfScope).
    answers_as_another: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slug" in cls.__dict__ and not cls.__dict__.get("answers_as_another", False):
            _ERROR_CLASSES.setdefault(cls.slug, []).append(cls)  # a problem type of its own: its docstring

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """There is no record at this address, or it is not yours to see. Check the number or code and
    try again.
    """

    slug = "not-found"
    title = N_("Not found")


class InvalidInput(DomainError):
    """A value in the request cannot be used as sent. The detail names the fields; fix them and send
    again.
    """

    slug = "invalid-input"
    title = N_("Some input is not valid")


class Conflict(DomainError):
    """The request no longer fits the current state (someone changed it first). Reload, then decide
    again.
    """

    slug = "conflict"
    title = N_("The request conflicts with the current state")


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key already answered a different request. Use a new key for a new request;
    resend the same body to get the first answer again.
    """

    slug = "idempotency-key-reused"
    title = N_("This Idempotency-Key was used for a different request")


class Forbidden(DomainError):
    """You are signed in, but your role may not do this. Ask a person whose job it is."""

    slug = "forbidden"
    title = N_("Your role may not do this")


class Unauthenticated(DomainError):
    """This needs a valid sign-in: the token or session is missing, expired or revoked. Sign in
    again.
    """

    slug = "unauthenticated"
    title = N_("Sign-in required")


class PayloadTooLarge(DomainError):
    """The request body is larger than this address accepts. Nothing was saved; send less."""

    slug = "payload-too-large"
    title = N_("The request body is too large")


class Unavailable(DomainError):
    """Something the service depends on (the database, a key, a provider) is not available. Nothing
    was saved; try again later.
    """

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



@dataclass(frozen=True)
class ProblemDoc:
    """What ``/problems/<slug>`` says about one problem type."""

    slug: str
    title: str
    status: int
    text: str


# Problem types answered outside a DomainError (by the middlewares and handlers of the kernel),
# each registered where it is answered with `register_problem`.
_OTHER_PROBLEMS: dict[str, ProblemDoc] = {}


def register_problem(slug: str, title: str, status: int, text: str) -> None:
    """Document a problem type that no DomainError class carries (a middleware's 413, 429, 503 …).

    Error classes need no call: each DomainError subclass that sets its own ``slug`` is
    registered when it is defined, with its docstring as its page.
    """
    doc = ProblemDoc(slug, title, status, inspect.cleandoc(text))
    if _OTHER_PROBLEMS.get(slug, doc) != doc or slug in _ERROR_CLASSES:
        raise ValueError(f"problem type {slug!r} is registered twice with different texts")
    _OTHER_PROBLEMS[slug] = doc


def _class_doc(cls: type[DomainError]) -> ProblemDoc:
    status = next((STATUS[c] for c in cls.__mro__ if c in STATUS), 400)
    return ProblemDoc(cls.slug, cls.title, status, inspect.cleandoc(cls.__dict__.get("__doc__") or ""))


def problem_doc(slug: str) -> ProblemDoc | None:
    """The page of a problem type, or None when no error class or `register_problem` names it."""
    classes = _ERROR_CLASSES.get(slug)
    if classes:
        return _class_doc(classes[0])
    return _OTHER_PROBLEMS.get(slug)


def problem_docs() -> dict[str, ProblemDoc]:
    """Every problem type known so far (error classes register when their module is imported)."""
    found = {slug: _class_doc(classes[0]) for slug, classes in _ERROR_CLASSES.items()}
    return {**_OTHER_PROBLEMS, **found}


def problem_classes() -> dict[str, list[type[DomainError]]]:
    """slug -> the error classes that carry it (a test checks each slug has exactly one)."""
    return {slug: list(classes) for slug, classes in _ERROR_CLASSES.items()}


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


register_problem("malformed-json", N_("The body is not valid JSON"), 400, """
    The request body could not be read as JSON. Send one JSON object with
    ``Content-Type: application/json``; check the quotes and commas.
""")
register_problem("method-not-allowed", N_("Method Not Allowed"), 405, """
    This address does not take this HTTP method. The API description at /docs lists the
    methods each address takes.
""")
register_problem("http-error", N_("The request could not be served"), 400, """
    The request could not be served as sent; the status and detail of the answer say why.
""")
register_problem("internal", N_("Internal error"), 500, """
    The request was not completed and nothing was saved. This is a mistake on our side and is
    logged without your data; try again later.
""")


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
