"""Opt-in reminders: when they are due, what they say, and STOP.

**When.** ``days_before`` reminders go out that many *calendar days* before, at
the appointment's wall-clock time in the office's time zone (an appointment at
10:00 on the Monday after the clocks change is reminded at 10:00 on the
Saturday, 47 or 49 hours before); ``hours_before`` reminders that many real
hours before. Each worker round queues, per appointment, only the latest
reminder already due, and only if it fell due after the booking (no "two days
before" message for a visit booked yesterday for tomorrow). The outbox key
names the appointment, the reminder and the start, so each is queued at most
once; a moved appointment gets its own reminders, and the old ones are
cancelled when they come up. Cancelled, opted out, contact deleted or STOP: the
handler cancels instead of sending (checked at send time).

**Words** (scam-safe): the office's name and address, the day and time, the
office's published phone number to check that the message is real, and how to
stop. No link that asks for anything (the only link, in e-mails, is the
one-click stop page), no name, no service, nothing about immigration,
citizenship or benefits. In the language the person booked in.

**STOP.** Every message says "reply STOP" (texts) or carries a stop link
(e-mails, with RFC 8058 one-click ``List-Unsubscribe``). A STOP records a keyed
hash of the contact (never the contact) and turns reminders off for the
appointment; no message is sent to that contact afterwards.

**Whose appointments.** Notifications sits below the domains whose messages it sends, so it
imports none of them: what reminders read of appointments (``Appointments``: the opted-in ones
ahead, one by id, its sealed contact, stop) is handed in by the shells — scheduling's
``reminders`` module, given to ``install`` by ``cli/outbox_kinds.register_all`` and to
``stop_by_token`` by the stop page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.kit import locale
from safeslot.kit.crypto import KeyRing
from safeslot.notifications import outbox
from safeslot.notifications.models import ContactStop, OutboxMessage, ReminderLanguage
from safeslot.notifications.outbox import Cancel, Context
from safeslot.notifications.senders import Outgoing
from safeslot.notifications.sms import e164

KIND = "reminder"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ALTO", "PARAR", "BAJA"})


# -- what reminders read of appointments (handed in; scheduling/reminders.py is the one in use) -----
class ReminderTarget(Protocol):
    """An opted-in booked appointment with a contact, as a reminder needs it."""

    @property
    def appointment_id(self) -> int: ...
    @property
    def office_id(self) -> int: ...
    @property
    def office_name(self) -> str: ...
    @property
    def office_address(self) -> str: ...
    @property
    def office_timezone(self) -> str: ...
    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def language(self) -> str | None: ...  # the interpreter language asked for, if any
    @property
    def contact_enc(self) -> bytes: ...  # sealed; opened at send time


class Appointments(Protocol):
    """What reminders read and change of appointments, from the domain that owns them."""

    def upcoming(self, session: Session, now: dt.datetime, horizon: dt.timedelta) -> Sequence[ReminderTarget]:
        """Opted-in booked appointments starting after ``now`` and within ``horizon``."""
        ...

    def target(self, session: Session, appointment_id: int) -> ReminderTarget | None:
        """The appointment as a reminder target now; None once cancelled, opted out, contact deleted, gone."""
        ...

    def contact_of(self, session: Session, appointment_id: int) -> bytes | None:
        """The sealed contact of an appointment, whatever its state (for a STOP from its reminder)."""
        ...

    def stop_reminders(self, session: Session, appointment_id: int) -> None:
        """No more reminders about this appointment."""
        ...


# -- when (pure) ---------------------------------------------------------------------------------
def due_times(starts_at: dt.datetime, timezone: str, days_before: list[int],
              hours_before: list[int]) -> list[tuple[str, dt.datetime]]:
    """(label, UTC time) of each reminder, earliest first. Days are calendar days in the office's zone."""
    zone = ZoneInfo(timezone)
    local = starts_at.astimezone(zone)
    out: list[tuple[str, dt.datetime]] = []
    for days in days_before:
        wall = (local.replace(tzinfo=None) - dt.timedelta(days=days)).replace(tzinfo=zone, fold=0)
        # a wall time that does not exist that day (the spring gap) is read after the gap, as the clocks do
        out.append((f"{days}d", wall.astimezone(dt.UTC)))
    for hours in hours_before:
        out.append((f"{hours}h", starts_at.astimezone(dt.UTC) - dt.timedelta(hours=hours)))
    return sorted(out, key=lambda item: item[1])


