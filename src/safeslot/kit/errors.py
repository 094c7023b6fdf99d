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
    ├── Recorded                      (a mixin: the status comes from the other base)
    │   e.g. SignInFailed(Recorded, Unauthenticated), ReadRefused(Recorded, Forbidden)
    └── answered by the kernel itself: MalformedJson 400, MethodNotAllowed 405, HttpError,
        Internal 500; and beside their middlewares RequestTimeout 408 (kit/limits.py),
        RateLimited 429 (kit/ratelimit.py), DatabaseUnavailable 503 (failures.py),
        MigrationsPending and Unhealthy 503 (health.py)

Every problem has a stable ``type`` (``/problems/<slug>``, documented at that
URL), a short ``title`` and a ``detail`` that says what to do next. Each kind is declared
one way (see `DomainError`): slug, title and a new status in the class header, the page in
the docstring; the status is a class attribute inherited from the kind's base.

A `Recorded` error is a refusal that is itself a record: the sign-in failure count, the
log entry of a refused disclosure request, the auditors' alert about a refused read. The
session dependency (`deps.get_session`) commits what the request wrote before such an error
was raised, then the error is answered like any other; every other error rolls back.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

if TYPE_CHECKING:  # the web stack loads where an answer is written, not where an error is declared
    from fastapi import FastAPI, Request
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
    """Base of every error a service may raise; rendered as problem+json.

    One way to declare an error: its problem type, title and (for a new kind) status in the
    class header, its page in the docstring, the status inherited from the base otherwise::

        class SlotFull(Conflict, slug="slot-full", title=N_("That time is fully booked")):
            \"\"\"Someone booked the last place at that time first. …\"\"\"

    A class that sets a ``slug`` is a problem type of its own: ``/problems/<slug>`` serves its
    docstring. ``answers_as_another=True`` marks a class that answers, on purpose, exactly as
    another class does (same slug, same page), so that the answer reveals nothing the other would
    not (privacy.OfficeOutOfScope).
    """

    slug: ClassVar[str] = "error"
    title: ClassVar[str] = N_("Something went wrong")
    status: ClassVar[int] = 400
    answers_as_another: ClassVar[bool] = False

    def __init_subclass__(cls, *, slug: str | None = None, title: str | None = None, status: int | None = None,
                          answers_as_another: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if {"slug", "title", "status"} & cls.__dict__.keys():
            raise TypeError(f"{cls.__qualname__}: declare slug, title and status in the class header "
                            "(class X(Base, slug=..., title=N_(...))), not as attributes")
        if (slug is None) != (title is None):
            raise TypeError(f"{cls.__qualname__}: a problem type of its own needs both a slug and a title")
        if status is not None:
            cls.status = status
        cls.answers_as_another = answers_as_another
        if slug is not None and title is not None:
            cls.slug, cls.title = slug, title
            if not answers_as_another:
                _ERROR_CLASSES.setdefault(slug, []).append(cls)  # its docstring is its page

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError, slug="not-found", title=N_("Not found"), status=404):
    """There is no record at this address, or it is not yours to see. Check the number or code and
    try again.
    """


class InvalidInput(DomainError, slug="invalid-input", title=N_("Some input is not valid"), status=422):
    """A value in the request cannot be used as sent. The detail names the fields; fix them and send
    again.
    """


class Conflict(DomainError, slug="conflict", title=N_("The request conflicts with the current state"), status=409):
    """The request no longer fits the current state (someone changed it first). Reload, then decide
    again.
    """


class IdempotencyKeyReused(Conflict, slug="idempotency-key-reused",
                           title=N_("This Idempotency-Key was used for a different request")):
    """This Idempotency-Key already answered a different request. Use a new key for a new request;
    resend the same body to get the first answer again.
    """


class Forbidden(DomainError, slug="forbidden", title=N_("Your role may not do this"), status=403):
    """You are signed in, but your role may not do this. Ask a person whose job it is."""


class Unauthenticated(DomainError, slug="unauthenticated", title=N_("Sign-in required"), status=401):
    """This needs a valid sign-in: the token or session is missing, expired or revoked. Sign in
    again.
    """


class PayloadTooLarge(DomainError, slug="payload-too-large", title=N_("The request body is too large"), status=413):
    """The request body is larger than this address accepts. Nothing was saved; send less."""


