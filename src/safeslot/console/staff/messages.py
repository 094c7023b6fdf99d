"""The messages safeslot could not send (the stop link of reminders is public: ``public/reminders.py``).

``/console/messages``: messages that could not be sent, for a supervisor (their
office's) or the privacy officer (all, disclosure notices included), in words;
"Send again" puts one back in the outbox. Nothing personal is shown: the kind,
times, tries and why, never a contact or a text.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import Response

from safeslot.console.i18n import N_
from safeslot.console.pages import see_other
from safeslot.console.staff.shell import StaffRoute, page
from safeslot.deps import NowDep, SessionDep
from safeslot.identity.guard import StaffDep
from safeslot.identity.service import Principal
from safeslot.notifications import interfaces as outbox
from safeslot.notifications.errors import MessageNotDead

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

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


# -- dead letters --------------------------------------------------------------------------------
def _offices(staff: Principal) -> list[int] | None:
    """None (every office) for the privacy officer; the offices of a supervisor's scope otherwise."""
    if "privacy_officer" in staff.roles:
        return None
    return sorted(staff.office_ids)


def _reason(error: str | None) -> str:
    text = (error or "").lower()
    return next((words for start, words in REASONS if start in text), DEFAULT_REASON)


@router.get("/messages")
def dead_letters(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    rows: list[dict[str, Any]] = []
    zone = ZoneInfo("UTC")
    for message in outbox.dead_letters(session, _offices(staff)):
        rows.append({"id": message.id, "kind": KINDS.get(message.kind, message.kind),
                     "created": message.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M UTC"),
                     "tries": message.attempts, "reason": _reason(message.last_error),
                     "detail": message.last_error or "", "interrupted": "interrupted" in (message.last_error or "")})
    return page(request, "staff/messages.html", {"title": N_("Messages not sent"), "rows": rows, "staff": staff})


@router.post("/messages/{message_id}/retry")
def retry(message_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    if not outbox.retry(session, message_id, now, _offices(staff)):
        raise MessageNotDead("Reload the list: it may have been sent again already.")
    return see_other("/console/messages?done=retried")
