"""Pydantic shapes for the disclosure API, and the plain Actor the services take."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from safeslot.disclosure.policy import Category, InstrumentType, Purpose, SignerType

JUDICIAL = frozenset({InstrumentType.COURT_ORDER, InstrumentType.JUDICIAL_WARRANT})
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, as the identity domain established it. Services never see HTTP."""

    kind: Literal["staff", "official", "system"]
    id: int
    roles: frozenset[str] = field(default_factory=frozenset)
    agency: str | None = None


class NamedSubject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The person's name as on the instrument.")
    office: str | None = Field(default=None, max_length=64, description="Office slug, if the instrument names one.")
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @model_validator(mode="after")
    def _range(self) -> NamedSubject:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        return self


class NonDisclosureOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authority: str = Field(min_length=1, max_length=200, description="The court order or statute.")
    expires_at: dt.datetime | None = Field(
        default=None, description="When the order ends (aware time). Only a judge's order ending within a "
        "year defers the accounting; without an end the request is refused.")
    signer_type: SignerType | None = Field(
        default=None, description="Who signed the order; leave out when the order is part of the instrument.")


class ConsentIn(BaseModel):
    """For a consent instrument (5 U.S.C. 552a(b); 20 CFR 401.100(a)). Reviewers attest these."""

    model_config = ConfigDict(extra="forbid")

    requester_is_subject: bool = Field(default=False, description="The person asks for their own records.")
    names_recipient: bool = Field(default=False, description="The signed form names the recipient agency.")
    names_purpose: bool = Field(default=False, description="The signed form names the purpose.")


class RequestMetadata(BaseModel):
    """The metadata part of the multipart intake. Categories are plain strings here so an
    unknown one is a refusal that is logged, not a bare validation error."""

    model_config = ConfigDict(extra="forbid")

    agency_id: int | None = Field(
        default=None, ge=1, description="Staff scanning a paper request: the requesting agency's id in the "
        "agency registry. There is no typed agency name: an agency not in the registry cannot file.")
    instrument_type: InstrumentType
    issuer: str = Field(min_length=1, max_length=200)
    court: str | None = Field(default=None, max_length=200)
    docket: str | None = Field(default=None, max_length=100)
    signer_name: str = Field(min_length=1, max_length=200)
    signer_type: SignerType
    statutes: list[str] = Field(default_factory=list, max_length=20)
    purpose: Purpose
    subjects: list[NamedSubject] = Field(default_factory=list, max_length=1000)
    categories: list[str] = Field(default_factory=list, max_length=10)
    non_disclosure_order: NonDisclosureOrder | None = None
    consent: ConsentIn | None = None
    emergency_justification: str | None = Field(default=None, max_length=4000)
    deadline: dt.datetime | None = None
    # A scope that describes people instead of naming them ("everyone booked at office X").
    scope_description: str | None = Field(default=None, max_length=1000)


class CategoryDecisionOut(BaseModel):
    category: str
    outcome: str
    policy_ids: list[str]
    reasons: list[str]


class RequestOut(BaseModel):
    """What the requester and reviewers see. Never a subject's name."""

    id: int
    status: str
    agency: str
    instrument_type: str
    purpose: str
    categories: list[str]
    document_sha256: str
    subject_count: int
    policy_set_hash: str | None
    decisions: list[CategoryDecisionOut]
    deadline: dt.datetime | None
    overdue: bool
    log_index: int | None
    document_pages: int = 0
    document_signature: str = "none"
    attestation_fields: list[str] = Field(
        default_factory=list, description="What each reviewer must check against the document before approving.")
    info_request: str | None = None


ReviewRole = Literal["privacy_officer", "counsel"]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ReviewRole = Field(description="The role you review in; one person approves once per request.")


class AttestationIn(BaseModel):
    """A reviewer's check of the typed metadata against the document."""

    model_config = ConfigDict(extra="forbid")

    role: ReviewRole
    document_sha256: str = Field(pattern="^[0-9a-f]{64}$",
                                 description="The SHA-256 of the document you checked (from the request).")
    fields: dict[str, Literal["match", "mismatch"]] = Field(
        max_length=1100, description="Every field listed in the request's attestation_fields: match or mismatch.")
    corrections: dict[Literal["instrument_type", "signer_type", "purpose"], str] = Field(
        default_factory=dict, description="For a mismatched enumerated field: what the document shows.")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ReviewRole
    reason: str = Field(min_length=3, max_length=2000)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=3, max_length=4000)


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class NarrowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ReviewRole
    reason: str = Field(min_length=3, max_length=2000)
    drop_subjects: list[int] = Field(default_factory=list, description="Subject ids to drop.")
    drop_categories: list[Category] = Field(default_factory=list)


MatchReason = Literal["office_on_document", "visit_date_on_document", "office_and_date_on_document",
                      "no_candidate_matches_document"]


class ResolveIn(BaseModel):
    """Counsel's choice among a named person's candidate bookings (never more than one)."""

    model_config = ConfigDict(extra="forbid")

    subject_id: int
    appointment_id: int | None = Field(
        default=None, description="The one candidate booking that is the named person; null: none of them.")
    reason: MatchReason = Field(description="What in the document shows it (null choice: "
                                            "no_candidate_matches_document).")


class CandidateOut(BaseModel):
    appointment_id: int
    office: str
    starts_at: dt.datetime
    status: str


class SubjectOut(BaseModel):
    """A named subject as reviewers see it: an id and a match state, no name."""

    id: int
    status: str
    office: str | None
    candidates: list[CandidateOut]
    included: list[int]
    match_reason: str | None = None


class ReleaseOut(BaseModel):
    request_id: int
    download_url: str
    expires_at: dt.datetime
    package_sha256: str
    log_index: int


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authority: str = Field(min_length=3, max_length=300)
    agency: str | None = None
    purpose: Purpose | None = None
    category: Category | None = None
    expires_at: dt.datetime | None = None


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str = Field(min_length=1, max_length=200)
    kind: Literal["routine_use", "computer_matching"]
    reference: str = Field(min_length=3, max_length=300)
    purposes: list[Purpose] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    starts_at: dt.datetime
    expires_at: dt.datetime


class AccountingLookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=4, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class AccountingEntryOut(BaseModel):
    disclosed_at: dt.datetime
    recipient: str
    recipient_address: str | None = Field(default=None, description="The recipient agency's registered address.")
    purpose: str
    nature: str
    categories: list[str]
    request_id: int
    salt: str
    person_id: str
    commitment: str
    log_index: int


class AccountingOut(BaseModel):
    entries: list[AccountingEntryOut]
    note: str


class RenewalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_at: AwareDatetime = Field(
        description="The new expiry (with a UTC offset): at most 12 months after the current one.")


class PolicyChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=3, max_length=2000, description="What changes and why, in a sentence.")
    profile: str | None = Field(default=None, description="federal or state; defaults to the running profile.")
    files: dict[str, str] = Field(min_length=1, max_length=64,
                                  description="The schema and the profile's policies, keyed by path under policies/.")


class PolicyChangeOut(BaseModel):
    id: int
    status: str
    profile: str
    policy_set_hash: str
    approvals: int
