"""Identity mail through the notifications outbox (`safeslot worker`): invitations, key claim links
and key notices. The outbox message names only the identity_mail row; the handler opens the sealed
address and body at send time and empties the body once the message is sent, dead or cancelled,
so the one-time link leaves the database with the message (at most once, like every outbox kind)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeslot.identity.links import ADDRESS_CONTEXT, BODY_CONTEXT, KIND
from safeslot.identity.models import IdentityMail
from safeslot.notifications import interfaces as outbox
from safeslot.notifications.interfaces import SENT, Cancel, Context, Message, Outgoing


class IdentityMailHandler:
    def compose(self, session: Session, message: Message, ctx: Context) -> Outgoing:
        mail = session.get(IdentityMail, message.ref)
        if mail is None or mail.body_enc is None or mail.status not in ("queued", "sending"):
            raise Cancel("the message was sent already or withdrawn")
        return Outgoing("email", ctx.ring.open(mail.address_enc, ADDRESS_CONTEXT), mail.subject,
                        ctx.ring.open(mail.body_enc, BODY_CONTEXT), ref=f"identity-{mail.id}")

    def finished(self, session: Session, message: Message, ctx: Context) -> None:
        mail = session.get(IdentityMail, message.ref)
        if mail is None or mail.status == "sent":
            return
        mail.status = "sent" if message.status == SENT else "failed"
        mail.sent_at = message.sent_at if message.status == SENT else None
        mail.body_enc = None
        session.flush()


outbox.register(KIND, IdentityMailHandler())
