"""The SMS provider adapter's own rules (notifications/sms.py): numbers as E.164, the provider picked by
configuration, and the signature of an inbound reply. Sending to a provider's API over HTTP is tested
against a local server in test_senders.py."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from safeslot.config import SmsSettings
from safeslot.notifications import sms


def test_a_number_is_sent_as_e164_with_the_country_code_when_it_has_none() -> None:
    assert sms.e164("(555) 010-0199") == "+15550100199"
    assert sms.e164("555.010.0199", default_country="52") == "+525550100199"
    assert sms.e164("+44 20 7946 0000") == "+442079460000"
    assert sms.e164("1 555 010 0199") == "+15550100199"


def test_providers_are_picked_by_configuration() -> None:
    assert sms.provider_for(SmsSettings()) is None
    with pytest.raises(ValueError, match="unknown SMS provider"):
        sms.provider_for(SmsSettings(provider="carrier-pigeon"))
    with pytest.raises(ValueError, match="ACCOUNT_SID"):
        sms.provider_for(SmsSettings(provider="twilio"))


def test_inbound_signature() -> None:
    form = {"From": "+15550100199", "Body": "STOP", "To": "+15555550100"}
    url = "https://office.example/api/v1/sms/inbound"
    payload = url + "BodySTOPFrom+15550100199To+15555550100"
    good = base64.b64encode(hmac.new(b"secret-token", payload.encode(), hashlib.sha1).digest()).decode()
    assert sms.valid_signature("secret-token", url, form, good)
    assert not sms.valid_signature("secret-token", url, {**form, "Body": "START"}, good)
    assert not sms.valid_signature("other-token", url, form, good)
    assert not sms.valid_signature("secret-token", url, form, "")
