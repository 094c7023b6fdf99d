"""Privacy tables: the staff access log, its alerts, and the counts kept after retention."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.chain import Chained
from safeslot.db import Base, UTCDateTime


class AccessRecord(Chained, Base):
    """One staff read of one person's record (invariant "staff see what their work needs"): who, what, why, when.

    Append-only and hash-chained (safeslot/chain.py; invariant "the record cannot be rewritten from inside")."""

    __tablename__ = "access_record"
    __table_args__ = (Index("ix_access_record_staff_at", "staff_id", "at"), Index("ix_access_record_at", "at"),
                      Index("ix_access_record_record", "record_type", "record_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"))
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The role the reader acted in and their office, kept as they were at the time of the read: the
    # person sees "a clerk at Central office", never a name. Null on records from before.
    role: Mapped[str | None] = mapped_column(String(32))
    office_id: Mapped[int | None] = mapped_column(Integer)
    # Why: a name look-up's reason from a fixed list (privacy/reads.py), or "request <id>" for counsel.
    reason: Mapped[str | None] = mapped_column(String(64))


class AccessAlert(Chained, Base):
    """A bulk or unusual read, for auditors. Append-only and hash-chained (safeslot/chain.py)."""

    __tablename__ = "access_alert"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"))
    rule: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(400))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MonthlyCount(Base):
    """What is left of purged appointments: counts per month, office, service, status and language."""

    __tablename__ = "appointment_monthly_count"
    __table_args__ = (UniqueConstraint("month", "office_id", "service_id", "status", "language"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of the visit, UTC
    office_id: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))  # "" when no interpreter was asked for
    count: Mapped[int] = mapped_column(Integer)
