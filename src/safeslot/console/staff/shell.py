"""The staff console's shell: pages under /console for clerks, supervisors, reviewers and auditors.

Sign-in is a plain form (password + TOTP through the identity service) that sets
the same session cookie as ``POST /api/v1/auth/session``. Roles are enforced by
identity/authz.py (every route here has an entry) before any code here runs;
cookie POSTs must carry the session's CSRF token, which every form holds.
Pages that show personal data go through the privacy service, which writes an
access record per person shown. A refusal of the authorization middleware
(problem+json) becomes a page here: no session → the sign-in page, a wrong role
or an expired form → an error page. Domain errors are pages too (``StaffRoute``).

This module is what every staff page shares: the route class, ``page()`` (rendering with the
navigation), the confirmations (``DONE``), ``staff_office``, ``when`` and ``actor``; the pages of
each kind of work are in the modules beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, FastAPI, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, Response

from safeslot.console import csrf, i18n, pages
from safeslot.console.i18n import N_
from safeslot.console.labels import label
from safeslot.console.pages import PAGE_HEADERS, PageRoute, environment, language, render, see_other
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.disclosure.schemas import Actor
from safeslot.identity import service as identity
from safeslot.identity.errors import AccountLocked
from safeslot.identity.guard import SESSION_COOKIE, StaffDep, session_csrf_token
from safeslot.identity.service import Principal
from safeslot.kit.errors import DomainError, InvalidInput, Recorded, status_for
from safeslot.scheduling.interfaces import Office, office_by_id, zone
from safeslot.scheduling.service import office_in_scope

# A route's page for a `Recorded` refusal (kit/errors.py): by the time it is rendered the request's
# session has committed the refusal's record (a sign-in failure count), so the page is only an answer.
RefusalPage = Callable[[Request, DomainError], Awaitable[Response]]
REFUSAL_PAGES: dict[Callable[..., Any], RefusalPage] = {}
F = TypeVar("F", bound=Callable[..., Any])


def refusal_page(page: RefusalPage) -> Callable[[F], F]:
    """Answer this route's `Recorded` refusals with ``page`` (its form again, with the message) instead
    of the error page. Put it below the route's decorator."""
    def register(endpoint: F) -> F:
        REFUSAL_PAGES[endpoint] = page
        return endpoint
    return register


