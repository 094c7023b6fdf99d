"""Attestation: each reviewer checks what the requester typed against the document itself,
field by field, before they may approve.

The fields of a request (`fields_for`): instrument type, issuer, signer and signer type,
purpose, categories, court and docket (judicial instruments), each named person
(`subject-1`, `subject-2`, … in the order named), the date range when one was given, the
non-disclosure order's authority and end, the emergency justification (counsel's own
attestation is what lets an emergency go: 552a(b)(8)) and the consent form's terms.

Every field is answered `match` or `mismatch`; for the enumerated ones (instrument type,
signer type, purpose) a mismatch may say what the document shows. An attestation is bound
to the document's SHA-256.

* All `match`: the attestation stands; the reviewer may approve, and the approval's log
  entry carries the fields confirmed, the document hash and the reviewer's pseudonym.
* Any `mismatch`: the request goes back to the requester naming the fields (state
  `info_requested`), every approval and attestation is void, and when the reviewer said
  what the document shows, the policy is decided again on those attested facts — a
  relabelled I-205 is then an administrative warrant again, and denied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from safeslot.disclosure import acceptance, logbook
from safeslot.disclosure import repository as repo
from safeslot.disclosure.acceptance import mark_accepted
from safeslot.disclosure.models import Attestation, DisclosureRequest, RequestSubject
from safeslot.disclosure.policy import InstrumentType, PolicyEngine, Purpose, SignerType
from safeslot.disclosure.schemas import JUDICIAL, Actor
from safeslot.disclosure.service import decide
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, InvalidInput
from safeslot.transparency.interfaces import Review

MATCH, MISMATCH = "match", "mismatch"
# Fields whose value a reviewer may correct from the document, and what they may say.
CORRECTABLE: Mapping[str, frozenset[str]] = {
    "instrument_type": frozenset(v.value for v in InstrumentType),
    "signer_type": frozenset(v.value for v in SignerType),
    "purpose": frozenset(v.value for v in Purpose),
}
REVIEW_ROLES = acceptance.REVIEW_ROLES
ATTESTABLE_STATES = frozenset({"in_review"})


def fields_for(request: DisclosureRequest, subjects: Sequence[RequestSubject]) -> list[str]:
    """The fields a reviewer must check against this request's document, in page order."""
    out = ["instrument_type", "issuer", "signer", "signer_type", "purpose"]
    if request.instrument_type in JUDICIAL or request.court or request.docket:
        out += ["court", "docket"]
    named = [s for s in subjects if s.status != "dropped"]
    out += [f"subject-{n}" for n in range(1, len(named) + 1)]
    if any(s.date_from or s.date_to for s in named):
        out.append("date_range")
    out.append("categories")
    if request.nda_authority is not None:
        out += ["nda_authority", "nda_end"]
    if request.instrument_type == InstrumentType.EMERGENCY:
        out.append("emergency_justification")
    if request.instrument_type == InstrumentType.CONSENT:
        out.append("consent_form")
    return out


def pseudonym(ring: KeyRing, staff_id: int) -> str:
    """A stable name for a reviewer in the public log that only the office can link to a person."""
    return "reviewer-" + ring.blind_index(f"safeslot reviewer {staff_id}")[:16]


def standing(session: Session, request: DisclosureRequest, staff_id: int, role: str) -> Attestation | None:
    """This reviewer's attestation that still stands for the request's current document: every
    field of the current scope answered `match`."""
    wanted = set(fields_for(request, repo.subjects(session, request.id)))
    for found in reversed(repo.attestations(session, request.id)):
        if found.void or found.staff_id != staff_id or found.role != role:
            continue
        if found.document_sha256 != request.document_sha256:
            return None
        confirmed = {f for f, v in found.fields.items() if v == MATCH}
        return found if wanted <= confirmed else None
    return None


def log_view(found: Attestation) -> dict[str, object]:
    """What the approval's log entry says about the attestation: enumerated field names, the
    document hash and the pseudonym, never a value."""
    return {"fields": sorted(f for f, v in found.fields.items() if v == MATCH),
            "document_sha256": found.document_sha256, "reviewer": found.reviewer}


def void_all(session: Session, request_id: int) -> None:
    for found in repo.attestations(session, request_id):
        found.void = True


def attest(
    session: Session, ring: KeyRing, engine: PolicyEngine, actor: Actor, request_id: int, role: str,
    document_sha256: str, answers: Mapping[str, str], corrections: Mapping[str, str], now: dt.datetime,
) -> Attestation:
    """Record one reviewer's field-by-field check; a mismatch sends the request back (see the
    module docstring). Raises InvalidInput naming the fields left out or unknown."""
    request = acceptance.reviewer_request(session, actor, request_id, role, ATTESTABLE_STATES,
                                          act="attest", check="check", noun="attestation")
    mark_accepted(session, request, actor.id, role, now)  # a reviewer who checks the document has taken it up
    if document_sha256 != request.document_sha256:
        raise Conflict("You checked another version of the document; reload the request and check it again.")
    wanted = fields_for(request, repo.subjects(session, request.id))
    missing = [f for f in wanted if answers.get(f) not in (MATCH, MISMATCH)]
    unknown = sorted(set(answers) - set(wanted))
    if missing or unknown:
        raise InvalidInput("Answer 'match' or 'mismatch' for exactly these fields: " + ", ".join(wanted) + ".")
    for name, value in corrections.items():
        if name not in CORRECTABLE or value not in CORRECTABLE[name] or answers.get(name) != MISMATCH:
            raise InvalidInput("Say what the document shows only for a mismatched instrument_type, "
                               "signer_type or purpose, with one of their listed values.")
    found = Attestation(
        request_id=request.id, staff_id=actor.id, role=role, reviewer=pseudonym(ring, actor.id),
        document_sha256=document_sha256, fields={f: answers[f] for f in wanted}, corrections=dict(corrections),
        at=now, void=False,
    )
    session.add(found)
    session.flush()
    mismatched = [f for f in wanted if answers[f] == MISMATCH]
    if not mismatched:
        logbook.record(session, Review(time=logbook.rfc3339(now), request_id=request.id, action="attest",
                                       role=role, fields=sorted(wanted), document_sha256=document_sha256,
                                       reviewer=found.reviewer), now)
        return found
    _send_back(session, ring, engine, request, role, found, mismatched, now)
    return found


def _send_back(session: Session, ring: KeyRing, engine: PolicyEngine, request: DisclosureRequest, role: str,
               found: Attestation, mismatched: list[str], now: dt.datetime) -> None:
    from safeslot.disclosure import review  # review imports this module's `standing`

    review.void_approvals(session, request)
    void_all(session, request.id)
    logbook.record(session, Review(time=logbook.rfc3339(now), request_id=request.id, action="attestation_mismatch",
                                   role=role, fields=mismatched, document_sha256=found.document_sha256,
                                   reviewer=found.reviewer), now)
    if found.corrections:
        request.attested_facts = {**(request.attested_facts or {}), **found.corrections}
        repo.delete_decisions(session, request.id)
        decide(session, ring, engine, request, now, stage="attestation")
        if request.status == "denied":
            request.closed_reason = "Decided again on what the document shows: every category denied."
            return
    request.status = "info_requested"
    # Enumerated field names only: the requester learns what to fix, the record holds no text.
    request.info_request = "The document does not match what was typed for: " + ", ".join(mismatched) + "."
