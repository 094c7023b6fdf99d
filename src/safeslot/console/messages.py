"""Pages about the messages safeslot sends: the stop link (public) and the dead letters (staff).

``/reminders/stop/{token}``: the link in every reminder e-mail. GET asks (a link
preview or a mail scanner must not stop anything); POST stops — the button of
the page, or a mail client's RFC 8058 one-click POST. No sign-in and no CSRF
token: the token in the URL is the authority, and it can only turn messages off.

``/console/messages``: messages that could not be sent, for a supervisor (their
office's) or the privacy officer (all, disclosure notices included), in words;
"Send again" puts one back in the outbox. Nothing personal is shown: the kind,
times, tries and why, never a contact or a text.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from safeslot.console.i18n import N_
from safeslot.console.pages import PageRoute, render
from safeslot.console.staff import StaffRoute, _page
from safeslot.db import SessionDep
from safeslot.deps import NowDep, RingDep
from safeslot.identity.guard import StaffDep
from safeslot.identity.service import Principal
from safeslot.notifications import outbox, reminders
from safeslot.notifications.errors import MessageNotDead, StopLinkUnknown

public = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["public pages"])
staff_router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False,
                         tags=["staff console"])

KINDS = {"reminder": N_("Reminder"), "disclosure_notice": N_("Notice of a disclosure")}
# Why a message is a dead letter, in words (the recorded reason, in English, is shown beside it).
REASONS = (
    ("interrupted", N_("Interrupted while sending: it may have gone out. Send it again only if you are sure "
                       "it did not.")),
    ("gave up", N_("It could not be sent after several tries.")),
    ("no ", N_("No way to send this kind of message is set up.")),
    ("the contact was deleted", N_("The contact was deleted before sending.")),
    ("refused", N_("The mail server or the SMS provider refused the address.")),
)
DEFAULT_REASON = N_("It could not be sent.")
STAFF_ROLES = frozenset({"supervisor", "privacy_officer"})


# -- the stop link -------------------------------------------------------------------------------
def _check(request: Request, token: str) -> None:
    if reminders.appointment_of_token(request.app.state.settings.secret_key, token) is None:
        raise StopLinkUnknown("Check that the whole link was opened, or call the office.")


@public.get("/reminders/stop/{token}")
def stop_form(token: str, request: Request) -> Response:
    _check(request, token)
    return render(request, "reminders_stop.html", {"title": N_("Stop reminders"), "token": token, "done": False})


@public.post("/reminders/stop/{token}")
def stop(token: str, request: Request, session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    _check(request, token)
    reminders.stop_by_token(session, ring, request.app.state.settings.secret_key, token, now)
    return render(request, "reminders_stop.html", {"title": N_("Reminders stopped"), "token": token, "done": True},
                  page_url=f"/reminders/stop/{token}")


# -- dead letters --------------------------------------------------------------------------------
def _offices(staff: Principal) -> list[int] | None:
    """None (every office) for the privacy officer; the offices of a supervisor's scope otherwise."""
    if "privacy_officer" in staff.roles:
        return None
    return sorted(staff.office_ids)


def _reason(error: str | None) -> str:
    text = (error or "").lower()
    return next((words for start, words in REASONS if start in text), DEFAULT_REASON)


@staff_router.get("/messages")
def dead_letters(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    rows: list[dict[str, Any]] = []
    zone = ZoneInfo("UTC")
    for message in outbox.dead_letters(session, _offices(staff)):
        rows.append({"id": message.id, "kind": KINDS.get(message.kind, message.kind),
                     "created": message.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M UTC"),
                     "tries": message.attempts, "reason": _reason(message.last_error),
                     "detail": message.last_error or "", "interrupted": "interrupted" in (message.last_error or "")})
    return _page(request, "staff/messages.html", {"title": N_("Messages not sent"), "rows": rows, "staff": staff})


@staff_router.post("/messages/{message_id}/retry")
def retry(message_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    if not outbox.retry(session, message_id, now, _offices(staff)):
        raise MessageNotDead("Reload the list: it may have been sent again already.")
    return RedirectResponse("/console/messages?done=retried", status_code=303, headers={"Cache-Control": "no-store"})
