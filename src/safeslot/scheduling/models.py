"""Scheduling tables. Times are stored in UTC; each office names its IANA zone.

Capacity is people (docs/decisions.md "Booking books people"). Every
appointment is assigned to one staff member and, when the person needs one, an
interpreter (another staff member who speaks the language). Each of them is held
for the whole visit by one ``StaffHold`` row per 15-minute unit, inserted in the
same transaction as the appointment. The primary key (staff_id, starts_at) makes
a person in two appointments at once impossible in the database itself, on
SQLite and PostgreSQL alike, whatever the services.

``SlotCapacity`` is the grid of start times a service may be booked at (opening
hours, closures, daylight-saving gaps): a start is open while ``capacity >
booked``. ``capacity`` is the number of staff who served the service when the
grid was made (0: closed); ``booked`` is no longer counted (0 since migration
0100) and is kept only so a start can be closed by raising it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safeslot.db import Base, UTCDateTime

STEP_MINUTES = 15  # the interpreter grid; every service duration is a multiple of it


class Office(Base):
    __tablename__ = "office"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    timezone: Mapped[str] = mapped_column(String(64))
    # WGS 84 degrees, set by the office's supervisor; an office without them is not in the finder.
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    # Set when a second administrator approved closing it: no new slots, out of the finder and the lists.
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("office_id", "slug"),
        CheckConstraint(f"duration_minutes > 0 AND duration_minutes % {STEP_MINUTES} = 0", name="duration"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # The name and description in other languages than the office's own (English); loaded when shown.
    translations: Mapped[list[ServiceTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="ServiceTranslation.language"
    )

    def text_in(self, language: str) -> tuple[str, str, str]:
        """(name, description, the language they are in): the translation if there is one, else English."""
        for t in self.translations:
            if t.language == language:
                return t.name, t.description, language
        return self.name, self.description, "en"


class ServiceTranslation(Base):
    """A service's name and description in another language, written by the office's supervisor."""

    __tablename__ = "service_translation"
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)


class Staff(Base):
    """A person who serves the public at an office (not a login: see identity)."""

    __tablename__ = "staff"
    # an office's people, in id order (repository.staff; migration 0360)
    __table_args__ = (Index("ix_staff_office", "office_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(200))
    # BCP 47 tags, space separated, e.g. "en es vi"
    languages: Mapped[str] = mapped_column(String(200))
    # service slugs, space separated
    services: Mapped[str] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # False: works whenever the office is open. True: only inside their ``StaffHours`` windows (none: never).
    own_hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class StaffHours(Base):
    """One window of a staff member's weekly working hours (office local time), used when ``own_hours``."""

    __tablename__ = "staff_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens < closes", name="order"),
        Index("ix_staff_hours_staff", "staff_id", "weekday"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0, as in Python
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)


class StaffAbsence(Base):
    """Whole days (office local, inclusive) a staff member does not work, whatever their hours."""

    __tablename__ = "staff_absence"
    __table_args__ = (
        CheckConstraint("first_day <= last_day", name="order"),
        Index("ix_staff_absence_staff", "staff_id", "first_day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)


class WeeklyHours(Base):
    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens < closes", name="order"),
        Index("ix_weekly_hours_office", "office_id", "weekday"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0, as in Python
    opens: Mapped[dt.time] = mapped_column(Time)  # office local time
    closes: Mapped[dt.time] = mapped_column(Time)


class Closure(Base):
    __tablename__ = "closure"
    __table_args__ = (UniqueConstraint("office_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)  # office local date
    reason: Mapped[str] = mapped_column(String(200))


class SlotCapacity(Base):
    __tablename__ = "slot_capacity"
    __table_args__ = (
        UniqueConstraint("office_id", "service_id", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),
        Index("ix_slot_capacity_search", "service_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class StaffHold(Base):
    """One person held for one 15-minute unit of one appointment (as its server or its interpreter), or of
    a walk-in they are serving (role ``walk-in``, ``ticket_id`` set: the queue's clerk at the desk).

    The primary key is the guarantee: a person is in at most one visit per unit.
    """

    __tablename__ = "staff_hold"
    __table_args__ = (
        Index("ix_staff_hold_office_time", "office_id", "starts_at", "staff_id"),  # covering: slot search
        CheckConstraint("role IN ('serve', 'interpret', 'walk-in')", name="role"),
        CheckConstraint("(appointment_id IS NULL) <> (ticket_id IS NULL)", name="owner"),
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("queue_ticket.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class Appointment(Base):
    """FHIR Appointment.status: booked → checked-in → fulfilled, or cancelled / noshow.

    Collect the minimum (docs/architecture.md): a name or initials, and optionally a
    language, an accommodation need and a contact for opt-in reminders. Name,
    contact and accommodation are stored only encrypted (kit/crypto.py);
    ``name_index`` is a keyed blind index so counsel can match a named subject
    without decrypting everyone.
    """

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_office_start", "office_id", "starts_at"),
        # a person's visits: the database's one-visit-at-a-time check (migration 0550) looks them up here
        Index("ix_appointment_staff_start", "staff_id", "starts_at"),
        Index("ix_appointment_interpreter_start", "interpreter_id", "starts_at",
              postgresql_where=text("interpreter_id IS NOT NULL"), sqlite_where=text("interpreter_id IS NOT NULL")),
        # the worker's reminder scan, by start, of the visits it may remind (migration 0570: why no status)
        Index("ix_appointment_reminders", "starts_at",
              postgresql_where=text("reminders_opt_in IS true AND contact_enc IS NOT NULL"),
              sqlite_where=text("reminders_opt_in IS 1 AND contact_enc IS NOT NULL")),
        # retention: visits past their period (a BRIN on PostgreSQL: see migration 0570), and the contacts still
        # kept, by end
        Index("ix_appointment_end", "ends_at", postgresql_using="brin"),
        Index("ix_appointment_contact_end", "ends_at", postgresql_where=text("contact_enc IS NOT NULL"),
              sqlite_where=text("contact_enc IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot_capacity.id"))
    # Who serves, and who interprets (None: no interpreter asked, or the server speaks the language).
    # Both None on a booked appointment: its person left and no one could take it (listed for the supervisor).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    interpreter_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="booked")
    language: Mapped[str | None] = mapped_column(String(16))
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_index: Mapped[str] = mapped_column(String(64), index=True)
    accommodation_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    reminders_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # RFC 5545 SEQUENCE
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class IdempotencyRecord(Base):
    """The first answer to an Idempotency-Key, replayed on retries (invariant "nothing lost, nothing doubled").

    Holds no personal data: booking answers carry the code and the time, never
    the name or the contact.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (Index("ix_idempotency_record_created", "created_at"),)  # retention, by age
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AvailabilityOffice(Base):
    """An office's setup version: bumped by database triggers (migration 0481) whenever anything a slot search
    reads changes, except who is held (``AvailabilityHour``). The search cache's key; never written by code."""

    __tablename__ = "availability_office"
    office_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class AvailabilityHour(Base):
    """The version of who is held during one UTC hour (``hour`` = epoch seconds // 3600) of an office: bumped
    by a trigger on ``staff_hold`` under that hour's assignment lock. Never written by code."""

    __tablename__ = "availability_hour"
    office_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
