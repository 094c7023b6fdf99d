"""The walk-in queue's public pages: check in (kiosk or phone), the ticket, the lobby display, the door's QR code.

No account and no cookie: a ticket page's address holds its unguessable token,
and the language rides in ``?lang=``. Every page works without JavaScript (a
``<noscript>`` meta refresh); with it, static/queue.js re-reads the page and
swaps its ``aria-live`` region in place. Forms are protected without a cookie:
a browser's ``Sec-Fetch-Site`` / ``Origin`` must name this site.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, Response

from safeslot.console import csrf, i18n, pages
from safeslot.console.forms import parse_code
from safeslot.console.i18n import N_
from safeslot.console.pages import PageRoute, see_other
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.kit.errors import DomainError, Forbidden
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.interfaces import Office
from safeslot.scheduling.queue import errors as queue_errors
from safeslot.scheduling.queue import service as queue
from safeslot.scheduling.queue import views
from safeslot.scheduling.schemas import CONTROLS

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["queue pages"])

JS_POLL_SECONDS = 10  # with JavaScript the page re-reads itself this often; without, settings.queue.refresh_seconds
# What the check-in page says for each refusal of the queue service, in the person's language.
MESSAGES: dict[type[DomainError], tuple[str, str]] = {
    queue_errors.TooEarlyToCheckIn: ("code", N_("It is too early to check in. Come back closer to your appointment "
                                                "time, or take a ticket below.")),
    queue_errors.TooLateToCheckIn: ("code", N_("Your appointment time has passed. Take a ticket below, or ask at the "
                                               "front desk.")),
    queue_errors.AppointmentElsewhere: ("code", N_("This appointment is at another office. Check the address on "
                                                   "your confirmation.")),
    queue_errors.AppointmentNotCheckable: ("code", N_("This appointment was cancelled or has already happened. Take "
                                                      "a ticket below.")),
    queue_errors.LanguageNotOffered: ("language", N_("Choose a language from the list.")),
    queue_errors.OfficeClosed: ("service", N_("The office is closed now. Come back during its opening hours.")),
}
NOT_FOUND_CODE = N_("We could not find an appointment with that code. Check it and try again.")
STATUS_TITLES = {
    "waiting": N_("Your ticket"),
    "called": N_("It is your turn"),
    "done": N_("Your visit is done"),
    "noshow": N_("We called your number"),
    "left": N_("You left the queue"),
}


# -- helpers -------------------------------------------------------------------------------------
def _page(request: Request, template: str, context: dict[str, Any], *, status: int = 200,
          page_url: str | None = None) -> Response:
    """pages.render without cookies: these pages must work for a person who refuses them."""
    lang = pages.language(request)
    path = page_url or request.url.path
    query = dict(request.query_params) if page_url is None else {}
    html = pages.environment(lang).get_template(template).render(
        lang=lang, switcher=pages.switcher(lang, path, query), uswds=pages.USWDS_CSS.exists(),
        refresh=request.app.state.settings.queue.refresh_seconds, poll=JS_POLL_SECONDS, **{"errors": {}, **context})
    return HTMLResponse(html, status_code=status, headers=pages.PAGE_HEADERS)


def _same_site(request: Request) -> None:
    """A form posted from another site is refused (console/csrf.py: no cookie here, so Fetch Metadata)."""
    if not csrf.same_site(request):
        raise Forbidden("Take a ticket from this office's own page.")


def _lang_query(request: Request) -> str:
    return f"?lang={pages.language(request)}"


def _office_url(request: Request, office: Office) -> str:
    base: str = request.app.state.settings.server.public_url.rstrip("/")
    return f"{base}/queue/{office.slug}"


def _svg(data: str) -> Response:
    """A QR code (error correction M) as a stand-alone SVG file, drawn on the server: no script, no font."""
    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="svg", scale=8, border=4, dark="#1b1b1b", light="#ffffff",
                                     xmldecl=False)
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store", **_svg_headers()})


def _svg_headers() -> dict[str, str]:
    return {k: v for k, v in pages.PAGE_HEADERS.items() if k != "Cache-Control"}


# -- check in ------------------------------------------------------------------------------------
def _check_in_page(request: Request, session: Session, office: Office, now: dt.datetime, *,
                   errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                   status: int = 200) -> Response:
    lang = pages.language(request)
    languages = [{"code": code, "name": i18n.language_name(code, lang)}
                 for code in queue.office_languages(session, office) if code != scheduling.BASE_LANGUAGE]
    return _page(request, "public/queue/check_in.html", {
        "once": secrets.token_urlsafe(16),
        "title": N_("Take a ticket"), "office": office, "services": scheduling.list_services(session, office),
        "languages": languages, "errors": errors or {}, "form": form or {},
        "kiosk": request.query_params.get("kiosk") == "1",
        "closed": not queue.accepts_walk_ins(session, office, now, request.app.state.settings.queue),
    }, status=status, page_url=f"/queue/{office.slug}" if request.method == "POST" else None)


@router.get("/queue/{office}")
def check_in_page(office: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    return _check_in_page(request, session, scheduling.get_office(session, office), now)


@router.post("/queue/{office}/ticket")
def take_ticket(
    office: str, request: Request, session: SessionDep, ring: RingDep, now: NowDep,
    service: Annotated[str, Form(max_length=64)] = "", language: Annotated[str, Form(max_length=16)] = "",
    name: Annotated[str, Form(max_length=400)] = "", kiosk: Annotated[str, Form(max_length=1)] = "",
    once: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    _same_site(request)
    found = scheduling.get_office(session, office)
    form = {"service": service, "language": language, "name": name}
    errors: dict[str, str] = {}
    if service not in {s.slug for s in scheduling.list_services(session, found)}:
        errors["service"] = N_("Choose what you came for.")
    if len(" ".join(name.split())) > queue.MAX_NAME:
        errors["name"] = N_("Give at most 100 characters. Initials are enough.")
    elif CONTROLS.search(name):  # as the API's WalkInIn refuses them (scheduling/schemas.py)
        errors["name"] = N_("Check your answers and try again.")
    if not errors:
        try:
            token = queue.take_ticket_once(session, ring, found.slug, service, language, name, once, now,
                                           request.app.state.settings.queue)
        except (queue_errors.LanguageNotOffered, queue_errors.OfficeClosed) as exc:
            field, message = MESSAGES[type(exc)]
            errors[field] = message
        else:
            return see_other(f"/ticket/{token}{_lang_query(request)}" + ("&kiosk=1" if kiosk == "1" else ""))
    return _check_in_page(request, session, found, now, errors=errors, form=form, status=422)


@router.post("/queue/{office}/check-in")
def check_in_appointment(
    office: str, request: Request, session: SessionDep, now: NowDep,
    code: Annotated[str, Form(max_length=40)] = "", kiosk: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    _same_site(request)
    found = scheduling.get_office(session, office)
    errors: dict[str, str] = {}
    cleaned = parse_code(code, errors)
    if not errors:
        try:
            ticket = queue.check_in_appointment(session, found.slug, cleaned, now, request.app.state.settings.queue)
        except DomainError as exc:
            field, message = MESSAGES.get(type(exc), ("code", NOT_FOUND_CODE))
            errors[field] = message
            status = 404 if exc.slug == "appointment-not-found" else 422
            return _check_in_page(request, session, found, now, errors=errors, form={"code": code}, status=status)
        return see_other(f"/ticket/{ticket.token}{_lang_query(request)}" + ("&kiosk=1" if kiosk == "1" else ""))
    return _check_in_page(request, session, found, now, errors=errors, form={"code": code}, status=422)


@router.get("/queue/{office}/qr.svg")
def office_qr(office: str, request: Request, session: SessionDep) -> Response:
    """The QR code for the door: it opens this office's check-in page on a phone."""
    return _svg(_office_url(request, scheduling.get_office(session, office)))