def current_reminder(starts_at: dt.datetime, created_at: dt.datetime, timezone: str, days_before: list[int],
                     hours_before: list[int], now: dt.datetime) -> tuple[str, dt.datetime] | None:
    """The reminder to queue now: the latest one already due, if it fell due after the booking."""
    if now >= starts_at:
        return None
    due = [(label, at) for label, at in due_times(starts_at, timezone, days_before, hours_before) if at <= now]
    if not due:
        return None
    label, at = due[-1]
    return (label, at) if at >= created_at else None


# -- queueing (a producer the worker calls each round) -------------------------------------------
def produce(session: Session, ctx: Context, appointments: Appointments) -> int:
    r = ctx.settings.reminders
    if not (r.days_before or r.hours_before):
        return 0
    horizon = dt.timedelta(days=max(r.days_before, default=0) + 1, hours=max(r.hours_before, default=0))
    wanted: dict[str, ReminderTarget] = {}
    for t in appointments.upcoming(session, ctx.now, horizon):
        pick = current_reminder(t.starts_at, t.created_at, t.office_timezone, r.days_before, r.hours_before,
                                ctx.now)
        if pick is not None:
            wanted[f"{KIND}:{t.appointment_id}:{pick[0]}:{t.starts_at.astimezone(dt.UTC):%Y%m%dT%H%MZ}"] = t
    if not wanted:
        return 0
    # one read of what is already queued, instead of an INSERT that conflicts every round
    known = set(session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.kind == KIND, OutboxMessage.ref.in_([t.appointment_id for t in wanted.values()]))))
    queued = 0
    for key, t in wanted.items():
        if key not in known:
            queued += outbox.enqueue(session, kind=KIND, ref=t.appointment_id, dedupe_key=key, now=ctx.now,
                                     office_id=t.office_id, about_at=t.starts_at)
    return queued


def remember_language(session: Session, appointment_id: int, language: str) -> None:
    """Called by the booking page: reminders come in the language the person booked in."""
    if language in locale.LANGUAGES:
        session.merge(ReminderLanguage(appointment_id=appointment_id, language=language))


def language_of(session: Session, appointment_id: int, interpreter: str | None) -> str:
    chosen = session.get(ReminderLanguage, appointment_id)
    if chosen is not None:
        return chosen.language
    return interpreter if interpreter in locale.LANGUAGES else "en"  # booked through the API: its language if known


# -- STOP ----------------------------------------------------------------------------------------
def canonical_contact(kind: str, address: str) -> str:
    return f"{kind}:{e164(address)}" if kind == "phone" else f"{kind}:{address.strip().lower()}"


def contact_hash(ring: KeyRing, kind: str, address: str) -> str:
    """A keyed hash of the contact (the ring's index key): equal contacts match; alone it reveals nothing."""
    return hmac.new(ring.index_key, f"stop|{canonical_contact(kind, address)}".encode(), hashlib.sha256).hexdigest()


def stopped(session: Session, ring: KeyRing, kind: str, address: str) -> bool:
    return session.get(ContactStop, contact_hash(ring, kind, address)) is not None


def record_stop(session: Session, ring: KeyRing, kind: str, address: str, now: dt.datetime, via: str) -> None:
    digest = contact_hash(ring, kind, address)
    if session.get(ContactStop, digest) is None:
        session.add(ContactStop(contact_hash=digest, stopped_at=now, via=via))
        session.flush()


def stop_token(secret_key: str, appointment_id: int) -> str:
    """The stop link's token: the appointment id and an HMAC of it (nothing else, nothing personal)."""
    mac = hmac.new(secret_key.encode(), f"reminder-stop:{appointment_id}".encode(), hashlib.sha256).hexdigest()
    return f"{appointment_id}-{mac[:32]}"


def appointment_of_token(secret_key: str, token: str) -> int | None:
    head, _, _ = token.partition("-")
    if not head.isdigit() or len(head) > 12:
        return None
    return int(head) if hmac.compare_digest(stop_token(secret_key, int(head)), token) else None


