"""Identity tables: staff accounts, agencies and their officials, and credentials.

A credential is any secret that signs someone in: an API bearer token, a
console session cookie, or an agency official's API key. Only its SHA-256 is
stored, so a copy of the database cannot be used to sign in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.db import Base, UTCDateTime


class StaffAccount(Base):
    """A person who signs in to work: roles are space separated (``clerk supervisor``)."""

    __tablename__ = "staff_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, PHC string
    totp_enc: Mapped[bytes] = mapped_column(LargeBinary)  # TOTP secret, sealed with the field key ring
    roles: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # signs in only in demo mode
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)  # a TOTP code works once
    # value of the configured OIDC claim (settings.oidc.link_claim) that signs in as this account
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Agency(Base):
    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AgencyOfficial(Base):
    """An official who may send requests, once a privacy officer recorded how they were verified."""

    __tablename__ = "agency_official"
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    delegation_level: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    verification_method: Mapped[str | None] = mapped_column(String(32))
    verification_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Registered by `safeslot demo load`: its keys are refused outside demo mode.
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Credential(Base):
    """A bearer secret, stored as its SHA-256; kind is api (staff), session (console) or agency."""

    __tablename__ = "credential"
    __table_args__ = (
        CheckConstraint("(staff_id IS NULL) <> (official_id IS NULL)", name="one_owner"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"), index=True)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("agency_official.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
