"""The pure disclosure policy core: Cedar policies in, one decision per data category out.

No database and no clock. The service (disclosure/service.py) reduces a stored
request to `RequestFacts` (holds and agreements already filtered to the active
ones, with dates compared outside), calls `PolicyEngine.decide`, and records
the `Decision` with its `policy_set_hash` (invariant "policy is data").

The law behind the rules lives in the policy files under policies/, each
policy citing its source in a `@source` annotation: the Privacy Act,
5 U.S.C. 552a(b)(3), (b)(7), (b)(8), (b)(11) and the consent clause of
552a(b); SSA's rules at 20 CFR 401.100 and 401.155; HIPAA 45 CFR 164.512(f)
and (j); Doe v. DiGenova (a clerk-signed subpoena is not a court order); and,
in the `state` profile, RCW 43.17.425 and Cal. Gov. Code 7284.6.

How a decision is made (measured facts: ../shared/notes/cedar.md):

* One Cedar request per requested category, all in one `is_authorized_batch`
  call, always with the schema, against handles parsed once at load.
* The decision is per request, not per person. No rule depends on who a named
  person is: holds block recipients, purposes and categories; an instrument's
  scope names categories for the request as a whole. People enter only as a
  count (zero means a request about a group, which is refused), so a request
  naming 1,000 people costs the same five evaluations as one naming a single
  person. The release step later picks only the named people's records.
* Cedar answers only Allow or Deny. Denials name explicit `forbid` policies by
  `@id`; a deny with no matching forbid is named `default-deny` here, and any
  evaluation error or missing answer is a deny named `evaluation-error`.
* The third outcome, "allow with counsel review", is an annotation on the
  deciding permit: `@review("counsel")`. If any permit that decided an allow
  carries it, the outcome is `allow_with_counsel_review`.

Errors::

    PolicyError                 base; never raised itself
    +-- PolicyInvalid           a policy set that must not be used (load)
    +-- PolicyMismatch          explaining a decision made by another policy set
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import cedarpy

# --- vocabulary -------------------------------------------------------------------------
# These mirror the enum entity types in policies/schema.cedarschema; a test checks that
# they agree. The schema stays the authority: a value missing there is an evaluation error.


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


# Names for denials that no policy file can carry: Cedar's default deny names no policy,
# and an evaluation error has no policy to name. Policy files may not reuse them.
DEFAULT_DENY: Final = "default-deny"
EVALUATION_ERROR: Final = "evaluation-error"
_SYNTHETIC_REASONS: Final[Mapping[str, str]] = {
    DEFAULT_DENY: "No policy permits disclosing this data category under this instrument, "
    "so it is denied by default.",
    EVALUATION_ERROR: "The policy engine could not evaluate the request, so it is denied; "
    "a disclosure is never made on an answer the engine could not give.",
}

# A profile is a list of policy directories, applied together (state = federal + state).
PROFILES: Final[Mapping[str, tuple[str, ...]]] = {
    "federal": ("federal",),
    "state": ("federal", "state"),
}
SCHEMA_FILE: Final = "schema.cedarschema"
# Domain separation for policy_set_hash, so the digest cannot be confused with a hash of
# anything else the office publishes. policies/README.md shows how to recompute it.
_HASH_TAG: Final = b"safeslot-policy-set-v1\n"
_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_REVIEWS: Final = frozenset({"counsel"})
_ACTION: Final[Mapping[str, str]] = {"type": "Action", "id": "disclose"}

_LABELS: Final[Mapping[str, str]] = {
    Category.IDENTITY: "Identity",
    Category.CONTACT: "Contact details",
    Category.APPOINTMENT_SCHEDULE: "Appointment schedule",
    Category.VISIT_HISTORY: "Visit history",
    Category.LANGUAGE_ACCOMMODATION: "Language and accommodation needs",
}
_OUTCOME_TEXT: Final[Mapping[Outcome, str]] = {
    Outcome.ALLOW: "allowed, pending the two-person release review",
    Outcome.ALLOW_WITH_COUNSEL_REVIEW: "allowed only if legal counsel confirms the request, "
    "then pending the two-person release review",
    Outcome.DENY: "denied",
}


# --- errors -----------------------------------------------------------------------------


class PolicyError(Exception):
    """Base of the policy core's errors."""


