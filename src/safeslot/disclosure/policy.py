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

How a decision is made (measured with cedarpy 4.12 on a 2-core machine):

* One Cedar request per requested category, all in one `is_authorized_batch`
  call, always with the schema, against handles parsed once at load. Without
  the schema a wrongly typed context value makes a `forbid` raise, the forbid
  is skipped and a permit can win; re-parsing the policy text costs 0.6-1.7 ms
  a call, against 76-300 µs with handles parsed once.
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

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import cedarpy

# The vocabulary and facts (policy_facts) and the policy set as files (policy_set) are split out
# by concern; callers keep importing every name from here.
from safeslot.disclosure.policy_facts import (
    AgreementFacts,
    Category,
    ConsentFacts,
    DocumentSignature,
    HoldSets,
    InstrumentType,
    NondisclosureFacts,
    Outcome,
    Purpose,
    RequestFacts,
    SignerType,
    cedar_context,
)
from safeslot.disclosure.policy_set import (
    DEFAULT_DENY,
    EVALUATION_ERROR,
    PROFILES,
    SCHEMA_FILE,
    SYNTHETIC_REASONS,
    PolicyError,
    PolicyInfo,
    PolicyInvalid,
    PolicyMismatch,
    policy_set_hash,
    read_annotations,
    read_files,
    validate,
)

__all__ = [
    "DEFAULT_DENY", "EVALUATION_ERROR", "PROFILES", "SCHEMA_FILE", "AgreementFacts", "Category", "CategoryDecision",
    "ConsentFacts", "Decision", "DocumentSignature", "HoldSets", "InstrumentType", "NondisclosureFacts", "Outcome",
    "PolicyEngine", "PolicyError", "PolicyInfo", "PolicyInvalid", "PolicyMismatch", "Purpose", "RequestFacts",
    "SignerType", "policy_set_hash",
]

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


# --- facts in, decision out -------------------------------------------------------------


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

    @property
    def disclosable(self) -> tuple[str, ...]:
        """Categories that may go forward to review (allow or allow with counsel review)."""
        return tuple(d.category for d in self.categories if d.outcome is not Outcome.DENY)


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
        files = read_files(policies_dir, profile)
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
            file_problems = validate(name, text, schema)
            if file_problems:
                problems.extend(file_problems)
                continue
            for info in read_annotations(name, text, problems, start=len(infos)):
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
            context = cedar_context(facts)
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
        return SYNTHETIC_REASONS.get(policy_id, f"Policy {policy_id} decided this.")

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