class StaffRoute(PageRoute):
    """Errors are pages; a domain error's detail (what to do next, never personal data) is shown to staff;
    a route's `Recorded` refusals may have a page of their own (``refusal_page``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super(PageRoute, self).get_route_handler()
        wrapped = PageRoute.get_route_handler(self)

        async def staff_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                if isinstance(exc, Recorded) and (refused := REFUSAL_PAGES.get(self.endpoint)) is not None:
                    return await refused(request, exc)
                status = status_for(exc)
                context = {"title": exc.title, "advice": _advice(request, exc, status), "console": True}
                return render(request, "error.html", context, status=status, page_url="/console")
            except Exception:
                return await wrapped(request)  # logged without details, the generic error page

        return staff_handler


# What to do next, by kind of error, for a language the error's own detail is not translated into.
STATUS_ADVICE = {
    401: N_("Sign in again, then retry."),
    403: N_("Your account may not do this. Ask a supervisor or an administrator if you need it."),
    404: N_("Check the link, or go back to the list and open it from there."),
    409: N_("Someone may have changed this just now. Reload the page to see where it stands."),
    413: N_("What you sent is too large. Send less, then try again."),
    503: N_("Nothing was changed. Try again in a few minutes; if it goes on, tell the administrator."),
}
DEFAULT_STAFF_ADVICE = N_("Check what you entered, then try again. Nothing was changed.")


def _advice(request: Request, exc: DomainError, status: int) -> str:
    """The error's own detail (it says what to do, never personal data) when the page's language has it;
    otherwise the advice for its kind, so a Spanish page is all Spanish."""
    lang = language(request)
    if lang == i18n.DEFAULT or i18n.translations(lang).gettext(exc.detail) != exc.detail:
        return exc.detail
    return STATUS_ADVICE.get(status, DEFAULT_STAFF_ADVICE)


router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])


OPEN = ("in_review", "info_requested")
HOME_BY_ROLE = (("clerk", "/console/appointments"), ("supervisor", "/console/office"),
                ("privacy_officer", "/console/disclosures"), ("counsel", "/console/disclosures"),
                ("auditor", "/console/audit"), ("admin", "/console/privileged"))
DONE = {
    "retried": N_("The message is back in the outbox: it will be sent within a minute."),
    "status": N_("The appointment was updated."),
    "office": N_("The office is updated. The free times of the next 8 weeks follow the change."),
    "approve": N_("Your approval is recorded."),
    "accept": N_("You accepted this request for review: its matches are shown below."),
    "released": N_("Both approvals stand: the request is approved and released."),
    "deny": N_("The request is denied."),
    "narrow": N_("The scope is narrowed. Both reviewers must approve again."),
    "ask": N_("Your question was sent to the requester."),
    "attested": N_("Your check of the document is recorded. You may approve now."),
    "sent_back": N_("The document does not match what was typed: the request went back to the requester, "
                    "or was decided again on what the document shows."),
    "verified": N_("The log is verified: every entry matches the signed checkpoint."),
    # the walk-in desk (staff/desk.py)
    "called": N_("The next ticket is called: its number is on the lobby display."),
    "nobody": N_("Nobody is waiting whom you may serve."),
    "recall": N_("The ticket is called again."),
    "finished": N_("The visit is recorded."),
    "transferred": N_("The ticket waits for the other service now, in its arrival order."),
    "checked-in": N_("The person is checked in and waits for their turn."),
    # the network's offices (staff/network.py)
    "proposed": N_("Your proposal is recorded and in the public log. Another administrator approves it on the "
                   "privileged changes page."),
}


# -- refusals of the authorization middleware as pages -------------------------------------------
def install(app: FastAPI) -> None:
    """Wrap the whole app (outside every middleware) so /console refusals become pages for browsers
    (requests that accept text/html)."""
    build = app.build_middleware_stack

    def build_with_pages() -> Any:
        return ConsoleRefusals(build())

    app.build_middleware_stack = build_with_pages  # type: ignore[method-assign]


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


class ConsoleRefusals:
    def __init__(self, app: Callable[[Scope, Any, Any], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or not str(scope["path"]).startswith("/console")
                or b"text/html" not in dict(scope.get("headers") or []).get(b"accept", b"")):
            # API clients (and the authorization matrix test) keep problem+json; browsers get pages.
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if message["status"] in (401, 403) and headers.get(b"content-type", b"").startswith(
                        b"application/problem+json"):
                    held["status"] = message["status"]
                    return
            elif held:
                if message.get("more_body"):
                    held["body"] = held.get("body", b"") + message.get("body", b"")
                    return
                body = held.get("body", b"") + message.get("body", b"")
                response = _refusal_page(Request(scope), held["status"], body)
                await response(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, watch)


def _refusal_page(request: Request, status: int, body: bytes) -> Response:
    if status == 401:
        return see_other("/console/sign-in")
    if b"csrf-refused" in body:
        return pages.error_page(request, "csrf", 403)
    context = {"title": N_("You do not have access to this page"), "console": True,
               "advice": N_("Your account does not have the role this page needs. Ask an administrator.")}
    return render(request, "error.html", context, status=403, page_url="/console")


# -- rendering -----------------------------------------------------------------------------------
def page(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> Response:
    """A console page: the session's CSRF token in every form; no language cookie games."""
    lang = language(request)
    principal: Principal = context.pop("staff")
    html = environment(lang).get_template(template).render(
        lang=lang, csrf_field=csrf.FIELD, csrf_token=session_csrf_token(request), staff=principal, label=label,
        nav=_nav(principal), path=request.url.path, offices=_offices(request, principal),
        uswds=pages.USWDS_CSS.exists(),
        done=DONE.get(request.query_params.get("done", "")),
        # the switcher links to a GET page: this one, or the console's start for a form's answer
        switcher=pages.switcher(lang, request.url.path if request.method == "GET" else "/console",
                                request.query_params if request.method == "GET" else {}),
        **{"errors": {}, **context},
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    pages.remember_language(request, response, lang)
    return response


def _offices(request: Request, principal: Principal) -> list[Office]:
    """The offices of the staff member's scope, for the office choice (shown only with more than one)."""
    if len(principal.office_ids) < 2:
        return []
    sessionmaker = request.app.state.sessionmaker
    with sessionmaker() as session:
        found = [office_by_id(session, i) for i in sorted(principal.office_ids)]
    return sorted((o for o in found if o is not None), key=lambda o: o.name)


def _nav(principal: Principal) -> list[tuple[str, str]]:
    items = []
    if "clerk" in principal.roles:
        items.append(("/console/appointments", N_("Appointments")))
        items.append(("/console/queue", N_("Queue")))
    if "supervisor" in principal.roles:
        items.append(("/console/office", N_("Office")))
        items.append(("/console/board", N_("Queue board")))
    if principal.roles & {"privacy_officer", "counsel"}:
        items.append(("/console/disclosures", N_("Disclosure requests")))
    if "auditor" in principal.roles:
        items.append(("/console/audit", N_("Audit")))
    if principal.roles & {"auditor", "supervisor"}:
        items.append(("/console/reports", N_("Visits by office")))  # staff/network.py
    if "admin" in principal.roles:
        items.append(("/console/offices", N_("Offices of the network")))
    if principal.roles & {"admin", "privacy_officer", "counsel", "auditor"}:
        items.append(("/console/privileged", N_("Privileged changes")))
    if principal.roles & {"admin", "privacy_officer", "counsel", "auditor"}:
        items.append(("/console/registry", N_("Agencies, holds and agreements")))
    if principal.roles & {"privacy_officer", "counsel", "auditor"}:
        items.append(("/console/decided", N_("Decided requests")))
    items.append(("/console/passkeys", N_("Passkeys")))
    if principal.roles & {"supervisor", "privacy_officer"}:
        items.append(("/console/messages", N_("Messages not sent")))  # console/messages.py
    return items


def when(value: dt.datetime | None, lang: str) -> str | None:
    """A moment in the staff pages' words (UTC: staff of several offices read the same list)."""
    return i18n.when_label(value, zone("UTC"), lang) if value else None


def actor(staff: Principal) -> Actor:
    """The signed-in staff member as the disclosure services name who acts."""
    return Actor("staff", staff.id, staff.roles)


def staff_office(session: Session, staff: Principal) -> Office:
    """The office the console opens on for the staff member: one of their scope (identity/scopes.py)."""
    office = office_by_id(session, staff.office_id)
    if office is None:
        raise InvalidInput("Your account is not bound to an office; ask an administrator.")
    return office


# -- sign in and out -----------------------------------------------------------------------------
@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    return render(request, "staff/sign_in.html", {"title": N_("Staff sign-in"), "username": ""})


async def _sign_in_refused(request: Request, exc: DomainError) -> Response:
    """The form again, with what was typed as the username; 401 (the rate limiter counts it), or 429 locked."""
    form = await request.form()  # read already for the route: Starlette keeps it on the request
    username = form.get("username")
    message = (N_("Too many failed sign-ins. Wait a few minutes or ask an administrator.")
               if isinstance(exc, AccountLocked)
               else N_("Check your username, password and the six-digit code from your app."))
    return render(request, "staff/sign_in.html", {"title": N_("Staff sign-in"),
                                                  "username": username if isinstance(username, str) else "",
                                                  "errors": {"username": message}},
                  status=429 if isinstance(exc, AccountLocked) else 401, page_url="/console/sign-in")


@router.post("/sign-in")
@refusal_page(_sign_in_refused)
def sign_in(
    request: Request, session: SessionDep, ring: RingDep, now: NowDep,
    username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not csrf.request_ok(request, csrf_token):  # login CSRF: the public double-submit token
        return pages.error_page(request, "csrf", 403)
    # A failure raises SignInFailed (Recorded): the session commits its count, then _sign_in_refused answers.
    account = identity.sign_in(session, ring, username.strip(), password, totp.strip(), now,
                               demo_mode=request.app.state.settings.demo_credentials)
    _, secret = identity.issue_credential(session, "session", now, staff=account)
    response = see_other("/console")
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(identity.SESSION_LIFETIME.total_seconds()),
                        secure=True, httponly=True, samesite="strict", path="/")
    return response


@router.post("/office-choice")
def choose_office(staff: StaffDep, session: SessionDep, office: Annotated[str, Form()] = "") -> Response:
    """Work on another office of one's scope (identity/scopes.py); any other answers as an unknown office."""
    identity.work_on(session, staff, office_in_scope(session, office, staff).id)
    return see_other("/console")


@router.post("/sign-out")
def sign_out(staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    identity.revoke_credential(session, staff.credential_id, now)
    response = see_other("/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("")
def home(staff: StaffDep) -> Response:
    for role, url in HOME_BY_ROLE:
        if role in staff.roles:
            return see_other(url)
    return see_other("/console/sign-in")
