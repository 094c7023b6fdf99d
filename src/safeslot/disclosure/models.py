"""Disclosure gate tables: requests and their subjects, decisions, reviews, releases,
accounting of disclosures, legal holds, sharing agreements and policy changes.

Names of subjects are stored sealed (kit/crypto.py) with a keyed blind index for
matching; nothing here stores an immigration or citizenship status (invariant "collect the minimum").
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeslot.chain import Chained
from safeslot.db import Base, UTCDateTime


class DisclosureRequest(Base):
    """A written request by an agency (invariant "no request without a written instrument")."""

    __tablename__ = "disclosure_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(24), default="received")
    agency: Mapped[str] = mapped_column(String(200))
    # The recipient's id in the agency registry (identity's `agency` table): what the log and
    # the report carry instead of any typed name (logbook.agency_ref).
    agency_id: Mapped[int | None] = mapped_column(Integer)
    # Who asked: the verified official's id, and the staff member who scanned a paper request.
    official_id: Mapped[int | None] = mapped_column(Integer)
    registered_by: Mapped[int | None] = mapped_column(Integer)
    instrument_type: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str] = mapped_column(String(200))
    court: Mapped[str | None] = mapped_column(String(200))
    docket: Mapped[str | None] = mapped_column(String(100))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_type: Mapped[str] = mapped_column(String(24))
    statutes: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(24))
    categories: Mapped[list[str]] = mapped_column(JSON)
    nda_authority: Mapped[str | None] = mapped_column(String(200))
    nda_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Who signed the non-disclosure order; None: the instrument's own signer (an order in the warrant).
    nda_signer_type: Mapped[str | None] = mapped_column(String(24))
    # Consent (552a(b), 20 CFR 401.100(a)): the person asks for their own records, or the
    # signed form names the recipient and the purpose.
    consent_requester_is_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_names_recipient: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_names_purpose: Mapped[bool] = mapped_column(Boolean, default=False)
    # pyHanko's finding on the PDF: valid | untrusted | invalid | none (policy.DocumentSignature).
    document_signature: Mapped[str] = mapped_column(String(16), default="none")
    # How many pages the instrument has (intake rendered each one), and when its signer says it
    # signed (pyHanko: the signer's own claim). The signer's certificate subject is sealed.
    document_pages: Mapped[int] = mapped_column(Integer, default=0)
    signature_signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    signature_signer_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Facts a reviewer corrected against the document (instrument_type, signer_type, purpose):
    # the policy is decided on these, not on what the requester typed (attest.py).
    attested_facts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    emergency_justification: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    document: Mapped[bytes] = mapped_column(LargeBinary)  # sealed (sealed.py) when typed_enc is set
    # The typed free text (issuer, court, docket, signer, statutes, NDO authority, emergency
    # justification) as sealed JSON; the plain columns then hold only markers (sealed.py).
    typed_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    policy_set_hash: Mapped[str | None] = mapped_column(String(64))
    policy_profile: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_log_index: Mapped[int | None] = mapped_column(Integer)
    info_request: Mapped[str | None] = mapped_column(Text)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    # A reviewer other than the registrar took the request up (disclosure/acceptance.py): only then
    # may reviewers see its matches.
    accepted_by: Mapped[int | None] = mapped_column(Integer)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RequestSubject(Base):
    """A person named by the instrument, with the records matched to them.

    `status`: pending → matched | ambiguous | unmatched; ambiguous → matched (counsel);
    any → dropped (narrowed by a reviewer). Only `matched` subjects are ever released.
    """

    __tablename__ = "disclosure_subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_request.id", ondelete="CASCADE"), index=True)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_index: Mapped[str] = mapped_column(String(64))
    office_slug: Mapped[str | None] = mapped_column(String(64))
    date_from: Mapped[dt.date | None] = mapped_column()
    date_to: Mapped[dt.date | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    candidates: Mapped[list[int]] = mapped_column(JSON, default=list)  # appointment ids found
    appointment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the ones to release
    dropped_reason: Mapped[str | None] = mapped_column(Text)
    # Why counsel chose the one candidate (review.MATCH_REASONS), when there were several.
    match_reason: Mapped[str | None] = mapped_column(String(32))


class CategoryDecisionRow(Base):
    """The policy's answer for one category, kept with the request (invariant "policy is data")."""

    __tablename__ = "disclosure_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_request.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    policy_ids: Mapped[list[str]] = mapped_column(JSON)
    policy_set_hash: Mapped[str] = mapped_column(String(64))
    dropped_reason: Mapped[str | None] = mapped_column(Text)  # narrowed by a reviewer


