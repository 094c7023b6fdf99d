"""What the disclosure policies may look at, and how it is handed to Cedar.

The vocabulary mirrors the enum entity types in ``policies/schema.cedarschema`` (a test checks
that they agree; the schema stays the authority). The facts hold nothing that identifies a
person: people enter only as a count. `cedar_context` turns facts into the context the
``disclose`` action's schema types. The engine that decides is ``policy.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# --- vocabulary (a value missing from the schema is an evaluation error) ----------------


class InstrumentType(StrEnum):
    """The written instrument behind a request (invariant "no request without a written instrument": no verbal path)."""

    ADMINISTRATIVE_WARRANT = "administrative_warrant"  # DHS I-200 / I-205, detainer
    ADMINISTRATIVE_SUBPOENA = "administrative_subpoena"  # incl. DHS I-138
    CLERK_SUBPOENA = "clerk_subpoena"  # clerk-signed or grand-jury subpoena
    HEAD_OF_AGENCY_REQUEST = "head_of_agency_request"  # 5 U.S.C. 552a(b)(7)
    COURT_ORDER = "court_order"  # 5 U.S.C. 552a(b)(11)
    JUDICIAL_WARRANT = "judicial_warrant"
    CONSENT = "consent"  # 5 U.S.C. 552a(b), 20 CFR 401.100
    SHARING_AGREEMENT = "sharing_agreement"  # routine use, 552a(b)(3)
    EMERGENCY = "emergency"  # 5 U.S.C. 552a(b)(8)


class SignerType(StrEnum):
    """Who signed the instrument."""

    JUDGE = "judge"
    CLERK = "clerk"
    OFFICER = "officer"
    AGENCY_HEAD = "agency_head"
    SUBJECT = "subject"
    # An immigration judge, an administrative law judge or another executive-branch
    # adjudicator: not a court of competent jurisdiction for 5 U.S.C. 552a(b)(11).
    EXECUTIVE_ADJUDICATOR = "executive_adjudicator"


class DocumentSignature(StrEnum):
    """What signature validation found in the instrument's PDF (disclosure/signatures.py)."""

    VALID = "valid"  # intact and chains to a trusted court CA
    UNTRUSTED = "untrusted"  # intact, but the signer's certificate is not trusted
    INVALID = "invalid"  # changed after signing, or a broken signature
    NONE = "none"  # no digital signature (a paper scan)


class Purpose(StrEnum):
    """The purpose stated on the instrument."""

    CRIMINAL = "criminal"
    CIVIL_IMMIGRATION = "civil_immigration"
    OTHER_CIVIL = "other_civil"
    PROGRAM_INTEGRITY = "program_integrity"
    HEALTH_OR_SAFETY = "health_or_safety"  # the only purpose of an emergency, 552a(b)(8)


class Category(StrEnum):
    """The data categories the office holds (invariant "collect the minimum")."""

    IDENTITY = "identity"
    CONTACT = "contact"
    APPOINTMENT_SCHEDULE = "appointment_schedule"
    VISIT_HISTORY = "visit_history"
    LANGUAGE_ACCOMMODATION = "language_accommodation"


class Outcome(StrEnum):
    """The answer for one category. Every allow still needs the two-person review."""

    ALLOW = "allow"
    ALLOW_WITH_COUNSEL_REVIEW = "allow_with_counsel_review"
    DENY = "deny"


# --- facts in ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldSets:
    """Active legal holds reduced to sets (Cedar cannot iterate a list of records)."""

    agencies: frozenset[str] = frozenset()
    purposes: frozenset[Purpose] = frozenset()
    categories: frozenset[Category] = frozenset()


@dataclass(frozen=True, slots=True)
class AgreementFacts:
    """The sharing agreement on file for the recipient.

    `active` means inside its term and is computed by the service, which has the clock;
    `suspended` is the office's own suspension, which can fall inside the term.
    """

    recipient: str
    active: bool
    suspended: bool
    categories: frozenset[Category]
    purposes: frozenset[Purpose]


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    """What makes a signed consent valid beyond the signature (20 CFR 401.100(a)): the
    requester is the person, or the form names the recipient and the purpose."""

    requester_is_subject: bool = False
    names_recipient: bool = False
    names_purpose: bool = False


@dataclass(frozen=True, slots=True)
class NondisclosureFacts:
    """A claimed non-disclosure order, reduced with the clock by the service."""

    signer: SignerType
    has_end: bool
    within_a_year: bool


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """Everything the policies may look at, and nothing that identifies a person.

    `subject_count` is the number of individually named people. `all_subjects_named` is
    False when part of the scope describes people rather than naming them ("everyone
    booked on Tuesday"); such a request is refused whole.
    """

    instrument_type: InstrumentType
    signer_type: SignerType
    purpose: Purpose
    agency: str
    categories: tuple[Category, ...]
    named_categories: frozenset[Category]
    subject_count: int
    holds: HoldSets = field(default_factory=HoldSets)
    agreement: AgreementFacts | None = None
    all_subjects_named: bool = True
    document_signature: DocumentSignature = DocumentSignature.NONE
    consent: ConsentFacts = field(default_factory=ConsentFacts)
    nondisclosure_order: NondisclosureFacts | None = None


# --- facts to the Cedar context ---------------------------------------------------------


def _ref(entity_type: str, entity_id: str) -> dict[str, dict[str, str]]:
    # The explicit __entity escape: a record with "type" and "id" keys must never be
    # mistaken for an entity reference, or the other way round.
    return {"__entity": {"type": entity_type, "id": str(entity_id)}}


def _refs(entity_type: str, ids: Iterable[str]) -> list[dict[str, dict[str, str]]]:
    return [_ref(entity_type, i) for i in sorted(ids)]


def cedar_context(facts: RequestFacts) -> dict[str, Any]:
    """The Cedar context, typed by the `disclose` action in the schema."""
    context: dict[str, Any] = {
        "instrument": _ref("InstrumentType", facts.instrument_type),
        "signer": _ref("SignerType", facts.signer_type),
        "purpose": _ref("Purpose", facts.purpose),
        "named_subject_count": facts.subject_count,
        "all_subjects_named": facts.all_subjects_named,
        "named_categories": _refs("Category", facts.named_categories),
        "holds": {
            "agencies": _refs("Agency", facts.holds.agencies),
            "purposes": _refs("Purpose", facts.holds.purposes),
            "categories": _refs("Category", facts.holds.categories),
        },
        "document_signature": _ref("DocumentSignature", facts.document_signature),
        "requester_is_subject": facts.consent.requester_is_subject,
        "consent_names_recipient": facts.consent.names_recipient,
        "consent_names_purpose": facts.consent.names_purpose,
    }
    order = facts.nondisclosure_order
    if order is not None:
        context["nondisclosure_order"] = {
            "signer": _ref("SignerType", order.signer),
            "has_end": order.has_end,
            "within_a_year": order.within_a_year,
        }
    agreement = facts.agreement
    if agreement is not None:
        # Omitted, not emptied, when there is none: policies test `context has agreement`.
        context["agreement"] = {
            "recipient": _ref("Agency", agreement.recipient),
            "active": agreement.active,
            "suspended": agreement.suspended,
            "categories": _refs("Category", agreement.categories),
            "purposes": _refs("Purpose", agreement.purposes),
        }
    return context
