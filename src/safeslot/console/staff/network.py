"""The organisation's pages: the network's offices for its administrators (propose opening and closing one,
a second administrator approves on the privileged-changes page), and the visits report by office.

The report is counts of visits by office and status (privacy/statistics.py), never a person: the
organisation's auditor sees every office, an office supervisor only the offices of their scope (the
same rule as ``GET /api/v1/offices/{office}/report``). The offices page shows no appointment either:
closing lists the visits still to come by id, time and service, so the proposal names what its
supervisor will have to move, and who booked them stays with the office.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from safeslot.console import i18n
from safeslot.console.i18n import N_
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import StaffRoute, page, when
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.identity import proposals
from safeslot.identity.guard import StaffDep
from safeslot.identity.interfaces import proposal_out
from safeslot.identity.schemas import OfficeOpeningIn
from safeslot.identity.service import Principal
from safeslot.kit.errors import DomainError
from safeslot.privacy import statistics
from safeslot.scheduling import interfaces as offices
from safeslot.scheduling import office_proposals
from safeslot.scheduling import service as scheduling

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

OPENING_FIELDS = {
    "slug": N_("Use lowercase letters, digits and inner dashes, like springfield-east."),
    "name": N_("Enter the office's name, at most 200 characters."),
    "address": N_("Enter the street address, at most 400 characters."),
    "timezone": N_("Enter a time zone like America/Chicago."),
    "latitude": N_("Enter a latitude between -90 and 90, or leave both blank."),
    "longitude": N_("Enter a longitude between -180 and 180, or leave both blank."),
}
STATUSES = ("booked", "checked-in", "fulfilled", "noshow", "cancelled")


# -- the visits report by office -----------------------------------------------------------------
@router.get("/reports")
def reports(request: Request, staff: StaffDep, session: SessionDep, now: NowDep, month: str = "") -> Response:
    """Visits by office and status for a month; the auditor's whole network, a supervisor's own offices."""
    month = month or now.strftime("%Y-%m")
    errors: dict[str, str] = {}
    if statistics.MONTH.match(month) is None:
        errors["month"] = N_("Enter a month like 2027-03 (year, month).")
        month = now.strftime("%Y-%m")
    everyone = "auditor" in staff.roles
    shown = [o for o in scheduling.list_offices(session) if everyone or staff.covers(o.id)]
    figures = statistics.offices_month(session, month, [o.id for o in shown])
    rows = [{"office": o, "closed": o.closed_at is not None,
             "by_status": figures[o.id].by_status() if o.id in figures else {},
             "total": figures[o.id].total if o.id in figures else 0} for o in shown]
    return page(request, "staff/reports.html", {
        "staff": staff, "title": N_("Visits by office"), "month": month, "rows": rows, "statuses": STATUSES,
        "total": sum(r["total"] for r in rows), "network": everyone, "errors": errors},
        status=422 if errors else 200)


# -- the network's offices (administrators) ------------------------------------------------------
def _offices_context(request: Request, staff: Principal, session: Any) -> dict[str, Any]:
    lang = language(request)
    kinds = {"open_office", "close_office"}
    waiting = [{"out": proposal_out(session, p), "when": when(p.proposed_at, lang)}
               for p in proposals.pending(session) if p.kind in kinds]
    return {"staff": staff, "title": N_("Offices of the network"), "network_offices": scheduling.list_offices(session),
            "waiting": waiting, "form": {}, "errors": {}}


@router.get("/offices")
def offices_page(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    return page(request, "staff/offices.html", _offices_context(request, staff, session))


@router.post("/offices")
def propose_opening(
    request: Request, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
    slug: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "", address: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "", latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
) -> Response:
    form = {"slug": slug.strip(), "name": name.strip(), "address": address.strip(), "timezone": timezone.strip(),
            "latitude": latitude.strip(), "longitude": longitude.strip()}
    errors: dict[str, str] = {}
    refusal = ""
    try:
        data = OfficeOpeningIn.model_validate({**form, "latitude": form["latitude"] or None,
                                               "longitude": form["longitude"] or None})
    except ValidationError as exc:
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "slug"
            errors.setdefault(field, OPENING_FIELDS.get(field, OPENING_FIELDS["slug"]))
        data = None
    if data is not None:
        try:
            office_proposals.propose_opening(session, proposals.context_for(request.app.state.settings, ring),
                                             staff.id, offices.NewOffice(**data.model_dump()), now)
        except DomainError as exc:  # a slug taken, an unknown time zone, a proposal already waiting
            errors["slug"], refusal = exc.title, str(exc)
    if errors:
        context = {**_offices_context(request, staff, session), "form": form, "errors": errors, "refusal": refusal}
        return page(request, "staff/offices.html", context, status=422)
    return see_other("/console/offices?done=proposed")


@router.get("/offices/{office}/closing")
def closing_page(office: str, request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """What closing this office would leave to move: ids, times and services of its visits still to come."""
    found = offices.open_office_by_slug(session, office)
    lang = language(request)
    tz = offices.zone(found.timezone)
    names = {s.id: s.text_in(lang)[0] for s in scheduling.list_services(session, found)}
    visits = [{"id": b.id, "when": f"{i18n.day_label(b.starts_at.astimezone(tz).date(), lang)}, "
                                   f"{i18n.time_label(b.starts_at, tz, lang)}",
               "service": names.get(b.service_id, "")} for b in offices.bookings_to_move(session, found, now)]
    return page(request, "staff/office_closing.html", {
        "staff": staff, "title": N_("Close an office"), "office": found, "visits": visits})


@router.post("/offices/{office}/closing")
def propose_closing(office: str, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                    now: NowDep, move: Annotated[list[int] | None, Form()] = None) -> Response:
    """The proposal lists exactly the visits the administrator saw; one booked since is refused (409 page)."""
    office_proposals.propose_closing(session, proposals.context_for(request.app.state.settings, ring), staff.id,
                                     office, move or [], now)
    return see_other("/console/offices?done=proposed")
