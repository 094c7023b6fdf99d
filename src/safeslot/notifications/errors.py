"""Errors of the notifications domain.

    DomainError
    ├── NotFound
    │   ├── StopLinkUnknown      404  a stop link whose token does not check out
    │   ├── MessageNotDead       404  retry of a message that is not a dead letter (of your office)
    │   └── SmsInboundOff        404  no SMS provider configured: nothing to receive
    └── Forbidden
        └── SmsSignatureInvalid  403  an inbound SMS not signed by the provider
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Forbidden, NotFound


class StopLinkUnknown(NotFound, slug="stop-link-unknown", title=N_("We could not find that stop link")):
    """The stop link is not valid (mistyped or forged). Use the link from the message itself."""


class MessageNotDead(NotFound, slug="message-not-dead", title=N_("That message is not waiting to be sent again")):
    """Only a message that failed for good (a dead letter) of your office can be sent again."""


class SmsInboundOff(NotFound, slug="sms-inbound-off", title=N_("Text replies are not received here")):
    """This office has no SMS provider, so text replies are not received here."""


class SmsSignatureInvalid(Forbidden, slug="sms-signature-invalid",
                          title=N_("The reply is not signed by the SMS provider")):
    """The text reply was not signed by the office's SMS provider, so it is ignored."""
