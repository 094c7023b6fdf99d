"""Senders against real servers on loopback: SMTP (aiosmtpd) and an SMS provider's HTTP API (a local server)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest

from safeslot.config import MailSettings, Settings, SmsSettings
from safeslot.notifications import sms, worker
from safeslot.notifications.outbox import Tally
from safeslot.notifications.senders import Outgoing, SmtpSender, TryLater, Undeliverable
from safeslot.scheduling.models import Appointment


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


EMAIL = Outgoing("email", "person.a@example.org", "Reminder: your appointment on Monday", "See you.\n",
                 {"List-Unsubscribe": "<https://office.example/reminders/stop/1-x>",
                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Content-Language": "en"}, ref="r-1")


def test_email_goes_through_a_real_smtp_server(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    SmtpSender(MailSettings(host="127.0.0.1", port=port, from_address="office@example.org")).send(EMAIL)
    [raw] = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "person.a@example.org" and mail["From"] == "office@example.org"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_payload().strip() == "See you."  # type: ignore[union-attr]


def test_a_refused_address_is_undeliverable_and_a_down_server_is_retried(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.refuse.add("person.a@example.org")
    with pytest.raises(Undeliverable) as refused:
        SmtpSender(MailSettings(host="127.0.0.1", port=port)).send(EMAIL)
    assert "person.a" not in str(refused.value)  # reasons never carry the address
    with pytest.raises(TryLater):
        SmtpSender(MailSettings(host="127.0.0.1", port=_free_port(), timeout_seconds=2)).send(EMAIL)


class Provider(BaseHTTPRequestHandler):
    """A stand-in for the provider's Messages API: records requests, answers what the test set."""

    calls: ClassVar[list[dict[str, Any]]] = []
    answer: tuple[int, dict[str, Any]] = (201, {"sid": "SM1", "status": "queued"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).calls.append({"path": self.path, "auth": self.headers["Authorization"], "form": parse_qs(body)})
        status, payload = type(self).answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[str]:
    Provider.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _sms(url: str) -> sms.TwilioSms:
    settings = SmsSettings(provider="twilio", base_url=url, account_sid="AC123", auth_token="secret-token",
                           from_number="+15555550100")
    sender = sms.provider_for(settings)
    assert isinstance(sender, sms.TwilioSms)
    return sender


TEXT = Outgoing("phone", "(555) 010-0199", "", "Reminder: … Reply STOP to stop these messages.\n", ref="r-2")


def test_a_text_is_posted_to_the_provider_as_its_api_expects(provider: str) -> None:
    Provider.answer = (201, {"sid": "SM1", "status": "queued"})
    _sms(provider).send(TEXT)
    [call] = Provider.calls
    assert call["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert call["auth"].startswith("Basic ")
    assert call["form"] == {"To": ["+15550100199"], "From": ["+15555550100"], "Body": [TEXT.text]}


@pytest.mark.parametrize(("answer", "error"), [
    ((400, {"code": 21211, "message": "Invalid 'To' Phone Number"}), Undeliverable),
    ((400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}), Undeliverable),
    ((429, {"code": 20429, "message": "Too Many Requests"}), TryLater),
    ((503, {}), TryLater),
])
def test_provider_refusals_are_sorted_into_dead_letters_and_retries(
    provider: str, answer: tuple[int, dict[str, Any]], error: type[Exception],
) -> None:
    Provider.answer = answer
    with pytest.raises(error) as raised:
        _sms(provider).send(TEXT)
    assert "0199" not in str(raised.value)


def test_an_unreachable_provider_is_retried() -> None:
    with pytest.raises(TryLater):
        _sms("http://127.0.0.1:9").send(TEXT)


def test_a_reminder_goes_by_smtp_and_another_by_the_sms_provider_end_to_end(
    smtp: tuple[Inbox, int], provider: str, book: Callable[..., Appointment], run: Callable[..., Tally],
    notify_settings: Settings,
) -> None:
    inbox, port = smtp
    Provider.answer = (201, {"sid": "SM1", "status": "queued"})
    configured = notify_settings.model_copy(update={
        "mail": MailSettings(host="127.0.0.1", port=port, from_address="office@example.org"),
        "sms": SmsSettings(provider="twilio", base_url=provider, account_sid="AC123", auth_token="t",
                           from_number="+15555550100"),
    })
    router = worker.router_for(configured)
    by_mail = book(dt.date(2027, 3, 15), kind="email", contact="person.a@example.org")
    book(dt.date(2027, 3, 16), contact="555-555-0199")
    # the e-mail's two-hour reminder and the text's two-day one are both due now
    assert run(by_mail.starts_at - dt.timedelta(hours=2), router).sent == 2
    [raw] = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "person.a@example.org" and "/reminders/stop/" in mail["List-Unsubscribe"]
    [call] = Provider.calls
    assert call["form"]["To"] == ["+15555550199"]
    assert "STOP" in call["form"]["Body"][0]
