"""The transactional outbox: queue a message with the change it is about, send it at most once.

``enqueue`` is called inside the caller's transaction (a release, a reminder
scan): the message exists if and only if that transaction commits. Delivery:

1. **claim** — in its own committed transaction, a batch of due ``queued``
   rows becomes ``sending`` (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL,
   so several workers take different rows; SQLite's single writer serialises
   the conditional ``UPDATE … WHERE status = 'queued'``);
2. **send** — the kind's handler composes the message from its source (a
   sealed contact is opened only here, in memory) and a sender sends it;
3. **record** — ``sent``; or ``queued`` again with exponential backoff for a
   transient failure; or ``dead`` (a dead letter staff see in the console) when
   retrying cannot help or the tries are used up; or ``cancelled`` when what it
   was about went away (an appointment cancelled or moved, a contact that said
   STOP).

A worker killed between 1 and 3 leaves the row ``sending``. It is never sent
again by itself: after ``lease_seconds`` it becomes a dead letter marked
``interrupted`` (the message may or may not have gone out), and only a person
may send it again. So each message reaches a person at most once.

Nothing personal is logged: the log lines name ids, kinds, states and
exception class names.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.kit.crypto import KeyRing
from safeslot.notifications.models import CANCELLED, DEAD, QUEUED, SENDING, SENT, OutboxMessage
from safeslot.notifications.senders import Outgoing, Router, TryLater, Undeliverable

LOG = logging.getLogger("safeslot.notifications")
INTERRUPTED = "interrupted while sending: it may have gone out; send again only if you are sure it did not"

Transaction = Callable[[], AbstractContextManager[Session]]
# "Send as soon as you can": a new message is due whatever the worker's clock says (another
# process's clock may lag the writer's); only retries wait for a time.
ASAP = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class Cancel(Exception):
    """The handler decided not to send: what the message was about went away. ``args[0]`` says why, in words."""


@dataclass
class Context:
    """What a handler may use to compose: the keys, the settings, the time."""

    ring: KeyRing
    settings: Settings
    now: dt.datetime
    public_url: str = ""  # where links point; settings.server.public_url unless given

    def __post_init__(self) -> None:
        self.public_url = (self.public_url or self.settings.server.public_url).rstrip("/")


class Handler(Protocol):
    """One kind of message: how to compose it and what its domain records afterwards."""

    def compose(self, session: Session, message: OutboxMessage, ctx: Context) -> Outgoing:
        """The message to send now; raise ``Cancel`` to drop it or ``Undeliverable`` for a dead letter."""
        ...

    def finished(self, session: Session, message: OutboxMessage, ctx: Context) -> None:
        """Called once the message is sent, dead or cancelled (its ``status`` says which)."""
        ...


HANDLERS: dict[str, Handler] = {}
PRODUCERS: list[Callable[[Session, Context], int]] = []


def register(kind: str, handler: Handler) -> None:
    HANDLERS[kind] = handler


def register_producer(produce: Callable[[Session, Context], int]) -> None:
    """A function the worker calls each round to queue what became due (reminders, deferred notices)."""
    if produce not in PRODUCERS:
        PRODUCERS.append(produce)


def enqueue(session: Session, *, kind: str, ref: int, dedupe_key: str, now: dt.datetime,
            office_id: int | None = None, about_at: dt.datetime | None = None,
            not_before: dt.datetime | None = None) -> bool:
    """Queue a message in the caller's transaction; False if one with this ``dedupe_key`` exists already."""
    values = {"kind": kind, "ref": ref, "dedupe_key": dedupe_key, "office_id": office_id, "about_at": about_at,
              "status": QUEUED, "attempts": 0, "next_attempt_at": not_before or ASAP, "created_at": now}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = session.execute(insert(OutboxMessage).values(**values).on_conflict_do_nothing(
        index_elements=["dedupe_key"]))
    return bool(getattr(result, "rowcount", 0))


def backoff(settings: Settings, attempts: int, rng: random.Random | None = None) -> dt.timedelta:
    """Exponential backoff with ±20 % jitter: base, 2 x base, 4 x base … (attempts counts the tries made)."""
    jitter = (rng or random.SystemRandom()).uniform(0.8, 1.2)
    return dt.timedelta(seconds=settings.notifications.backoff_seconds * 2 ** max(attempts - 1, 0) * jitter)


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    interrupted: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, kind: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        per = self.by_kind.setdefault(kind, {})
        per[outcome] = per.get(outcome, 0) + 1


def recover(session: Session, ctx: Context, kinds: Iterable[str] | None = None) -> list[int]:
    """Rows left ``sending`` by a worker that died become dead letters marked interrupted (never resent)."""
    stale = ctx.now - dt.timedelta(seconds=ctx.settings.notifications.lease_seconds)
    query = select(OutboxMessage).where(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < stale)
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(list(kinds)))
    found = list(session.scalars(query.with_for_update(skip_locked=True)))
    for message in found:
        message.status, message.last_error = DEAD, INTERRUPTED
        handler = HANDLERS.get(message.kind)
        if handler is not None:
            handler.finished(session, message, ctx)
        LOG.warning("outbox message %s (%s) was interrupted while sending: now a dead letter", message.id,
                    message.kind)
    session.flush()
    return [m.id for m in found]


