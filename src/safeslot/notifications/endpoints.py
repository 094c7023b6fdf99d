"""HTTP of the notifications domain: replies to texts (STOP) from the SMS provider.

The stop link of e-mails and the dead-letter list are pages (console/public/reminders.py, console/staff/messages.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.notifications import reminders, sms
from safeslot.notifications.errors import SmsInboundOff, SmsSignatureInvalid

router = APIRouter(tags=["notifications"])
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post("/api/v1/sms/inbound", response_class=Response,
             responses={403: {"description": "Not signed by the provider"}, 404: {"description": "SMS is off"}})
async def sms_inbound(request: Request, session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    """A reply to a text, posted by the SMS provider (Twilio's webhook form, signed with the auth token).

    STOP (or STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, ALTO, PARAR, BAJA) puts the
    number on the stop list: no message goes to it again. Other replies are
    ignored (nobody reads them: the messages say to call the office).
    """
    settings = request.app.state.settings
    if settings.sms.provider in ("", "none") or not settings.sms.auth_token:
        raise SmsInboundOff("This office sends no text messages.")
    form = {key: str(value) for key, value in (await request.form()).items()}
    url = settings.server.public_url.rstrip("/") + request.url.path
    if not sms.valid_signature(settings.sms.auth_token, url, form, request.headers.get("x-twilio-signature", "")):
        raise SmsSignatureInvalid("Configure the provider to post replies to this URL, signed with the auth token.")
    if form.get("From"):
        await run_in_threadpool(reminders.stop_by_reply, session, ring, form["From"], form.get("Body", ""), now)
    return Response(TWIML_EMPTY, media_type="application/xml")