class PolicyInvalid(PolicyError):
    """The policy set must not be used: unreadable, fails the schema, or breaks a house rule.

    `messages` holds one line per problem (validator messages prefixed with the file and
    the policy's @id), so the policy CLI can show all of them at once.
    """

    def __init__(self, messages: Iterable[str]) -> None:
        self.messages: tuple[str, ...] = tuple(messages)
        super().__init__("invalid policy set:\n" + "\n".join(self.messages))


class PolicyMismatch(PolicyError):
    """A decision is being explained by a policy set other than the one that made it."""


# --- facts in, decision out -------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class CategoryDecision:
    """The answer for one category and the @ids that decided it (never empty).

    `errors` carries Cedar's messages when the outcome is an evaluation error, for the
    operator's log; it never holds personal data because the facts hold none.
    """

    category: str
    outcome: Outcome
    policy_ids: tuple[str, ...]
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """Per-category answers and the hash of the policy set that gave them."""

    categories: tuple[CategoryDecision, ...]
    policy_set_hash: str
    profile: str

    def for_category(self, category: str) -> CategoryDecision:
        """The answer for `category`; KeyError if it was not requested."""
        for decided in self.categories:
            if decided.category == category:
                return decided
        raise KeyError(category)

    @property
    def disclosable(self) -> tuple[str, ...]:
        """Categories that may go forward to review (allow or allow with counsel review)."""
        return tuple(d.category for d in self.categories if d.outcome is not Outcome.DENY)


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """What the engine knows about one policy, read from its annotations."""

    policy_id: str
    effect: str
    reason: str
    source: str
    review: str | None
    file: str
    position: int


# --- the engine -------------------------------------------------------------------------


