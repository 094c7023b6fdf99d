"""The stop link of reminders: ``/reminders/stop/{token}``, the link in every reminder e-mail.

GET asks (a link preview or a mail scanner must not stop anything); POST stops — the button of
the page, or a mail client's RFC 8058 one-click POST. No sign-in and no CSRF token: the token in
the URL is the authority, and it can only turn messages off.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from safeslot.console.i18n import N_
from safeslot.console.pages import PageRoute, render
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.notifications import reminders
from safeslot.notifications.errors import StopLinkUnknown
from safeslot.scheduling import reminders as appointments

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["public pages"])


def _check(request: Request, token: str) -> None:
    if reminders.appointment_of_token(request.app.state.settings.secret_key, token) is None:
        raise StopLinkUnknown("Check that the whole link was opened, or call the office.")


@router.get("/reminders/stop/{token}")
def stop_form(token: str, request: Request) -> Response:
    _check(request, token)
    return render(request, "public/reminders_stop.html", {"title": N_("Stop reminders"), "token": token, "done": False})


@router.post("/reminders/stop/{token}")
def stop(token: str, request: Request, session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    _check(request, token)
    reminders.stop_by_token(session, ring, request.app.state.settings.secret_key, token, now, appointments)
    return render(request, "public/reminders_stop.html",
                  {"title": N_("Reminders stopped"), "token": token, "done": True}, page_url=f"/reminders/stop/{token}")
