"""What other domains may use of notifications: queue a message of their kind, and handle it.

A domain with something to send (disclosure's notices to the person, identity's invitations
and key links) registers a handler for its kind with `register`,
queues messages with `enqueue` inside its own transaction, and is called back by the worker:
`compose` opens what it sealed and returns an `Outgoing`, `finished` records the outcome.
The handler sees a queued message only through `Message` (never the outbox table), so no
domain reads notifications' models. The console lists the dead letters of a supervisor's offices
(`dead_letters`) and puts one back in the outbox (`retry`); `/metrics` reads the backlog by state
(`backlog`) and how long the oldest due message has waited (`oldest_due`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from safeslot.notifications import reminders
from safeslot.notifications.models import CANCELLED, DEAD, SENT
from safeslot.notifications.outbox import (
    Cancel,
    Context,
    backlog,
    dead_letters,
    drain,
    enqueue,
    oldest_due,
    register,
    register_producer,
    retry,
)
from safeslot.notifications.senders import Outgoing, Router, Undeliverable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from safeslot.kit.crypto import KeyRing

__all__ = ["CANCELLED", "DEAD", "SENT", "Cancel", "Context", "Message", "Outgoing", "Router", "Undeliverable",
           "backlog", "dead_letters", "drain", "enqueue", "oldest_due", "register", "register_producer", "retry",
           "stopped"]


def stopped(session: Session, ring: KeyRing, kind: str, address: str) -> bool:
    """Whether the person at this address said STOP (reminders.py keeps the list): then nothing is sent to it."""
    return reminders.stopped(session, ring, kind, address)


class Message(Protocol):
    """A queued message as its handler sees it: what it is about and how it ended."""

    @property
    def ref(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def sent_at(self) -> dt.datetime | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def last_error(self) -> str | None: ...