class PolicyEngine:
    """A validated, parsed policy set for one profile. Immutable and safe to share."""

    def __init__(
        self,
        *,
        profile: str,
        policy_set: cedarpy.PolicySet,
        schema: cedarpy.Schema,
        policies: Mapping[str, PolicyInfo],
        policy_set_hash: str,
    ) -> None:
        self.profile = profile
        self.policy_set_hash = policy_set_hash
        self.policies: Mapping[str, PolicyInfo] = MappingProxyType(dict(policies))
        self._policy_set = policy_set
        self._schema = schema
        # No entity has attributes or parents, so the store is empty; parse it once.
        self._entities = cedarpy.Entities.from_json_str("[]")

    @classmethod
    def load(cls, policies_dir: Path, profile: str) -> PolicyEngine:
        """Read, validate and parse the schema and the profile's policy files.

        Raises PolicyInvalid if a file is unreadable, a policy fails validation against
        the schema, a policy lacks @id or @reason, an @id repeats, or @review is unknown.
        """
        if profile not in PROFILES:
            raise PolicyInvalid([f"unknown profile {profile!r}; known: {sorted(PROFILES)}"])
        files = _read_files(policies_dir, profile)
        schema_text = files[SCHEMA_FILE]
        try:
            schema = cedarpy.Schema.from_str(schema_text)
        except ValueError as exc:
            raise PolicyInvalid([f"{SCHEMA_FILE}: {exc}"]) from exc

        problems: list[str] = []
        infos: dict[str, PolicyInfo] = {}
        texts: list[str] = []
        # Validate file by file so every message names its file; policies are independent,
        # so this is the same check as validating the joined text.
        for name in sorted(files):
            if name == SCHEMA_FILE:
                continue
            text = files[name]
            texts.append(text)
            file_problems = _validate(name, text, schema)
            if file_problems:
                problems.extend(file_problems)
                continue
            for info in _read_annotations(name, text, problems, start=len(infos)):
                if info.policy_id in infos:
                    # Cedar accepts duplicate @ids; a decision naming an ambiguous id could
                    # not be explained or audited, so refuse the set.
                    problems.append(
                        f"{name}: duplicate @id {info.policy_id!r} "
                        f"(first in {infos[info.policy_id].file})"
                    )
                else:
                    infos[info.policy_id] = info
        if problems:
            raise PolicyInvalid(problems)

        joined = "\n".join(texts)
        try:
            policy_set = cedarpy.PolicySet.from_str(joined)
        except ValueError as exc:  # pragma: no cover - each file parsed above
            raise PolicyInvalid([str(exc)]) from exc
        if len(policy_set) != len(infos):  # pragma: no cover - guards the annotation reader
            raise PolicyInvalid([f"parsed {len(policy_set)} policies, annotated {len(infos)}"])
        return cls(
            profile=profile,
            policy_set=policy_set,
            schema=schema,
            policies=infos,
            policy_set_hash=policy_set_hash(files),
        )

    def decide(self, facts: RequestFacts) -> Decision:
        """Decide every requested category in one batch call. Never raises for bad facts:
        anything Cedar cannot evaluate is a deny named `evaluation-error`."""
        categories = list(dict.fromkeys(facts.categories))  # keep order, drop repeats
        if not categories:
            return Decision((), self.policy_set_hash, self.profile)
        results: list[cedarpy.AuthzResult] = []
        try:
            context = _context(facts)
            principal = {"type": "Agency", "id": facts.agency}
            requests = [
                {
                    "principal": principal,
                    "action": _ACTION,
                    "resource": {"type": "Category", "id": category},
                    "context": context,
                }
                for category in categories
            ]
            # Always with the schema: without it a mistyped value makes a forbid error out
            # and be skipped, so a permit could win (notes/cedar.md).
            results = cedarpy.is_authorized_batch(
                requests, self._policy_set, self._entities, schema=self._schema
            )
        except Exception as exc:  # fail closed: whatever went wrong, nothing is allowed
            failed = (f"{type(exc).__name__}: {exc}",)
            return Decision(
                tuple(
                    CategoryDecision(c, Outcome.DENY, (EVALUATION_ERROR,), failed)
                    for c in categories
                ),
                self.policy_set_hash,
                self.profile,
            )
        decided: list[CategoryDecision] = []
        for index, category in enumerate(categories):
            result = results[index] if index < len(results) else None
            decided.append(self._judge(category, result))
        return Decision(tuple(decided), self.policy_set_hash, self.profile)

    def explain(self, decision: Decision) -> list[str]:
        """One plain-English line per category: the outcome, then each deciding policy's
        @reason with its @id in brackets."""
        if decision.policy_set_hash != self.policy_set_hash:
            raise PolicyMismatch(
                f"decision was made by policy set {decision.policy_set_hash}, "
                f"this engine holds {self.policy_set_hash}"
            )
        lines = []
        for decided in decision.categories:
            label = _LABELS.get(decided.category, repr(decided.category))
            reasons = " ".join(
                f"{self._reason(policy_id).rstrip('.')} [{policy_id}]."
                for policy_id in decided.policy_ids
            )
            lines.append(f"{label}: {_OUTCOME_TEXT[decided.outcome]}. {reasons}")
        return lines

    def _reason(self, policy_id: str) -> str:
        info = self.policies.get(policy_id)
        if info is not None:
            return info.reason
        return _SYNTHETIC_REASONS.get(policy_id, f"Policy {policy_id} decided this.")

    def _judge(self, category: str, result: cedarpy.AuthzResult | None) -> CategoryDecision:
        """Turn one Cedar answer into an outcome, failing closed on anything unexpected."""

        def error(*messages: str) -> CategoryDecision:
            return CategoryDecision(category, Outcome.DENY, (EVALUATION_ERROR,), messages)

        if result is None:
            return error("no answer for this category")
        diagnostics = result.diagnostics
        if diagnostics.errors:
            # Even next to an Allow: an errored forbid is skipped by Cedar, and a skipped
            # forbid must never let a permit win.
            return error(*(str(e) for e in diagnostics.errors))
        by_reason: Mapping[str, Any] = diagnostics.id_annotations_by_reason
        infos: list[PolicyInfo] = []
        for positional in diagnostics.reasons:
            # Positional ids (policy4) change whenever text is joined; only @ids are used.
            info = self.policies.get(str(by_reason.get(positional, "")))
            if info is None:
                return error(f"deciding policy {positional} has no known @id")
            infos.append(info)
        infos.sort(key=lambda i: i.position)
        ids = tuple(i.policy_id for i in infos)

        if result.decision is cedarpy.Decision.Deny:
            if any(i.effect != "forbid" for i in infos):
                return error("a deny was attributed to a permit")
            return CategoryDecision(category, Outcome.DENY, ids or (DEFAULT_DENY,))
        if result.decision is cedarpy.Decision.Allow:
            if not infos or any(i.effect != "permit" for i in infos):
                return error("an allow was not attributed to permits only")
            # Conservative: if any deciding permit asks for counsel, counsel reviews.
            needs_counsel = any(i.review == "counsel" for i in infos)
            outcome = Outcome.ALLOW_WITH_COUNSEL_REVIEW if needs_counsel else Outcome.ALLOW
            return CategoryDecision(category, outcome, ids)
        return error(f"no decision ({result.decision.value})")