class ReviewAction(Base):
    """One reviewer's act: approve, narrow, deny, ask for information, resolve a match."""

    __tablename__ = "disclosure_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_request.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Approvals are voided when the scope changes afterwards; they stay in the record.
    void: Mapped[bool] = mapped_column(Boolean, default=False)


class GateRefusal(Base):
    """Intake requests refused before the gate, counted per hour and enumerated reason
    (gate_refusals.py); `logged` once the hour's entry is in the transparency log."""

    __tablename__ = "disclosure_gate_refusal"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(13))  # UTC hour, 2027-03-01T14
    reason: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)
    logged: Mapped[bool] = mapped_column(Boolean, default=False)


class Attestation(Base):
    """One reviewer's check of the typed metadata against the document, field by field.

    `fields` maps each field (attest.fields_for) to "match" or "mismatch"; `corrections`
    holds what the document shows for an enumerated field that did not match. It is bound to
    the document's SHA-256; an answer from the requester or a new decision voids it.
    """

    __tablename__ = "disclosure_attestation"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_request.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(24))
    reviewer: Mapped[str] = mapped_column(String(32))  # the pseudonym the log names
    document_sha256: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    corrections: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    void: Mapped[bool] = mapped_column(Boolean, default=False)


class Release(Base):
    """A minimised package, sealed at rest, downloadable once by the requester."""

    __tablename__ = "disclosure_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_request.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The link's token, sealed, so the requesting official can fetch the link itself.
    token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    package_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # emptied after download
    package_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    downloaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    log_index: Mapped[int] = mapped_column(Integer)


class AccountingEntry(Chained, Base):
    """5 U.S.C. 552a(c)(1): date, nature, purpose, and name and address of the recipient, per person.

    Append-only and hash-chained (safeslot/chain.py; the record cannot be rewritten from inside):
    kept at least 5 years, unchanged."""

    __tablename__ = "disclosure_accounting"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_request.id"), index=True)
    name_index: Mapped[str] = mapped_column(String(64), index=True)
    disclosed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recipient: Mapped[str] = mapped_column(String(200))
    # the registered agency's address at the time of release; None for an agency not registered
    recipient_address: Mapped[str | None] = mapped_column(String(400), nullable=True)
    purpose: Mapped[str] = mapped_column(String(24))
    nature: Mapped[str] = mapped_column(String(32))  # the instrument type
    categories: Mapped[list[str]] = mapped_column(JSON)
    # 552a(c)(3): not made available for (b)(7) law-enforcement disclosures.
    withheld_b7: Mapped[bool] = mapped_column(Boolean, default=False)
    deferred_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    keep_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    salt: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(Integer)


class AccountingCode(Base):
    """Confirmation codes of the disclosed appointments, so a person finds their entries
    with code + name even after the appointment itself was purged."""

    __tablename__ = "disclosure_accounting_code"

    entry_id: Mapped[int] = mapped_column(ForeignKey("disclosure_accounting.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class LegalHold(Base):
    """A court order or injunction forbidding disclosure to a recipient, purpose or category."""

    __tablename__ = "disclosure_legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority: Mapped[str] = mapped_column(String(300))
    agency: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(24))
    category: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_by: Mapped[int | None] = mapped_column(Integer)


class SharingAgreement(Base):
    """A published routine use or computer-matching agreement (5 U.S.C. 552a(b)(3), (o))."""

    __tablename__ = "disclosure_sharing_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str] = mapped_column(String(300))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    renewed: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(Integer)


class PolicyChange(Base):
    """A proposed policy set; it takes effect only after two approvals (invariant "policy is data")."""

    __tablename__ = "disclosure_policy_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile: Mapped[str] = mapped_column(String(32))
    policy_set_hash: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[int] = mapped_column(Integer)
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    approvals: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="proposed")


class DisclosureNotice(Base):
    """Outbox: a notice to the person that an agency received records about them.

    Queued when an accounting entry is visible to the person (not (b)(7), no running
    non-disclosure order) and one of the disclosed appointments still has a contact with
    reminders opted in. The contact stays sealed in the appointment; only the sender
    opens it. `status`: queued → sent | failed; `channel` is how it went (smtp, file).
    """

    __tablename__ = "disclosure_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("disclosure_accounting.id"), unique=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failure: Mapped[str | None] = mapped_column(String(200))
