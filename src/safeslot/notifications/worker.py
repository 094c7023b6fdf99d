"""`safeslot worker`: drains the outbox, round after round, until told to stop.

Every message kind registers its handler when its module is imported; the
shells that run the worker import them all first (``cli/outbox_kinds.register_all``),
since the kinds live in domains above this one. Senders come from the settings: SMTP when ``mail.host`` is set (the
``.eml`` file sink otherwise, in development, demo and test only), and the SMS
provider named by ``sms.provider``. Several workers may run at once: claims
skip each other's rows (PostgreSQL) or take turns at the write lock (SQLite).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from safeslot.config import Settings
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox, sms
from safeslot.notifications.outbox import Tally, Transaction
from safeslot.notifications.senders import FileSender, Router, Sender, SmtpSender

LOG = logging.getLogger("safeslot.notifications")
def email_sender(settings: Settings) -> Sender | None:
    if settings.mail.host:
        return SmtpSender(settings.mail)
    return FileSender(settings.mail.outbox_dir, settings.mail.from_address) if settings.is_demo else None


def phone_sender(settings: Settings) -> Sender | None:
    """The SMS provider; without one, the file sink in development, demo and test (as for e-mail)."""
    provider = sms.provider_for(settings.sms)
    if provider is not None:
        return provider
    return FileSender(settings.mail.outbox_dir, settings.mail.from_address) if settings.is_demo else None


def router_for(settings: Settings) -> Router:
    """E-mail and SMS senders as configured; a kind with none makes its messages dead letters."""
    return Router(email=email_sender(settings), phone=phone_sender(settings))


def run(transaction: Transaction, ring: KeyRing, settings: Settings, clock: Callable[[], dt.datetime],
        router: Router | None = None, stop: threading.Event | None = None, once: bool = False) -> Tally:
    """Drain rounds every ``poll_seconds`` until ``stop`` is set (or after one round with ``once``)."""
    if not outbox.HANDLERS:  # a message of an unregistered kind would become a dead letter
        raise RuntimeError("No message kind is registered: call safeslot.cli.outbox_kinds.register_all() first.")
    router = router or router_for(settings)
    stop = stop or threading.Event()
    total = Tally()
    while True:
        try:
            tally = outbox.drain(transaction, router, ring, settings, clock)
        except Exception as exc:  # a database hiccup must not end the worker; no message text in the log
            LOG.error("outbox round failed: %s; trying again in %ss", type(exc).__name__,
                      settings.notifications.poll_seconds)
            tally = Tally()
        for name in ("sent", "retried", "dead", "cancelled", "interrupted"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        if tally.sent or tally.dead or tally.retried or tally.interrupted:
            LOG.info("outbox round: %s sent, %s to retry, %s dead, %s cancelled, %s interrupted", tally.sent,
                     tally.retried, tally.dead, tally.cancelled, tally.interrupted)
        if once or stop.wait(settings.notifications.poll_seconds):
            return total
