"""Queue tables: tickets, the per-office daily ticket counter, and the counts kept after retention.

A ticket is a place in the office's queue for one visit today: a walk-in, or an
appointment whose holder checked in. Its number is unique per office and local
day; its ``token`` (unguessable) is the address of the person's ticket page,
so no account or cookie is needed. A walk-in may give a name or initials (or
nothing); it is stored only sealed (kit/crypto.py) and has no blind index, so
the disclosure gate cannot match a ticket to a named subject.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.db import Base, UTCDateTime

KINDS = ("walk-in", "appointment")
STATUSES = ("waiting", "called", "done", "noshow", "left")


class QueueTicket(Base):
    """waiting → called → done | noshow; called → waiting (transfer); waiting → left (the person leaves)."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        UniqueConstraint("office_id", "day", "number"),
        CheckConstraint("kind IN ('walk-in', 'appointment')", name="kind"),
        CheckConstraint("status IN ('waiting', 'called', 'done', 'noshow', 'left')", name="status"),
        CheckConstraint("(kind = 'appointment') = (due_at IS NOT NULL)", name="due"),
        CheckConstraint("status <> 'called' OR (staff_id IS NOT NULL AND called_at IS NOT NULL)", name="caller"),
        Index("ix_queue_ticket_office_status", "office_id", "status", "queued_at"),
        Index("ix_queue_ticket_office_day", "office_id", "day"),
        # retention, by day: the tickets past their period, and the names still kept
        Index("ix_queue_ticket_day", "day"),
        Index("ix_queue_ticket_name_day", "day", postgresql_where=text("name_enc IS NOT NULL"),
              sqlite_where=text("name_enc IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)  # office local date of the check-in
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    # An appointment checks in once; purging the appointment leaves the ticket (its own retention) unlinked.
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL"), unique=True
    )
    language: Mapped[str | None] = mapped_column(String(16))
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # walk-ins only, optional, sealed
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the appointment's start
    checked_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # arrival; a transfer keeps it
    called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the latest call
    first_called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the wait ends here
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    desk: Mapped[str | None] = mapped_column(String(32))
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)


class QueueCounter(Base):
    """The last ticket number handed out at an office on a local day (one row, updated in place)."""

    __tablename__ = "queue_counter"
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class QueueDailyCount(Base):
    """What is left of purged tickets: counts per day, office, service, kind, language, outcome and wait band."""

    __tablename__ = "queue_daily_count"
    __table_args__ = (
        UniqueConstraint("day", "office_id", "service_id", "kind", "language", "outcome", "wait_band"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    office_id: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))  # "" when none was chosen
    outcome: Mapped[str] = mapped_column(String(16))  # done, noshow, left, waiting, called
    wait_band: Mapped[str] = mapped_column(String(8))  # "0-5", "5-15", "15-30", "30-60", "60+", "" (never called)
    count: Mapped[int] = mapped_column(Integer)
