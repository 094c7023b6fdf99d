"""Staff console: server-rendered pages under /console for clerks, reviewers and auditors.

Sign-in is a plain form (password + TOTP through the identity service) that sets
the same session cookie as ``POST /api/v1/auth/session``. Roles are enforced by
identity/authz.py (every route here has an entry) before any code here runs;
cookie POSTs must carry the session's CSRF token, which every form holds.
Pages that show personal data go through the privacy service, which writes an
access record per person shown. A refusal of the authorization middleware
(problem+json) becomes a page here: no session → the sign-in page, a wrong role
or an expired form → an error page. Domain errors are pages too (PageRoute).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from safeslot.console import csrf, disclosure_review, i18n, pages
from safeslot.console.i18n import N_
from safeslot.console.labels import label
from safeslot.console.pages import PAGE_HEADERS, PageRoute, environment, language, render
from safeslot.db import SessionDep
from safeslot.deps import NowDep, RingDep
from safeslot.disclosure import acceptance, attest, release, review
from safeslot.disclosure import service as disclosure
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor
from safeslot.identity import service as identity
from safeslot.identity.errors import AccountLocked, SignInFailed
from safeslot.identity.guard import SESSION_COOKIE, StaffDep, require_passkey, session_csrf_token
from safeslot.identity.service import Principal
from safeslot.kit.errors import DomainError, InvalidInput, NotFound, status_for
from safeslot.privacy import service as privacy
from safeslot.reports import service as report_service
from safeslot.scheduling import repository as scheduling_repo
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.models import Office
from safeslot.transparency import selfcheck
from safeslot.transparency import service as log_service


class StaffRoute(PageRoute):
    """Errors are pages; a domain error's detail (what to do next, never personal data) is shown to staff."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super(PageRoute, self).get_route_handler()
        wrapped = PageRoute.get_route_handler(self)

        async def staff_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
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
        return RedirectResponse("/console/sign-in", status_code=303, headers={"Cache-Control": "no-store"})
    if b"csrf-refused" in body:
        return pages.error_page(request, "csrf", 403)
    context = {"title": N_("You do not have access to this page"), "console": True,
               "advice": N_("Your account does not have the role this page needs. Ask an administrator.")}
    return render(request, "error.html", context, status=403, page_url="/console")