@router.get("/queue/{office}/poster")
def poster(office: str, request: Request, session: SessionDep) -> Response:
    found = scheduling.get_office(session, office)
    return _page(request, "public/queue/poster.html", {"title": N_("Take a ticket with your phone"), "office": found,
                                                 "url": _office_url(request, found)})


# -- the ticket ----------------------------------------------------------------------------------
@router.get("/ticket/{token}")
def ticket_page(token: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    ticket = queue.by_token(session, token)
    status = views.ticket_status(session, ticket, now, request.app.state.settings.queue)
    return _page(request, "public/queue/ticket.html", {
        "title": STATUS_TITLES[ticket.status], "t": status, "ticket": ticket,
        "live": ticket.status in ("waiting", "called") and not status.expired,
        "kiosk": request.query_params.get("kiosk") == "1",
    })


@router.get("/ticket/{token}/qr.svg")
def ticket_qr(token: str, request: Request, session: SessionDep) -> Response:
    """At a kiosk: the ticket page's address, to follow the ticket on one's own phone."""
    ticket = queue.by_token(session, token)
    base: str = request.app.state.settings.server.public_url.rstrip("/")
    return _svg(f"{base}/ticket/{ticket.token}")


@router.post("/ticket/{token}/leave")
def leave(token: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    _same_site(request)
    ticket = queue.leave(session, token, now)
    return see_other(f"/ticket/{ticket.token}{_lang_query(request)}")


# -- the lobby display ---------------------------------------------------------------------------
@router.get("/queue/{office}/display")
def display(office: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    found = scheduling.get_office(session, office)
    return _page(request, "public/queue/display.html", {"title": N_("Now serving"), "office": found,
                                                  "called": views.display(session, found, now)})