class Unavailable(DomainError, slug="unavailable", title=N_("Service unavailable"), status=503):
    """Something the service depends on (the database, a key, a provider) is not available. Nothing
    was saved; try again later.
    """


class Recorded(DomainError):
    """A refusal whose writes are kept: the request's session commits them, then answers the error.

    Mix it in before the class that gives the status (``class SignInFailed(Recorded,
    Unauthenticated)``). Raise it only when everything the request wrote so far is the record
    of the refusal itself (a failure count, a refusal log entry, an alert), never after a
    write the refusal should undo: those would be committed too.
    """


@dataclass(frozen=True)
class ProblemDoc:
    """What ``/problems/<slug>`` says about one problem type."""

    slug: str
    title: str
    status: int
    text: str


def _class_doc(cls: type[DomainError]) -> ProblemDoc:
    return ProblemDoc(cls.slug, cls.title, cls.status, inspect.cleandoc(cls.__dict__.get("__doc__") or ""))


def problem_doc(slug: str) -> ProblemDoc | None:
    """The page of a problem type, or None when no error class declares it."""
    classes = _ERROR_CLASSES.get(slug)
    return _class_doc(classes[0]) if classes else None


def status_for(exc: DomainError) -> int:
    """The HTTP status of an error: declared on its kind (``NotFound`` is 404), inherited below it."""
    return exc.status


def problem_body(status: int, slug: str, title: str, detail: str, instance: str | None = None, **extra: Any) -> bytes:
    """The problem+json document itself (for answers written outside FastAPI, e.g. the booking fast path)."""
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return orjson.dumps(body)


def problem_for(kind: type[DomainError], detail: str, instance: str | None = None, **extra: Any) -> Response:
    """The answer of one declared kind of problem (its status, slug and title), with this detail."""
    return problem_response(kind.status, kind.slug, kind.title, detail, instance, **extra)


def problem_response(
    status: int, slug: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> Response:
    from starlette.responses import Response

    body = problem_body(status, slug, title, detail, instance, **extra)
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="safeslot"'
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# Problems the kernel's handlers answer without a service raising them: declared the same way, so
# each has its page.
class MalformedJson(DomainError, slug="malformed-json", title=N_("The body is not valid JSON")):
    """The request body could not be read as JSON. Send one JSON object with
    ``Content-Type: application/json``; check the quotes and commas.
    """


class MethodNotAllowed(DomainError, slug="method-not-allowed", title=N_("Method Not Allowed"), status=405):
    """This address does not take this HTTP method. The API description at /docs lists the
    methods each address takes.
    """


class HttpError(DomainError, slug="http-error", title=N_("The request could not be served")):
    """The request could not be served as sent; the status and detail of the answer say why."""


class Internal(DomainError, slug="internal", title=N_("Internal error"), status=500):
    """The request was not completed and nothing was saved. This is a mistake on our side and is
    logged without your data; try again later.
    """


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


# FastAPI's words when reading a JSON body fails other than as a JSON syntax error (bytes that are not UTF-8,
# arrays nested past the parser's depth): answered as the malformed JSON it is.
BODY_UNREADABLE = "There was an error parsing the body"


def install_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return problem_response(
            status_for(exc), exc.slug, exc.title, exc.detail, instance=request.url.path, **exc.extra
        )

    def _malformed(request: Request) -> Response:
        return problem_for(MalformedJson, "Send a JSON object with Content-Type: application/json; "
                           "check quotes and commas.", instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                return _malformed(request)
            # Never echo the submitted value back: it may be personal data.
            errors.append({"field": _field_name(tuple(err.get("loc", ()))), "message": err.get("msg", "")})
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem_for(InvalidInput, f"Fix these fields and send again: {fields}.", instance=request.url.path,
                           errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == BODY_UNREADABLE:
            return _malformed(request)  # not UTF-8, or nested past the parser's depth: not JSON either
        slug = {404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge}.get(exc.status_code, HttpError).slug
        detail = str(exc.detail)
        if exc.status_code == 404:
            detail = "There is nothing at this address. See /docs for the API."
        return problem_response(exc.status_code, slug, str(exc.detail), detail, instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # No stack trace and no exception text: it may carry personal data.
        return problem_for(Internal, "The request was not completed and nothing was saved. Try again later.",
                           instance=request.url.path)
