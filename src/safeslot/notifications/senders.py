"""Senders: how a composed message leaves — e-mail by SMTP, texts through an SMS provider, or files.

A sender raises ``Undeliverable`` when trying again cannot help (no provider for
texts, an address the server refuses for good) and ``TryLater`` (or any
``OSError``) when it might (server down, timeout, 4xx). The worker turns the
first into a dead letter and the second into a retry with backoff. Errors are
recorded by class name and a fixed reason, never with the address or the text.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from safeslot.config import MailSettings


class Undeliverable(Exception):
    """Trying again cannot help: no way to reach this kind of contact, or the address is refused for good."""


class TryLater(Exception):
    """The provider or server could not take the message now."""


@dataclass(frozen=True)
class Outgoing:
    """A message ready to leave: composed at send time, held only in memory."""

    contact_kind: str  # email | phone
    address: str
    subject: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)  # e-mail only (List-Unsubscribe, Content-Language)
    ref: str = ""  # the outbox id, for the provider's idempotency and the file name


class Sender(Protocol):
    channel: str

    def send(self, message: Outgoing) -> None: ...


def email_message(from_address: str, message: Outgoing) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = from_address
    mail["To"] = message.address
    mail["Subject"] = message.subject
    for name, value in message.headers.items():
        mail[name] = value
    mail.set_content(message.text)
    return mail


class SmtpSender:
    """E-mail through an SMTP server (stdlib smtplib); STARTTLS and login when configured."""

    channel = "smtp"

    def __init__(self, settings: MailSettings) -> None:
        if not settings.host:
            raise ValueError("SMTP needs SAFESLOT_MAIL__HOST")
        self.settings = settings

    def send(self, message: Outgoing) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.host or "", s.port, timeout=s.timeout_seconds) as smtp:
                if s.starttls:
                    smtp.starttls()
                if s.username and s.password:
                    smtp.login(s.username, s.password)
                smtp.send_message(email_message(s.from_address, message))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise Undeliverable("the mail server refused the address") from None
            raise TryLater("the mail server deferred the address") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise Undeliverable(f"the mail server refused the message ({exc.smtp_code})") from None
            raise TryLater(f"the mail server deferred the message ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TryLater(f"the mail server could not be reached ({type(exc).__name__})") from None


class FileSender:
    """Development, demo and test: each message is written as an .eml file to a folder."""

    channel = "file"

    def __init__(self, directory: Path, from_address: str = "notices@safeslot.localhost") -> None:
        self.directory = directory
        self.from_address = from_address

    def send(self, message: Outgoing) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        mail = email_message(self.from_address, message)
        mail["X-Safeslot-Channel"] = message.contact_kind
        path = self.directory / f"{message.ref or 'message'}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(mail.as_bytes())
        tmp.replace(path)


class Router:
    """One sender per contact kind: e-mail and phone; a kind without a sender is undeliverable."""

    def __init__(self, email: Sender | None, phone: Sender | None) -> None:
        self.by_kind = {"email": email, "phone": phone}

    def channel(self, kind: str) -> str | None:
        sender = self.by_kind.get(kind)
        return sender.channel if sender is not None else None

    def send(self, message: Outgoing) -> str:
        sender = self.by_kind.get(message.contact_kind)
        if sender is None:
            raise Undeliverable(f"no {message.contact_kind} sender is configured")
        sender.send(message)
        return sender.channel
