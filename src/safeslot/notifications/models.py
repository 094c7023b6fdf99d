"""The outbox and what reminders need to remember; no contact, name or text is stored here."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.db import Base, UTCDateTime

# Outbox states. queued → sending → sent, or back to queued with a later next_attempt_at
# (a transient failure), or dead (permanent failure, tries used up, or interrupted mid-send);
# cancelled when what it was about went away (an appointment cancelled or moved).
QUEUED, SENDING, SENT, DEAD, CANCELLED = "queued", "sending", "sent", "dead", "cancelled"


class OutboxMessage(Base):
    """One message to send, written in the same transaction as the change it is about.

    It names what it is about (``kind`` and ``ref``: an appointment, a notice), never
    a contact or a text: the handler of its kind composes the message at send time
    from the sealed contact, so the queue, its logs and its dead letters hold no
    personal data. ``dedupe_key`` is unique: the same reminder is queued at most once.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),  # the claim
        Index("ix_notification_outbox_ref", "kind", "ref"),  # the reminder round's de-duplication
        Index("ix_notification_outbox_created", "created_at"),  # pruning the finished, by age
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    office_id: Mapped[int | None] = mapped_column(Integer)
    about_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # e.g. the appointment's start
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(String(200))  # a reason in words or an exception class name


class ReminderLanguage(Base):
    """The language a person booked in (the page's), for their reminders; deleted with the appointment."""

    __tablename__ = "notification_reminder_language"

    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))


class ContactStop(Base):
    """A contact that said STOP: a keyed hash only (kit/crypto blind index), never the contact itself."""

    __tablename__ = "notification_contact_stop"

    contact_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    stopped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    via: Mapped[str] = mapped_column(String(16))  # link | sms