# -- rendering -----------------------------------------------------------------------------------
def _page(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> Response:
    """A console page: the session's CSRF token in every form; no language cookie games."""
    lang = language(request)
    principal: Principal = context.pop("staff")
    html = environment(lang).get_template(template).render(
        lang=lang, csrf_field=csrf.FIELD, csrf_token=session_csrf_token(request), staff=principal, label=label,
        nav=_nav(principal), path=request.url.path, uswds=pages.USWDS_CSS.exists(),
        done=DONE.get(request.query_params.get("done", "")),
        # the switcher links to a GET page: this one, or the console's start for a form's answer
        switcher=pages.switcher(lang, request.url.path if request.method == "GET" else "/console",
                                request.query_params if request.method == "GET" else {}),
        **{"errors": {}, **context},
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    pages.remember_language(request, response, lang)
    return response


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


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


# -- sign in and out -----------------------------------------------------------------------------
@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    return render(request, "staff/sign_in.html", {"title": N_("Staff sign-in"), "username": ""})


@router.post("/sign-in")
def sign_in(
    request: Request, session: SessionDep, ring: RingDep, now: NowDep,
    username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not csrf.request_ok(request, csrf_token):  # login CSRF: the public double-submit token
        return pages.error_page(request, "csrf", 403)
    try:
        account = identity.sign_in(session, ring, username.strip(), password, totp.strip(), now,
                                   demo_mode=request.app.state.settings.demo_credentials)
    except (SignInFailed, AccountLocked) as exc:
        # Answer without raising, so the failure count is committed (the lockout depends on it).
        message = (N_("Too many failed sign-ins. Wait a few minutes or ask an administrator.")
                   if isinstance(exc, AccountLocked)
                   else N_("Check your username, password and the six-digit code from your app."))
        return render(request, "staff/sign_in.html", {"title": N_("Staff sign-in"), "username": username,
                                                      "errors": {"username": message}},
                      status=429 if isinstance(exc, AccountLocked) else 401, page_url="/console/sign-in")
    _, secret = identity.issue_credential(session, "session", now, staff=account)
    response = _see_other("/console")
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(identity.SESSION_LIFETIME.total_seconds()),
                        secure=True, httponly=True, samesite="strict", path="/")
    return response


@router.post("/sign-out")
def sign_out(staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    identity.revoke_credential(session, staff.credential_id, now)
    response = _see_other("/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("")
def home(staff: StaffDep) -> Response:
    for role, url in HOME_BY_ROLE:
        if role in staff.roles:
            return _see_other(url)
    return _see_other("/console/sign-in")


# -- supervisor: the office at a glance (the forms that change it are in console/staff_forms.py) -
@router.get("/office")
def office_page(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    return _page(request, "staff/office.html", office_context(request, staff, session, now))


def office_context(request: Request, staff: Principal, session: Session, now: dt.datetime) -> dict[str, Any]:
    """The supervisor's office page: hours, closures, services, staff (and the forms that change them)."""
    office = session.get(Office, staff.office_id) if staff.office_id is not None else None
    if office is None:
        raise InvalidInput("Your account is not bound to an office; ask an administrator.")
    lang = language(request)
    tz = scheduling.zone(office.timezone)
    today = now.astimezone(tz).date()
    weekdays = [i18n.day_label(today + dt.timedelta(days=(w - today.weekday()) % 7), lang).split(",")[0]
                for w in range(7)]
    services = scheduling.list_services(session, office)
    service_names = {s.slug: s.text_in(lang)[0] for s in services}
    return {
        "staff": staff, "title": N_("Office"), "office": office, "services": services,
        "members": [{"id": m.id, "name": m.display_name, "active": m.active,
                     "languages": [i18n.language_name(code, lang) for code in m.languages.split()],
                     "services": [service_names.get(slug, slug) for slug in m.services.split()]}
                    for m in scheduling_repo.all_staff(session, office.id)],
        "hours": [{"id": h.id, "day": weekdays[h.weekday], "opens": h.opens, "closes": h.closes}
                  for h in sorted(scheduling_repo.hours(session, office.id), key=lambda h: (h.weekday, h.opens))],
        "closures": [{"id": c.id, "day": i18n.day_label(c.day, lang), "reason": c.reason}
                     for c in sorted(scheduling_repo.closures(session, office.id, today, dt.date(9999, 12, 31)),
                                     key=lambda c: c.day)],
        "weekdays": weekdays, "form": {}, "other_languages": other_languages(lang),
        # visits a staff change left without anyone to serve them: the supervisor calls each person
        "to_contact": [{"code": p.code, "when": f"{i18n.day_label(p.starts_at.date(), lang)}, "
                                               f"{i18n.time_label(p.starts_at, tz, lang)}",
                        "service": service_names.get(p.service, p.service), "name": p.name,
                        "contact": p.contact.partition(":")[2] if p.contact else None}
                       for p in scheduling.people_to_contact(session, request.app.state.keyring, staff, office, now)],
    }


def other_languages(lang: str) -> list[tuple[str, str]]:
    """The page languages besides English, each named in the page's language: where service names need words."""
    return [(code, i18n.language_name(code, lang)) for code in i18n.LANGUAGES if code != scheduling.BASE_LANGUAGE]


# -- privacy officer and counsel: the disclosure queue -------------------------------------------
def _actor(staff: Principal) -> Actor:
    return Actor("staff", staff.id, staff.roles)


def _engine(request: Request) -> PolicyEngine:
    engine: PolicyEngine = request.app.state.policy_engine
    return engine


def _when(value: dt.datetime | None, lang: str) -> str | None:
    return i18n.when_label(value, scheduling.zone("UTC"), lang) if value else None


@router.get("/disclosures")
def queue(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    engine, lang = _engine(request), language(request)
    rows: list[dict[str, Any]] = []
    for status in OPEN:
        for found in disclosure.list_requests(session, _actor(staff), status):
            out = disclosure.view(session, engine, found, now)
            rows.append({"out": out, "model": found, "deadline": _when(out.deadline, lang),
                         "approvals": sorted(review.approvals(session, found.id))})
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (not r["out"].overdue, r["out"].deadline or latest))
    return _page(request, "staff/queue.html", {"staff": staff, "title": N_("Disclosure requests"), "rows": rows})


@router.get("/disclosures/{request_id}")
def request_page(request_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                 now: NowDep) -> Response:
    engine, lang = _engine(request), language(request)
    found: DisclosureRequest = disclosure.get_visible_request(session, _actor(staff), request_id)
    out = disclosure.view(session, engine, found, now, ring)
    my_roles = [r for r in review.REVIEW_ROLES if r in staff.roles]
    context = {
        "staff": staff, "title": N_("Disclosure request"), "out": out, "model": found,
        "deadline": _when(out.deadline, lang), "explanation": disclosure.explain(session, engine, request_id, ring),
        "approvals": review.approvals(session, request_id), "my_roles": my_roles,
        "open": found.status in OPEN, "in_review": found.status == "in_review",
        **disclosure_review.context(session, ring, found, staff, request.app.state.document_checks.limits, now),
        "matches_state": acceptance.may_see_matches(staff, found), "matches": [],
    }
    if context["matches_state"] == "yes":
        # Each candidate shown is a staff read of personal data: written to the access log.
        context["matches"] = [
            {"subject": s, "candidates": [{"c": c, "when": _when(c.starts_at, lang)} for c in s.candidates]}
            for s in acceptance.read_matches(session, staff, found, now)]
    signed_at = context["signature"]["signed_at"]
    context["signature"]["signed_at"] = _when(signed_at, lang) if signed_at else None
    return _page(request, "staff/request.html", context)


@router.get("/disclosures/{request_id}/pages/{page}")
def document_page(request_id: int, page: int, request: Request, staff: StaffDep, session: SessionDep,
                  ring: RingDep, now: NowDep) -> Response:
    """A page of the instrument as PNG, rendered on the server; staff reviewers only, recorded."""
    found: DisclosureRequest = disclosure.get_visible_request(session, _actor(staff), request_id)
    png = disclosure_review.page_image(session, ring, found, staff, page, request.app.state.document_checks.limits, now)
    if png is None:
        raise NotFound("The document has no such page.")
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store", "X-Robots-Tag": "none"})


@router.post("/disclosures/{request_id}/attest")
async def attest_page(request_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                      now: NowDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    answers, corrections = disclosure_review.answers_from_form(form)
    role = _role(staff, form.get("role", ""))
    attest.attest(session, ring, _engine(request), _actor(staff), request_id, role,
                  form.get("document_sha256", ""), answers, corrections, now)
    sent_back = disclosure.get_request(session, request_id).status != "in_review"
    return _see_other(f"/console/disclosures/{request_id}?done={'sent_back' if sent_back else 'attested'}")


@router.post("/disclosures/{request_id}/accept")
def accept(request_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    acceptance.accept(session, _actor(staff), request_id, now)
    return _see_other(f"/console/disclosures/{request_id}?done=accept#matches")


def _role(staff: Principal, role: str) -> str:
    if role not in review.REVIEW_ROLES or role not in staff.roles:
        raise InvalidInput("Choose the review role you hold: privacy officer or counsel.")
    return role


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("Write a reason; the requester and the auditors read it.")
    return reason.strip()[:2000]


@router.post("/disclosures/{request_id}/approve")
def approve(request_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
            now: NowDep, role: Annotated[str, Form()] = "") -> Response:
    done = "approve"
    require_passkey(request, staff)
    if review.approve(session, _actor(staff), request_id, _role(staff, role), now):
        release.create(session, ring, request.app.state.log_signer, request_id, now)
        done = "released"
    return _see_other(f"/console/disclosures/{request_id}?done={done}")


@router.post("/disclosures/{request_id}/deny")
def deny(request_id: int, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
         role: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    review.deny(session, _actor(staff), request_id, _role(staff, role), _reason(reason), now, ring=ring)
    return _see_other(f"/console/disclosures/{request_id}?done=deny")


@router.post("/disclosures/{request_id}/narrow")
def narrow(request_id: int, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
           role: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
           drop: Annotated[list[str] | None, Form()] = None) -> Response:
    review.narrow(session, _actor(staff), request_id, _role(staff, role), _reason(reason), [], drop or [], now,
                  ring=ring)
    return _see_other(f"/console/disclosures/{request_id}?done=narrow")


@router.post("/disclosures/{request_id}/ask")
def ask(request_id: int, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
        role: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    review.ask_information(session, _actor(staff), request_id, _role(staff, role), _reason(reason), now, ring=ring)
    return _see_other(f"/console/disclosures/{request_id}?done=ask")


# -- auditor: alerts and the log's status --------------------------------------------------------
@router.get("/audit")
def audit(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    lang = language(request)
    raised = privacy.alerts(session)
    runs = selfcheck.last(session)
    who = identity.usernames(session, [a.staff_id for a in raised] + [v.staff_id for v in runs if v.staff_id])
    alerts = [{"alert": a, "when": _when(a.at, lang), "who": who.get(a.staff_id, str(a.staff_id))} for a in raised]
    status = log_service.status(session)
    reports = [{"report": r, "when": _when(r.published_at, lang)} for r in report_service.published_periods(session)]
    verifications = [{"run": v, "when": _when(v.at, lang), "who": who.get(v.staff_id or 0)} for v in runs]
    context = {"staff": staff, "title": N_("Audit"), "alerts": alerts, "log": status, "reports": reports,
               "checkpoint_at": _when(status.last_checkpoint_at, lang), "verifications": verifications}
    return _page(request, "staff/audit.html", context)


@router.post("/audit/verify")
def verify_log_now(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Verify the log end to end, as an outside verifier would, and record the run (transparency/selfcheck.py)."""
    signer = request.app.state.log_signer
    run = selfcheck.self_verify(session, signer.verifier(), request.app.state.settings.log.origin, now,
                                method="console", staff_id=staff.id)
    return _see_other("/console/audit?done=verified" if run.ok else "/console/audit#verification")