# --- helpers ----------------------------------------------------------------------------


def policy_set_hash(files: Mapping[str, str]) -> str:
    """SHA-256 hex over the schema and policy files, sorted by path relative to policies/.

    Each file contributes len(path) || path || len(content) || content, lengths as 8-byte
    big-endian, text as UTF-8, after the tag b"safeslot-policy-set-v1\\n". Length prefixes
    make the encoding unambiguous: moving text between files changes the hash.
    """
    digest = hashlib.sha256(_HASH_TAG)
    for name in sorted(files):
        for part in (name.encode(), files[name].encode()):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def _read_files(policies_dir: Path, profile: str) -> dict[str, str]:
    """The schema and the profile's *.cedar files, keyed by POSIX path under policies/."""
    problems: list[str] = []
    paths = [policies_dir / SCHEMA_FILE]
    for directory in PROFILES[profile]:
        found = sorted((policies_dir / directory).glob("*.cedar"))
        if not found:
            problems.append(f"{directory}/: no *.cedar files for profile {profile!r}")
        paths.extend(found)
    files: dict[str, str] = {}
    for path in paths:
        name = path.relative_to(policies_dir).as_posix()
        try:
            files[name] = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise PolicyInvalid(problems)
    return files


def _validate(name: str, text: str, schema: cedarpy.Schema) -> list[str]:
    try:
        result = cedarpy.validate_policies(text, schema)
    except ValueError as exc:
        return [f"{name}: {exc}"]
    if result.validation_passed:
        return []
    ids: Mapping[str, Any] = result.id_annotations_by_policy_id
    return [
        f"{name}: [{ids.get(e.policy_id) or e.policy_id or 'parse'}] {e.error}"
        for e in result.errors
    ] or [f"{name}: validation failed without a message"]


def _read_annotations(name: str, text: str, problems: list[str], *, start: int) -> list[PolicyInfo]:
    """PolicyInfo for each policy in one file, in file order; house-rule breaches go to
    `problems`."""
    parsed: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(text))
    if parsed.get("templates"):
        # A template authorises nothing until linked at run time; the published policy set
        # must be complete as written.
        problems.append(f"{name}: templates are not allowed in a published policy set")
    infos: list[PolicyInfo] = []
    statics: dict[str, Any] = parsed.get("staticPolicies", {})
    # Positional ids are policy0, policy1, ... in file order within one parse.
    for positional in sorted(statics, key=lambda p: int(p.removeprefix("policy"))):
        policy = statics[positional]
        notes: dict[str, Any] = policy.get("annotations") or {}
        effect = str(policy.get("effect"))
        policy_id = str(notes.get("id") or "")
        where = f"{name}: [{policy_id or positional}]"
        if not _ID_RE.match(policy_id):
            problems.append(f"{where} needs @id of lowercase letters, digits and hyphens")
            continue
        if policy_id in _SYNTHETIC_REASONS:
            problems.append(f"{where} @id {policy_id!r} is reserved for the engine")
        reason = str(notes.get("reason") or "").strip()
        if not reason:
            problems.append(f"{where} needs a @reason sentence for explanations")
        review = notes.get("review")
        if review is not None and (effect != "permit" or review not in _REVIEWS):
            problems.append(
                f"{where} @review must be one of {sorted(_REVIEWS)} and only on a permit"
            )
        infos.append(
            PolicyInfo(
                policy_id=policy_id,
                effect=effect,
                reason=reason,
                source=str(notes.get("source") or ""),
                review=None if review is None else str(review),
                file=name,
                position=start + len(infos),
            )
        )
    return infos


def _ref(entity_type: str, entity_id: str) -> dict[str, dict[str, str]]:
    # The explicit __entity escape: a record with "type" and "id" keys must never be
    # mistaken for an entity reference, or the other way round.
    return {"__entity": {"type": entity_type, "id": str(entity_id)}}


def _refs(entity_type: str, ids: Iterable[str]) -> list[dict[str, dict[str, str]]]:
    return [_ref(entity_type, i) for i in sorted(ids)]


def _context(facts: RequestFacts) -> dict[str, Any]:
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
