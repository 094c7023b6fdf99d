"""Notice to the person: an agency received records about you.

A notice is queued (table `disclosure_notice`, the outbox) for an accounting entry the
person may see — not a (b)(7) disclosure (552a(c)(3)), no non-disclosure order still
running — when one of the disclosed appointments still has a contact and the person
opted in to reminders. Queuing never opens the contact: it stays sealed in the
appointment and only the outbox handler opens it, at send time. Release queues at once;
`safeslot worker` (and `safeslot notices send`) queue entries whose order has since
expired and send each queued notice at most once (notifications/outbox.py).

The message says only that an agency received records and how to see the details on
the "Who has seen my records" page with the confirmation code: never the agency, the
categories or anything from the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import DisclosureNotice
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import interfaces as outbox
from safeslot.notifications.interfaces import SENT, Cancel, Context, Message, Outgoing, Router, Undeliverable
from safeslot.scheduling import interfaces as scheduling
from safeslot.scheduling.interfaces import Appointment

SUBJECT = "A government agency received records about you"


KIND = "disclosure_notice"  # its kind in the notifications outbox


def _reachable(session: Session, entry_id: int) -> Appointment | None:
    """The first disclosed appointment that still has a contact with reminders opted in."""
    for code in repo.entry_codes(session, entry_id):
        appointment = scheduling.appointment_by_code(session, code)
        if appointment is not None and appointment.contact_enc and appointment.reminders_opt_in:
            return appointment
    return None


def queue_due(session: Session, now: dt.datetime, request_id: int | None = None) -> int:
    """Queue a notice for each entry the person may now see and can be told about (in the caller's transaction)."""
    queued = 0
    for entry in repo.entries_due_for_notice(session, now, request_id):
        appointment = _reachable(session, entry.id)
        if appointment is None:
            continue
        notice = DisclosureNotice(entry_id=entry.id, status="queued", created_at=now)
        session.add(notice)
        session.flush()
        outbox.enqueue(session, kind=KIND, ref=notice.id, dedupe_key=f"{KIND}:{notice.id}", now=now,
                       office_id=appointment.office_id)
        queued += 1
    session.flush()
    return queued


def body(code: str, records_url: str) -> str:
    return (
        "Hello,\n\n"
        "The office where you booked an appointment gave records about you to another government agency, "
        "as the law requires or allows. The law now lets us tell you about it.\n\n"
        "To see which agency received them, when and why, open the page \"Who has seen my records\":\n"
        f"  {records_url}\n"
        f"and enter your confirmation code {code} and your name as you gave it when you booked.\n\n"
        "You do not need to do anything. If you have questions, ask the office.\n"
    )


class NoticeHandler:
    """Composes a notice at send time (the contact is opened only then) and records the outcome."""

    def compose(self, session: Session, message: Message, ctx: Context) -> Outgoing:
        notice = repo.notice(session, message.ref)
        if notice is None:
            raise Cancel("the notice no longer exists")
        appointment = _reachable(session, notice.entry_id)
        if appointment is None or appointment.contact_enc is None:
            raise Undeliverable("the contact was deleted before sending")
        kind, _, address = ctx.ring.open(appointment.contact_enc, "appointment.contact").partition(":")
        if outbox.stopped(session, ctx.ring, kind, address):
            raise Cancel("the contact said STOP")
        return Outgoing(kind, address, SUBJECT, body(appointment.code, f"{ctx.public_url}/records"),
                        ref=f"notice-{notice.id}")

    def finished(self, session: Session, message: Message, ctx: Context) -> None:
        notice = repo.notice(session, message.ref)
        if notice is None:
            return
        notice.channel = message.channel
        if message.status == SENT:
            notice.status, notice.sent_at, notice.failure = "sent", message.sent_at, None
        else:
            notice.status, notice.failure = "failed", message.last_error
        session.flush()


outbox.register(KIND, NoticeHandler())


def _queue_deferred(session: Session, ctx: Context) -> int:
    """The worker's producer: notices whose non-disclosure order expired since the last round."""
    return queue_due(session, ctx.now)


outbox.register_producer(_queue_deferred)


def send_all(transaction: Callable[[], AbstractContextManager[Session]], ring: KeyRing, router: Router,
             clock: Callable[[], dt.datetime], public_url: str) -> tuple[int, int, int]:
    """`safeslot notices send`: queue what became due, then drain the notices in the outbox once.

    Delivery is the outbox's (notifications/outbox.py): each message is claimed in
    its own committed transaction before it is sent, so two runs (or a run and
    `safeslot worker`) never send it twice, and one interrupted mid-send becomes a
    dead letter instead of going out again. Returns (queued, sent, failed); a
    notice whose server was unreachable counts as failed now and is tried again later.
    """
    with transaction() as session:
        queued = queue_due(session, clock())
    tally = outbox.drain(transaction, router, ring, Settings.model_construct(), clock,
                         kinds=(KIND,), produce=False, public_url=public_url)
    per = tally.by_kind.get(KIND, {})
    failed = per.get("dead", 0) + per.get("cancelled", 0) + per.get("retried", 0) + per.get("interrupted", 0)
    return queued, per.get("sent", 0), failed
