"""A policy set as files: reading the schema and a profile's ``*.cedar`` files, validating each
against the schema, the house rules on annotations (``@id``, ``@reason``, ``@review``), and the
published hash that every decision names. The engine built from them is ``policy.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import cedarpy

# Names for denials that no policy file can carry: Cedar's default deny names no policy,
# and an evaluation error has no policy to name. Policy files may not reuse them.
DEFAULT_DENY: Final = "default-deny"
EVALUATION_ERROR: Final = "evaluation-error"
SYNTHETIC_REASONS: Final[Mapping[str, str]] = {
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


# --- reading and checking ---------------------------------------------------------------


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


def read_files(policies_dir: Path, profile: str) -> dict[str, str]:
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


def validate(name: str, text: str, schema: cedarpy.Schema) -> list[str]:
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


def read_annotations(name: str, text: str, problems: list[str], *, start: int) -> list[PolicyInfo]:
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
        if policy_id in SYNTHETIC_REASONS:
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