def prune(session: Session, before: dt.datetime) -> int:
    """Finished messages (sent, cancelled, dead) queued before ``before`` are deleted: kept no longer than the
    appointments they were about (``retention.appointment_days``)."""
    result = session.execute(delete(OutboxMessage).where(OutboxMessage.status.in_([SENT, CANCELLED, DEAD]),
                                                         OutboxMessage.created_at < before)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def claim(session: Session, now: dt.datetime, limit: int, kinds: Iterable[str] | None = None) -> list[int]:
    """Take up to ``limit`` due messages for this worker (committed by the caller before sending)."""
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(list(kinds)))
    ids = list(session.scalars(query.with_for_update(skip_locked=True)))
    if not ids:
        return []
    taken = session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == QUEUED)
        .values(status=SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(taken.scalars())


def deliver(session: Session, message_id: int, router: Router, ctx: Context) -> str:
    """Compose and send one claimed message, and record what happened; returns the outcome."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.status != SENDING:
        return "skipped"
    handler = HANDLERS.get(message.kind)
    outcome: str
    try:
        if handler is None:
            raise Undeliverable(f"no handler for messages of kind {message.kind!r}")
        try:
            outgoing = handler.compose(session, message, ctx)
        except (Cancel, Undeliverable):
            raise
        except Exception as exc:  # e.g. the contact's month key was destroyed: nothing was sent
            raise Undeliverable(f"the message could not be composed ({type(exc).__name__})") from None
        message.channel = router.channel(outgoing.contact_kind)
        # An unexpected error from a sender propagates: the message stays "sending" and becomes an
        # interrupted dead letter, since it may have gone out.
        message.channel = router.send(outgoing)
    except Cancel as exc:
        message.status, message.last_error, outcome = CANCELLED, str(exc.args[0])[:200], "cancelled"
    except Undeliverable as exc:
        message.status, message.last_error, outcome = DEAD, str(exc)[:200], "dead"
    except (TryLater, OSError) as exc:
        reason = str(exc) if isinstance(exc, TryLater) else type(exc).__name__
        if message.attempts >= ctx.settings.notifications.max_attempts:
            message.status, outcome = DEAD, "dead"
            message.last_error = f"gave up after {message.attempts} tries: {reason}"[:200]
        else:
            message.status, message.last_error, outcome = QUEUED, reason[:200], "retried"
            message.next_attempt_at = ctx.now + backoff(ctx.settings, message.attempts)
    else:
        message.status, message.sent_at, message.last_error, outcome = SENT, ctx.now, None, "sent"
    if handler is not None and message.status in (SENT, DEAD, CANCELLED):
        handler.finished(session, message, ctx)
    session.flush()
    LOG.info("outbox message %s (%s): %s after %s tries", message.id, message.kind, outcome, message.attempts)
    return outcome


def drain(transaction: Transaction, router: Router, ring: KeyRing, settings: Settings,
          clock: Callable[[], dt.datetime], kinds: Sequence[str] | None = None, *, produce: bool = True,
          public_url: str = "") -> Tally:
    """One round of the worker: recover, produce, then claim and send batches until nothing is due."""
    tally = Tally()
    with transaction() as session:
        ctx = Context(ring, settings, clock(), public_url)
        for message_id in recover(session, ctx, kinds):
            tally.count(str(session.get(OutboxMessage, message_id).kind), "interrupted")  # type: ignore[union-attr]
        prune(session, ctx.now - dt.timedelta(days=settings.retention.appointment_days))
        if produce:
            for producer in PRODUCERS:
                producer(session, ctx)
    while True:
        with transaction() as session:
            ids = claim(session, clock(), settings.notifications.batch_size, kinds)
        if not ids:
            return tally
        for message_id in ids:
            with transaction() as session:
                outcome = deliver(session, message_id, router, Context(ring, settings, clock(), public_url))
                kind = session.get(OutboxMessage, message_id)
            if outcome != "skipped" and kind is not None:
                tally.count(kind.kind, outcome)


# -- the dead-letter list (console) --------------------------------------------------------------
def dead_letters(session: Session, office_ids: Iterable[int] | None = None, limit: int = 200) -> list[OutboxMessage]:
    """Dead letters, newest first; ``office_ids`` limits them to those offices' (None: all)."""
    query = select(OutboxMessage).where(OutboxMessage.status == DEAD)
    if office_ids is not None:
        query = query.where(OutboxMessage.office_id.in_(list(office_ids)))
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def retry(session: Session, message_id: int, now: dt.datetime, office_ids: Iterable[int] | None = None) -> bool:
    """Send a dead letter again from now, with its tries reset; False if it is not a dead letter (here)."""
    query = update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == DEAD)
    if office_ids is not None:
        query = query.where(OutboxMessage.office_id.in_(list(office_ids)))
    result = session.execute(query.values(status=QUEUED, attempts=0, next_attempt_at=now, last_error=None,
                                          claimed_at=None).execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


def backlog(session: Session, now: dt.datetime) -> dict[tuple[str, ...], float]:
    """``/metrics``: the messages waiting, being sent and dead, by state (each counted on the claim's index, by
    its state: the sent ones, nearly all of the table, are not read)."""
    from sqlalchemy import func

    rows = session.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.status.in_([QUEUED, SENDING, DEAD])).group_by(OutboxMessage.status))
    found = {status: float(n) for status, n in rows}
    return {(status,): found.get(status, 0.0) for status in (QUEUED, SENDING, DEAD)}


def oldest_due(session: Session, now: dt.datetime) -> dict[tuple[str, ...], float]:
    """``/metrics``: seconds since the oldest message due now was queued (0 when none is due): it grows while no
    worker sends. A retry waiting for its time is not due."""
    from sqlalchemy import func

    first = session.scalar(select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now))
    return {(): 0.0 if first is None else max(0.0, (now - first).total_seconds())}


def counts(session: Session) -> dict[str, int]:
    """How many messages are in each state (for the console and metrics); no ids, no contacts."""
    from sqlalchemy import func

    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: int(n) for status, n in rows}
