"""A policy set as files (disclosure/policy_set.py): every policy read from the profile's files, checked
against the schema and the house rules on annotations before the engine starts, and the published hash every
decision names, recomputable by anyone. The engine's answers are in test_policy.py."""

from __future__ import annotations

import hashlib
import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from safeslot.disclosure.policy import PolicyEngine, PolicyInvalid
from tests.disclosure.conftest import POLICIES

PROFILE_NAMES = ("federal", "state")


@cache
def engine(profile: str) -> PolicyEngine:
    return PolicyEngine.load(POLICIES, profile)


def test_every_default_policy_has_an_id_reason_and_source() -> None:
    for info in engine("state").policies.values():
        assert info.reason.endswith(".")
        assert info.source, info.policy_id
    reviewed = [i.policy_id for i in engine("state").policies.values() if i.review]
    assert reviewed == ["head-of-agency-law-enforcement", "emergency-health-or-safety"]


def test_hash_is_stable_and_differs_between_profiles(policies: Path) -> None:
    first = PolicyEngine.load(policies, "federal").policy_set_hash
    assert PolicyEngine.load(policies, "federal").policy_set_hash == first
    assert first == engine("federal").policy_set_hash
    assert PolicyEngine.load(policies, "state").policy_set_hash != first
    assert re.fullmatch(r"[0-9a-f]{64}", first)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_hash_follows_the_recipe_published_in_the_readme(profile: str) -> None:
    # Recomputed independently, the way an outside auditor would (policies/README.md).
    dirs = ["federal"] if profile == "federal" else ["federal", "state"]
    files = [POLICIES / "schema.cedarschema"]
    files += [p for d in dirs for p in (POLICIES / d).glob("*.cedar")]
    digest = hashlib.sha256(b"safeslot-policy-set-v1\n")
    for path in sorted(files, key=lambda p: p.relative_to(POLICIES).as_posix()):
        for part in (path.relative_to(POLICIES).as_posix().encode(), path.read_bytes()):
            digest.update(len(part).to_bytes(8, "big") + part)
    assert engine(profile).policy_set_hash == digest.hexdigest()


@pytest.mark.parametrize("changed", ["federal/40-consent.cedar", "schema.cedarschema"], ids=["policy", "schema"])
def test_hash_changes_when_a_file_changes(policies: Path, changed: str) -> None:
    before = PolicyEngine.load(policies, "federal").policy_set_hash
    path = policies / changed
    path.write_text(path.read_text() + "\n// amended\n")
    assert PolicyEngine.load(policies, "federal").policy_set_hash != before


def test_hash_ignores_files_outside_the_profile(policies: Path) -> None:
    before = PolicyEngine.load(policies, "federal").policy_set_hash
    (policies / "state" / "10-civil-immigration.cedar").write_text("// changed\n")
    (policies / "README.md").write_text("changed")
    assert PolicyEngine.load(policies, "federal").policy_set_hash == before


def test_type_error_fails_load(policies: Path) -> None:
    (policies / "federal" / "70-bad.cedar").write_text(
        '@id("bad-type")\n@reason("Compares a count with text.")\n'
        "permit (principal, action, resource)\n"
        'when { context.named_subject_count == "one" };\n'
    )
    with pytest.raises(PolicyInvalid) as raised:
        PolicyEngine.load(policies, "federal")
    assert any(m.startswith("federal/70-bad.cedar: [bad-type]") for m in raised.value.messages)


def test_misspelled_enum_value_fails_load(policies: Path) -> None:
    (policies / "state" / "20-typo.cedar").write_text(
        '@id("typo")\n@reason("Misspells a purpose.")\n'
        "forbid (principal, action, resource)\n"
        'when { context.purpose == Purpose::"civil_imigration" };\n'
    )
    with pytest.raises(PolicyInvalid, match=r"20-typo\.cedar"):
        PolicyEngine.load(policies, "state")
    PolicyEngine.load(policies, "federal")  # the federal profile does not read state/


def test_duplicate_id_fails_load(policies: Path) -> None:
    (policies / "state" / "20-dup.cedar").write_text(
        '@id("legal-hold-recipient")\n@reason("A second policy with a taken id.")\n'
        "forbid (principal, action, resource);\n"
    )
    with pytest.raises(PolicyInvalid, match="duplicate @id 'legal-hold-recipient'"):
        PolicyEngine.load(policies, "state")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("forbid (principal, action, resource);", "needs @id"),
        ('@id("no-reason")\nforbid (principal, action, resource);', "needs a @reason"),
        (
            '@id("boss")\n@review("boss")\n@reason("r.")\npermit (principal, action, resource);',
            "@review must be",
        ),
        (
            '@id("f")\n@review("counsel")\n@reason("r.")\nforbid (principal, action, resource);',
            "only on a permit",
        ),
        ('@id("default-deny")\n@reason("r.")\nforbid (principal, action, resource);', "reserved"),
        ("permit (principal, action, resource", "parse"),
        (
            '@id("t")\n@reason("r.")\npermit (principal == ?principal, action, resource);',
            "templates",
        ),
    ],
    ids=[
        "no-id",
        "no-reason",
        "unknown-review",
        "review-on-forbid",
        "reserved-id",
        "parse",
        "template",
    ],
)
def test_house_rules_fail_load(policies: Path, text: str, message: str) -> None:
    (policies / "federal" / "70-extra.cedar").write_text(text + "\n")
    with pytest.raises(PolicyInvalid, match=message):
        PolicyEngine.load(policies, "federal")


def test_unknown_profile_and_missing_files_fail_load(policies: Path) -> None:
    with pytest.raises(PolicyInvalid, match="unknown profile"):
        PolicyEngine.load(policies, "county")
    shutil.rmtree(policies / "state")
    with pytest.raises(PolicyInvalid, match=r"no \*\.cedar files"):
        PolicyEngine.load(policies, "state")
    (policies / "schema.cedarschema").unlink()
    with pytest.raises(PolicyInvalid, match=r"schema\.cedarschema"):
        PolicyEngine.load(policies, "federal")


def test_broken_schema_fails_load(policies: Path) -> None:
    (policies / "schema.cedarschema").write_text("entity Agency\n")
    with pytest.raises(PolicyInvalid, match=r"schema\.cedarschema"):
        PolicyEngine.load(policies, "federal")
