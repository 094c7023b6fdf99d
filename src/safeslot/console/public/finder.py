"""The public office finder (``/find``) and each office's own page (``/offices/{office}``).

A GET form, so a result is a plain, bookmarkable link and works without
JavaScript. An office's page is the home page's booking form for that office
alone: the address that clinics, letters and posters link to. ``/offices`` lists
them all (a network's home page shows the finder and links there instead of a
form per office).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.console import i18n, pages
from safeslot.console.i18n import N_
from safeslot.console.pages import PageRoute, render
from safeslot.deps import NowDep, SessionDep
from safeslot.kit.errors import InvalidInput
from safeslot.scheduling import service
from safeslot.scheduling.errors import PlaceNotFound

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["public pages"])

SEARCH_DAYS = 7
# Up to this many open offices the home page shows each one's booking form (a town's one or two offices book
# from the first page); past it, the finder and a link to the list of offices, each with its own page.
HOME_FORMS = 5
KM_PER_MILE = 1.609344
BAD_PLACE = N_("Type a 5-digit ZIP code, like 01103, or a town and its state, like Springfield, MA.")
UNKNOWN_PLACE = N_("We do not know this ZIP code or town. Check it, or try a nearby town or ZIP code.")


def booking_item(session: Session, office: Any, lang: str, now: dt.datetime) -> dict[str, Any]:
    """What the home page's booking form needs for one office (an office from scheduling's service)."""
    today = now.astimezone(service.zone(office.timezone)).date()
    return {
        "office": office,
        "services": service.list_services(session, office),
        "languages": [{"code": c, "name": i18n.language_name(c, lang)}
                      for c in service.office_languages(session, office) if c != service.BASE_LANGUAGE],
        "from": today.isoformat(),
        "to": (today + dt.timedelta(days=SEARCH_DAYS - 1)).isoformat(),
    }


def finder_languages(session: Session, lang: str) -> list[dict[str, str]]:
    """Every interpreter language some open office offers, for the finder's language choice (one statement)."""
    return [{"code": c, "name": i18n.language_name(c, lang)}
            for c in service.offered_languages(session) if c != service.BASE_LANGUAGE]


@router.get("/find")
def find(request: Request, session: SessionDep, now: NowDep) -> Response:
    lang = pages.language(request)
    where = request.query_params.get("where", "")
    language = request.query_params.get("language", "")
    known = finder_languages(session, lang)
    errors: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    place = ""
    status = 200
    if language and language not in {item["code"] for item in known}:
        language = ""  # a language no office offers: search without the filter rather than fail
    try:
        found_place, found = service.nearest_offices(
            session, where, language or None, now, table_path=request.app.state.settings.finder.zip_table
        )
        place = found_place.label
        for near in found:
            tz = service.zone(near.office.timezone)
            results.append({
                "office": near.office, "services": near.services,  # as the finder read them: no second look-up
                "km": f"{near.distance_km:.1f}",
                "miles": f"{near.distance_km / KM_PER_MILE:.1f}",
                "spoken": [i18n.language_name(c, lang) for c in near.languages],
                "next_free": i18n.when_label(near.next_free, tz, lang) if near.next_free else None,
            })
    except PlaceNotFound:
        errors["where"], status = UNKNOWN_PLACE, 404
    except InvalidInput:
        errors["where"], status = BAD_PLACE, 422
    context = {
        "title": N_("Find an office near you"), "where": where, "language": language, "languages": known,
        "place": place, "results": results, "errors": errors,
    }
    return render(request, "public/find.html", context, status=status)


@router.get("/offices")
def office_list(request: Request, session: SessionDep) -> Response:
    """Every open office by name, each linking to its own page (one statement): for a person who knows their
    office but not its ZIP code, and the finder's way back to all offices."""
    return render(request, "public/offices.html",
                  {"title": N_("All offices"), "offices": service.list_offices(session, open_only=True)})


@router.get("/offices/{office}")
def office_page(office: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    found = service.get_office(session, office)
    lang = pages.language(request)
    context = {"title": N_("Book an appointment"), "offices": [booking_item(session, found, lang, now)],
               "single": True, "languages": finder_languages(session, lang)}
    return render(request, "public/home.html", context)
