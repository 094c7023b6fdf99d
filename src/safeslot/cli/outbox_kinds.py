"""The kinds of message the outbox worker sends, each registered by the module that composes it.

A kind's handler registers itself when its module is imported (``outbox.register``); reminders,
which read another domain's appointments, are installed here with what they read (scheduling's
``reminders``), so notifications imports no domain. The worker lives in ``notifications/``, below
the domains whose messages it sends (disclosure's notices, identity's invitations), so it does not
import them; the shells that run it call `register_all` first, with ordinary imports the type
checker sees.
"""

from __future__ import annotations

from types import ModuleType

from safeslot.disclosure import notices
from safeslot.identity import mail
from safeslot.notifications import reminders
from safeslot.scheduling import reminders as appointments


def register_all() -> tuple[ModuleType, ...]:
    """Every kind's handler is registered (notices and mail by the imports above, reminders here with
    scheduling's appointments); the modules that registered them."""
    reminders.install(appointments)
    return notices, mail, reminders