def stop_by_token(session: Session, ring: KeyRing, secret_key: str, token: str, now: dt.datetime,
                  appointments: Appointments) -> bool:
    """The stop link: reminders off for the appointment and its contact on the stop list. False: bad token."""
    appointment_id = appointment_of_token(secret_key, token)
    if appointment_id is None:
        return False
    sealed = appointments.contact_of(session, appointment_id)
    if sealed is not None:
        kind, _, address = ring.open(sealed, "appointment.contact").partition(":")
        record_stop(session, ring, kind, address, now, "link")
    appointments.stop_reminders(session, appointment_id)
    # queued reminders of this appointment are cancelled when they come up (the handler checks the stop list)
    return True


def stop_by_reply(session: Session, ring: KeyRing, phone: str, text: str, now: dt.datetime) -> bool:
    """An SMS reply: STOP (or a carrier's synonym, English or Spanish) puts the number on the stop list."""
    if text.strip().upper() not in STOP_WORDS:
        return False
    record_stop(session, ring, "phone", phone, now, "sms")
    return True


# -- what it says --------------------------------------------------------------------------------
def compose_text(lang: str, office_name: str, office_address: str, local_start: dt.datetime, office_phone: str,
                 contact_kind: str, stop_url: str | None) -> tuple[str, str]:
    """(subject, text) in ``lang``. Pure: the words a person reads."""
    _ = locale.translations(lang).gettext
    day = format_date(local_start.date(), format="full", locale=lang)
    time = format_time(local_start.time(), format="short", locale=lang)
    subject = _("Reminder: your appointment on %(day)s") % {"day": day}
    lines = [
        _("Reminder: you have an appointment at %(office)s, %(address)s, on %(day)s at %(time)s.")
        % {"office": office_name, "address": office_address, "day": day, "time": time},
        _("To check that this message is from us, call the office at %(phone)s.") % {"phone": office_phone},
        _("We will never ask you for personal information or payment by text or e-mail."),
    ]
    if contact_kind == "phone":
        lines.append(_("Reply STOP to stop these messages."))
    elif stop_url:
        lines.append(_("To stop these messages, open %(url)s") % {"url": stop_url})
    return subject, "\n\n".join(lines) + "\n"


@dataclass(frozen=True)
class ReminderHandler:
    """The outbox's handler of reminders, and the worker's producer of them (called each round)."""

    appointments: Appointments

    def __call__(self, session: Session, ctx: Context) -> int:
        return produce(session, ctx, self.appointments)

    def compose(self, session: Session, message: OutboxMessage, ctx: Context) -> Outgoing:
        t = self.appointments.target(session, message.ref)
        if t is None:
            raise Cancel("the appointment was cancelled, has no contact any more, or reminders were turned off")
        if message.about_at is not None and t.starts_at != message.about_at:
            raise Cancel("the appointment moved; its new time has its own reminders")
        if ctx.now >= t.starts_at:
            raise Cancel("the appointment has started")
        kind, _, address = ctx.ring.open(t.contact_enc, "appointment.contact").partition(":")
        if stopped(session, ctx.ring, kind, address):
            raise Cancel("the contact said STOP")
        lang = language_of(session, t.appointment_id, t.language)
        local = t.starts_at.astimezone(ZoneInfo(t.office_timezone))
        stop_url = f"{ctx.public_url}/reminders/stop/{stop_token(ctx.settings.secret_key, t.appointment_id)}"
        subject, text = compose_text(lang, t.office_name, t.office_address, local,
                                     ctx.settings.reminders.office_phone, kind, stop_url)
        headers = {"Content-Language": lang}
        if kind == "email":  # RFC 2369 and RFC 8058: a one-click stop the mail client can offer
            headers |= {"List-Unsubscribe": f"<{stop_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        return Outgoing(kind, address, subject, text, headers, ref=f"reminder-{message.id}")

    def finished(self, session: Session, message: OutboxMessage, ctx: Context) -> None:
        return None


def install(appointments: Appointments) -> ReminderHandler:
    """Register reminders with the outbox: their handler, and their producer, which the worker calls each round.
    Installing again with the same ``appointments`` changes nothing (the handler is equal, so not added twice)."""
    handler = ReminderHandler(appointments)
    outbox.register(KIND, handler)
    outbox.register_producer(handler)
    return handler
