"""The log's entry kinds (transparency/entries.py): each round-trips byte for byte, and an unknown
field, free text or a value of the wrong type is refused before anything is written."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from pydantic import ValidationError
from sqlalchemy.orm import Session

from safeslot.transparency import entries, service
from safeslot.transparency.errors import EntryRejected

SRC = Path(__file__).resolve().parents[2] / "src" / "safeslot"
DOC = Path(__file__).resolve().parents[2] / "docs" / "log-entries.md"
T = "2027-03-01T14:05:00Z"
H = "ab" * 32
P = "0123456789abcdef01234567"  # a 24-hex-digit pseudonym

# One entry of every event, as its writer builds it today (the values are made up).
EXAMPLES: dict[str, dict[str, Any]] = {
    "disclosure.request_refused": {
        "time": T, "agency": "unregistered", "instrument_type": "administrative_warrant", "purpose": "unknown",
        "categories": ["appointment_schedule"], "subjects": 1, "nondisclosure_order": False, "emergency": False},
    "disclosure.decision": {
        "time": T, "request_id": 7, "agency": "agency-3", "instrument_type": "judicial_warrant",
        "purpose": "criminal", "subjects": 2, "candidates": [1, 0], "nondisclosure_order": True, "emergency": False,
        "policy_set_hash": H, "profile": "federal", "stage": "review",
        "categories": [{"category": "identity", "outcome": "allow", "policies": ["judicial-warrant-names"]}]},
    "disclosure.review": {
        "time": T, "request_id": 7, "action": "approve", "role": "counsel",
        "attestation": {"fields": ["court", "docket"], "document_sha256": H, "reviewer": "reviewer-0123456789abcdef"}},
    "disclosure.release": {
        "time": T, "request_id": 7, "agency": "agency-3", "instrument_type": "judicial_warrant",
        "categories": ["identity"], "subjects": 1, "policy_set_hash": H, "package_sha256": H, "commitments": [H]},
    "disclosure.accounting": {"time": T, "request_id": 7, "commitment": H},
    "disclosure.withdrawn": {"time": T, "request_id": 7, "status": "withdrawn"},
    "disclosure.expired": {"time": T, "request_id": 7, "status": "expired"},
    "disclosure.closed": {"time": T, "request_id": 7, "status": "withdrawn"},
    "disclosure.refused_before_gate": {"time": T, "period": "2027-03-01T13", "counts": {"no_credentials": 4}},
    "legal_hold.created": {"time": T, "hold_id": 2, "scope": {"recipient": "agency-3", "purpose": "civil_immigration"}},
    "legal_hold.lifted": {"time": T, "hold_id": 2},
    "sharing_agreement.created": {
        "time": T, "agreement_id": 4, "agency": "agency-3", "kind": "routine_use", "purposes": ["benefits"],
        "categories": ["contact"], "starts_at": T, "expires_at": "2028-03-01T00:00:00Z"},
    "sharing_agreement.suspended": {"time": T, "agreement_id": 4, "agency": "agency-3"},
    "sharing_agreement.reinstated": {"time": T, "agreement_id": 4, "agency": "agency-3"},
    "sharing_agreement.expired": {"time": T, "agreement_id": 4, "agency": "agency-3"},
    "sharing_agreement.renewed": {"time": T, "agreement_id": 4, "agency": "agency-3", "expires_at": T},
    "policy.change": {"time": T, "change_id": 1, "step": "adopted", "profile": "state", "policy_set_hash": H,
                      "approvals": 2},
    "report.published": {"time": "2027-03-01T14:05:00.123456+00:00", "period": "2026H2", "sha256": H,
                         "checkpoint_size": 10, "checkpoint_root": "q" * 43 + "="},
    "records.heads": {"time": T, "heads": {"access_record": H}},
    **{f"identity.{name}": {"time": T, "account": P, "proposer": P, "approver": P, "proposal_id": 3,
                            "role": "counsel", "change": "grant_role"} for name in entries.IDENTITY_EVENTS},
    "identity.agency_registered": {"time": T, "agency_id": 5, "agency": "Example Federal Agency", "proposer": P,
                                   "approver": P, "proposal_id": 3},
    "identity.account_deactivated": {"time": T, "account": P, "actor": P, "roles": ["clerk"],
                                     "credentials_revoked": 2},
}


def _entry(event: str) -> dict[str, Any]:
    return {"event": event, **EXAMPLES[event]}


def test_every_event_has_an_example_here() -> None:
    assert set(EXAMPLES) == entries.EVENTS


@pytest.mark.parametrize("event", sorted(entries.EVENTS))
def test_every_kind_round_trips_byte_for_byte(event: str) -> None:
    value = _entry(event)
    model = entries.parse(value)
    assert model.event == event
    assert entries.as_json(model) == value
    # the bytes a model writes are the bytes the dict wrote before the models existed
    assert service.canonical(model) == service.canonical(value) == rfc8785.dumps(value)
    assert entries.parse(entries.as_json(model)) == model


@pytest.mark.parametrize(("change", "why"), [
    ({"note": "the person called at 9"}, "a field no kind has"),
    ({"agency": "ICE ERO (verbal request)"}, "free text where a registry id goes"),
    ({"purpose": "to find Test Person A"}, "free text where a code goes"),
    ({"subjects": True}, "a boolean where a count goes"),
    ({"subjects": -1}, "a negative count"),
    ({"request_id": "7"}, "a string where an id goes"),
    ({"time": "yesterday"}, "a time that is not RFC 3339 UTC"),
    ({"policy_set_hash": "xyz"}, "a hash that is not 64 hex digits"),
    ({"categories": [{"category": "identity", "outcome": "allow", "policies": [], "who": "Test Person A"}]},
     "an unknown field inside a category"),
])
def test_an_unknown_field_free_text_or_a_wrong_value_is_refused(change: dict[str, Any], why: str) -> None:
    with pytest.raises(entries.EntryInvalid):
        entries.parse({**_entry("disclosure.decision"), **change})
    with pytest.raises(ValidationError):  # building the model directly refuses it too
        entries.Decision(**{**EXAMPLES["disclosure.decision"], **change})


def test_unknown_events_and_identity_fields_are_refused() -> None:
    with pytest.raises(entries.EntryInvalid, match="Unknown log event"):
        entries.parse({"event": "legal_hold.placed", "time": T, "hold_id": 1})
    with pytest.raises(entries.EntryInvalid):
        entries.parse({**_entry("identity.role_granted"), "username": "desk-a"})
    with pytest.raises(entries.EntryInvalid):  # a username is not a pseudonym
        entries.parse({**_entry("identity.role_granted"), "account": "desk-a"})


def test_a_typed_entry_is_appended_as_the_same_bytes(session: Session) -> None:
    from safeslot.transparency.models import LogEntry

    model = entries.parse(_entry("disclosure.release"))
    (index,) = service.append(session, [model])
    stored = session.get(LogEntry, index)
    assert stored is not None and stored.data == rfc8785.dumps(_entry("disclosure.release"))
    with pytest.raises(EntryRejected, match="Unknown log event"):
        service.append_raw(session, [{"event": "legal_hold.placed"}])
    # the application's append takes typed entries only: the same entry as a plain object is refused
    with pytest.raises(EntryRejected, match="built from its model"):
        service.append(session, [_entry("disclosure.release")])  # type: ignore[list-item]
    assert service.status(session).size == 1


def test_the_writers_build_typed_entries_not_dicts() -> None:
    """A dict literal with an "event" key in the application is a log entry that skipped its model."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict) and any(
                    isinstance(k, ast.Constant) and k.value == "event" for k in node.keys):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == [], f"build these log entries with transparency/entries.py: {found}"


def test_docs_log_entries_documents_every_kind_and_field() -> None:
    doc = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", doc))
    missing_events = sorted(entries.EVENTS - named)
    assert missing_events == [], f"docs/log-entries.md does not document: {missing_events}"
    missing_fields = sorted({f"{m.__name__}.{f}" for m in entries.MODELS for f in m.model_fields
                             if f"`{f}`" not in doc})
    assert missing_fields == [], f"docs/log-entries.md does not name these fields: {missing_fields}"
