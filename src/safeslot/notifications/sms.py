"""SMS provider adapters: the interface an office's provider implements, and one implementation.

To plug in a provider, write a class with ``channel`` and ``send(message)`` that
raises ``senders.Undeliverable`` for a number that can never receive (invalid,
landline, opted out at the carrier) and ``senders.TryLater`` for anything that
might pass later (5xx, 429, timeouts), register it in ``PROVIDERS``, and set
``SAFESLOT_SMS__PROVIDER``. ``send`` must not log the number or the text.

``TwilioSms`` speaks Twilio's Messages API (``POST
/2010-04-01/Accounts/{sid}/Messages.json``, form fields ``To``, ``From``,
``Body``, HTTP Basic auth with the account id and token); several other
providers accept the same calls. Inbound replies (``STOP``) arrive as a form
POST signed with ``X-Twilio-Signature`` (HMAC-SHA1 of the URL and the sorted
form fields under the auth token), checked by ``valid_signature``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from safeslot.config import SmsSettings
from safeslot.notifications.senders import Outgoing, Sender, TryLater, Undeliverable

if TYPE_CHECKING:  # httpx (and the click it loads) only in a worker that sends texts
    import httpx

# Twilio error codes that no retry can fix: invalid 'To', not a mobile number, unsubscribed recipient.
PERMANENT_CODES = frozenset({21211, 21214, 21610, 21612, 21614})


def e164(number: str, default_country: str = "1") -> str:
    """A phone number as E.164: the digits, with a leading + and the country code (NANP by default)."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+"):
        return f"+{digits}"
    if len(digits) == 10:
        return f"+{default_country}{digits}"
    return f"+{digits}"


class TwilioSms:
    """Twilio's Messages API (or a service that speaks it), over httpx."""

    channel = "sms"

    def __init__(self, settings: SmsSettings, transport: httpx.BaseTransport | None = None) -> None:
        if not (settings.account_sid and settings.auth_token and settings.from_number):
            raise ValueError("SMS needs SAFESLOT_SMS__ACCOUNT_SID, __AUTH_TOKEN and __FROM_NUMBER")
        from safeslot.kit.http import outgoing_client  # the shared TLS context: a new one costs ~20 ms

        self.settings = settings
        self.client = outgoing_client(base_url=settings.base_url.rstrip("/"), timeout=settings.timeout_seconds,
                                      auth=(settings.account_sid, settings.auth_token), transport=transport)

    def send(self, message: Outgoing) -> None:
        import httpx

        s = self.settings
        try:
            answer = self.client.post(f"/2010-04-01/Accounts/{s.account_sid}/Messages.json", data={
                "To": e164(message.address), "From": s.from_number, "Body": message.text})
        except httpx.HTTPError as exc:
            raise TryLater(f"the SMS provider could not be reached ({type(exc).__name__})") from None
        if answer.status_code in (200, 201):
            return
        code = None
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            code = int(answer.json().get("code"))
        if code in PERMANENT_CODES or answer.status_code in (400, 404):  # a request no retry can mend
            raise Undeliverable(f"the SMS provider refused the number (error {code})")
        if answer.status_code in (401, 403):
            raise TryLater(f"the SMS provider refused our credentials ({answer.status_code})")
        raise TryLater(f"the SMS provider answered {answer.status_code}")


def valid_signature(auth_token: str, url: str, form: Mapping[str, str], signature: str) -> bool:
    """Twilio's request signature: base64(HMAC-SHA1(token, url + each key and value, keys sorted))."""
    payload = url + "".join(f"{key}{form[key]}" for key in sorted(form))
    expected = base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    return bool(signature) and hmac.compare_digest(expected, signature)


PROVIDERS: dict[str, Callable[[SmsSettings], Sender]] = {"twilio": TwilioSms}


def provider_for(settings: SmsSettings) -> Sender | None:
    """The configured provider, or None when texts are off (``provider = none``)."""
    if settings.provider in ("", "none"):
        return None
    try:
        factory = PROVIDERS[settings.provider]
    except KeyError:
        raise ValueError(f"unknown SMS provider {settings.provider!r}; known: {', '.join(PROVIDERS)}") from None
    return factory(settings)
