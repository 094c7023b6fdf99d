"""Identity tables: staff accounts, agencies and their officials, and credentials.

A credential is any secret that signs someone in: an API bearer token, a
console session cookie, or an agency official's API key. Only its SHA-256 is
stored, so a copy of the database cannot be used to sign in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.chain import Chained
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
    # The work address invitations go to: only the holder ever sees their secrets.
    email: Mapped[str | None] = mapped_column(String(320))
    # None until the holder enrolled their own password and TOTP through an invitation.
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


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
    # The official's registered address: agency keys reach them only through a claim link sent there.
    email: Mapped[str | None] = mapped_column(String(320))
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
    # How the holder proved who they are (RFC 8176 "amr" values): "pwd otp", or "hwk" for a passkey.
    amr: Mapped[str | None] = mapped_column(String(32))
    # The office of the holder's scope this console session works on (chosen in the console); counts only while
    # it is in scope (identity/scopes.py); None: the account's own office.
    office_id: Mapped[int | None] = mapped_column(Integer)


class Proposal(Base):
    """A privileged change waiting for a second person (matrix in authz.APPROVALS).

    `status`: pending → approved | rejected | withdrawn. `params` holds ids, role names and
    flags, never a secret. `beneficiary_id` is the staff account the change favours (the
    account given a role), which may not approve it.
    """

    __tablename__ = "identity_proposal"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("staff_account.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RoleGrant(Base):
    """One privileged role held by one account: who proposed it, who approved it, and from
    when it counts (`effective_at`: reviewer roles wait out the cooling-off period)."""

    __tablename__ = "identity_role_grant"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))  # proposal | bootstrap | legacy
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("identity_proposal.id"))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    approved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    effective_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PrivilegedEvent(Chained, Base):
    """Append-only record of every privileged identity event (UPDATE and DELETE refused by
    triggers), mirrored as a typed entry in the transparency log at `log_index`. Accounts
    appear only as keyed pseudonyms. A hash chain whose head each checkpoint commits
    (safeslot/chain.py; migration 0181)."""

    __tablename__ = "identity_privileged_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(48))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    account: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(32))
    proposer: Mapped[str | None] = mapped_column(String(32))
    approver: Mapped[str | None] = mapped_column(String(32))
    proposal_id: Mapped[int | None] = mapped_column(Integer)
    entry: Mapped[str] = mapped_column(Text)  # the canonical JSON appended to the log
    log_index: Mapped[int] = mapped_column(Integer)


class Invitation(Base):
    """A one-time, expiring link: `enrol` (a staff account holder sets their own factors) or
    `claim` (an agency official collects a new API key). Only the token's SHA-256 is kept."""

    __tablename__ = "identity_invitation"
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"), index=True)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("agency_official.id"), index=True)
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credential.id"))  # the key, once claimed
    revoke_others: Mapped[bool] = mapped_column(Boolean, default=True)  # claim: the new key replaces the others
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class IdentityMail(Base):
    """Outbox for identity mail (invitations, claim links, key notices), sent like the
    disclosure notices (disclosure/notices.py senders): address and body sealed until sent,
    the body emptied once it went out."""

    __tablename__ = "identity_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(200))
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Passkey(Base):
    """A WebAuthn credential (the phishing-resistant factor, OMB M-22-09) of a staff account."""

    __tablename__ = "identity_passkey"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(512), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class OfficeScope(Base):
    """One office a staff account may work on (invariant "staff see what their work needs").

    A clerk, supervisor or other office-bound account sees and acts on the appointments, queues,
    staff and day lists of the offices it holds an active scope for, and nothing else. A scope is
    granted by two people (identity/scopes.py, authz.APPROVALS ``grant_office``): `proposed_by` and
    `approved_by` say who, `origin` how (proposal; account: made with the account by its holder at
    the command line or by the demo; legacy: the single office an account had before scopes).
    """

    __tablename__ = "identity_office_scope"
    __table_args__ = (
        Index("ix_identity_office_scope_account", "account_id", "removed_at"),
        Index("ix_identity_office_scope_office", "office_id", "removed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    origin: Mapped[str] = mapped_column(String(16))  # proposal | account | legacy
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("identity_proposal.id"))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
