"""The disclosure gate's core rules: the policy decision, subject matching, the view a
requester or reviewer gets, and policy changes. Intake, review, release, accounting and
holds live beside this file, one module per use case. Nothing here commits.

States of a request (README.md)::

    received → denied                      every category denied by policy
    received → in_review                   some category allowed; subjects matched
    in_review ⇄ info_requested             a reviewer asked for more information
    in_review → denied                     a reviewer denied, or narrowed to nothing
    in_review → approved → released        privacy officer + counsel, then the package
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from safeslot.disclosure import logbook, sealed
from safeslot.disclosure import repository as repo
from safeslot.disclosure.errors import RequestNotFound, ReviewerNotAllowed
from safeslot.disclosure.models import (
    CategoryDecisionRow,
    DisclosureRequest,
    PolicyChange,
    RequestSubject,
    SharingAgreement,
)
from safeslot.disclosure.policy import (
    AgreementFacts,
    Category,
    CategoryDecision,
    ConsentFacts,
    Decision,
    DocumentSignature,
    HoldSets,
    InstrumentType,
    NondisclosureFacts,
    Outcome,
    PolicyEngine,
    PolicyMismatch,
    Purpose,
    RequestFacts,
    SignerType,
)
from safeslot.disclosure.schemas import Actor, CandidateOut, CategoryDecisionOut, RequestOut, SubjectOut
from safeslot.kit.crypto import KeyRing
from safeslot.kit.errors import Conflict, InvalidInput
from safeslot.scheduling import interfaces as scheduling
from safeslot.transparency import interfaces as log

OPEN_STATES = frozenset({"received", "in_review", "info_requested", "approved"})
_DROPPED = "disclosure_decision.dropped_reason"


def get_request(session: Session, request_id: int, *, for_update: bool = False) -> DisclosureRequest:
    request = repo.get_request(session, request_id, for_update=for_update)
    if request is None:
        raise RequestNotFound(f"There is no disclosure request {request_id}; check the number.")
    return request


def get_visible_request(session: Session, actor: Actor, request_id: int) -> DisclosureRequest:
    """Officials see only their agency's requests; staff see all (their role was checked)."""
    request = get_request(session, request_id)
    if actor.kind == "official" and request.agency != actor.agency:
        raise RequestNotFound(f"There is no disclosure request {request_id}; check the number.")
    return request


# --- the policy decision -------------------------------------------------------------


def _agreement_facts(agreements: Sequence[SharingAgreement], now: dt.datetime) -> AgreementFacts | None:
    if not agreements:
        return None
    # The newest agreement in its term wins; otherwise the newest on file (inactive).
    current = next((a for a in agreements if a.starts_at <= now < a.expires_at), agreements[0])
    return AgreementFacts(
        recipient=current.agency,
        active=current.starts_at <= now < current.expires_at,
        suspended=current.suspended,
        categories=frozenset(Category(c) for c in current.categories),
        purposes=frozenset(Purpose(p) for p in current.purposes),
    )


def years_later(when: dt.datetime, years: int) -> dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February: 1 March, never less than the full years
        return when.replace(year=when.year + years, month=3, day=1)


def nondisclosure_facts(request: DisclosureRequest, now: dt.datetime) -> NondisclosureFacts | None:
    """The claimed order reduced with the clock: its signer (the instrument's when the order is
    part of it), whether it ends, and whether that end is at most a year after `now`."""
    if request.nda_authority is None:
        return None
    end = request.nda_expires_at
    return NondisclosureFacts(
        signer=SignerType(request.nda_signer_type or request.signer_type),
        has_end=end is not None,
        within_a_year=end is not None and end <= years_later(now, 1),
    )


def facts_for(session: Session, request: DisclosureRequest, now: dt.datetime) -> RequestFacts:
    """The request reduced to facts with no personal data: active holds as sets, the
    agency's sharing agreement, and the number of named people still in scope."""
    holds = repo.active_holds(session, now)
    categories = tuple(Category(c) for c in request.categories)
    people = [s for s in repo.subjects(session, request.id) if s.status != "dropped"]
    # What reviewers saw in the document wins over what was typed (attest.py).
    attested = request.attested_facts or {}
    return RequestFacts(
        instrument_type=InstrumentType(attested.get("instrument_type", request.instrument_type)),
        signer_type=SignerType(attested.get("signer_type", request.signer_type)),
        purpose=Purpose(attested.get("purpose", request.purpose)),
        agency=request.agency,
        categories=categories,
        named_categories=frozenset(categories),
        subject_count=len(people),
        holds=HoldSets(
            agencies=frozenset(h.agency for h in holds if h.agency),
            purposes=frozenset(Purpose(h.purpose) for h in holds if h.purpose),
            categories=frozenset(Category(h.category) for h in holds if h.category),
        ),
        agreement=_agreement_facts(repo.agreements_for(session, request.agency), now),
        document_signature=DocumentSignature(request.document_signature or "none"),
        consent=ConsentFacts(
            requester_is_subject=request.consent_requester_is_subject,
            names_recipient=request.consent_names_recipient,
            names_purpose=request.consent_names_purpose,
        ),
        nondisclosure_order=nondisclosure_facts(request, now),
    )


def decide(
    session: Session, ring: KeyRing, engine: PolicyEngine, request: DisclosureRequest, now: dt.datetime,
    stage: str | None = None,
) -> Decision:
    """Decide every category, store the answers with the request and log them in the same
    transaction (invariant "policy is data"). Subjects are matched only when something may go forward.
    `stage` "attestation": decided again on the facts reviewers attested (attest.py)."""
    decision = engine.decide(facts_for(session, request, now))
    for decided in decision.categories:
        session.add(
            CategoryDecisionRow(
                request_id=request.id,
                category=decided.category,
                outcome=decided.outcome.value,
                policy_ids=list(decided.policy_ids),
                policy_set_hash=decision.policy_set_hash,
            )
        )
    request.policy_set_hash = decision.policy_set_hash
    request.policy_profile = decision.profile
    request.decided_at = now
    people = [s for s in repo.subjects(session, request.id) if s.status != "dropped"]
    if decision.disclosable:
        request.status = "in_review"
        match_subjects(session, ring, people)
    else:
        request.status = "denied"
        request.closed_reason = "Every category was denied by policy."
    request.decision_log_index = logbook.record(
        session,
        log.Decision(
            time=logbook.rfc3339(now),
            request_id=request.id,
            agency=logbook.agency_ref(request.agency_id),
            instrument_type=request.instrument_type,
            purpose=request.purpose,
            subjects=len(people),
            candidates=candidate_counts(people) if decision.disclosable else [],
            nondisclosure_order=request.nda_authority is not None,
            emergency=request.instrument_type == InstrumentType.EMERGENCY,
            policy_set_hash=decision.policy_set_hash,
            profile=decision.profile,
            categories=[log.CategoryOutcome(category=d.category, outcome=d.outcome.value,
                                                policies=list(d.policy_ids)) for d in decision.categories],
            stage=stage or None,
        ),
        now,
    )
    session.flush()
    return decision


def stored_decision(session: Session, request: DisclosureRequest) -> Decision:
    rows = repo.decisions(session, request.id)
    return Decision(
        tuple(CategoryDecision(r.category, Outcome(r.outcome), tuple(r.policy_ids)) for r in rows),
        request.policy_set_hash or "",
        request.policy_profile or "",
    )


def explain(session: Session, engine: PolicyEngine, request_id: int, ring: KeyRing | None = None) -> list[str]:
    """Why the request was decided as it was, in words, one line per category."""
    request = get_request(session, request_id)
    if request.policy_set_hash is None:
        return ["The request has not been decided yet."]
    decision = stored_decision(session, request)
    try:
        lines = engine.explain(decision)
    except PolicyMismatch:
        lines = [
            f"{d.category}: {d.outcome.value} by {', '.join(d.policy_ids)} "
            "(decided by an earlier policy set; the current one holds other wording)."
            for d in decision.categories
        ]
    narrowed = {r.category: sealed.open_text(ring, r.dropped_reason, "disclosure_decision.dropped_reason")
                for r in repo.decisions(session, request.id) if r.dropped_reason}
    lines += [f"{c}: removed by a reviewer: {why}" for c, why in narrowed.items()]
    return [f"Request {request.id} ({request.instrument_type}, policy set {decision.policy_set_hash[:12]}):", *lines]


# --- subject matching ----------------------------------------------------------------


def _range(subject: RequestSubject) -> tuple[dt.datetime | None, dt.datetime | None]:
    start = dt.datetime.combine(subject.date_from, dt.time(), dt.UTC) if subject.date_from else None
    end = (
        dt.datetime.combine(subject.date_to + dt.timedelta(days=1), dt.time(), dt.UTC) if subject.date_to else None
    )
    return start, end


def match_subjects(session: Session, ring: KeyRing, subjects: Sequence[RequestSubject]) -> None:
    """Find each named person's candidate bookings by blind index of the normalised name,
    within the office and dates the instrument gives. People are never merged: each
    booking is its own candidate, since two bookings under one name may be two people
    (the same contact proves nothing either way). One candidate is matched; several are
    ambiguous, and nothing is released for that person until counsel picks one with a
    reason from the document (review.resolve_match), or refuses."""
    # One query per 500 distinct names, then each subject's office and dates in Python:
    # a request naming 1,000 people costs two queries, not a thousand.
    indexes = sorted({s.name_index for s in subjects})
    by_name: dict[str, list[scheduling.SubjectRecord]] = {}
    for chunk in range(0, len(indexes), 500):
        for record in scheduling.appointments_for_subject(session, indexes[chunk : chunk + 500]):
            by_name.setdefault(record.appointment.name_index, []).append(record)
    for subject in subjects:
        start, end = _range(subject)
        found = [
            r for r in by_name.get(subject.name_index, [])
            if (subject.office_slug is None or r.office_slug == subject.office_slug)
            and (start is None or r.appointment.starts_at >= start)
            and (end is None or r.appointment.starts_at < end)
        ]
        ids = sorted(r.appointment.id for r in found)
        subject.candidates = ids
        subject.match_reason = None
        if not ids:
            subject.status, subject.appointment_ids = "unmatched", []
        elif len(ids) == 1:
            subject.status, subject.appointment_ids = "matched", ids
        else:
            subject.status, subject.appointment_ids = "ambiguous", []


def candidate_counts(subjects: Sequence[RequestSubject]) -> list[int]:
    """How many candidate bookings each named person has, sorted: what the log may say about
    matching (never which bookings, never who)."""
    return sorted(len(s.candidates or []) for s in subjects if s.status != "dropped")


# --- what callers see ----------------------------------------------------------------


def attestation_fields(request: DisclosureRequest, subjects: Sequence[RequestSubject]) -> list[str]:
    from safeslot.disclosure.attest import fields_for  # attest builds on this module

    return fields_for(request, subjects)



def view(session: Session, engine: PolicyEngine, request: DisclosureRequest, now: dt.datetime,
         ring: KeyRing | None = None) -> RequestOut:
    """The request as the requester and reviewers see it: no subject's name, ever."""
    reasons = {}
    for policy_id, info in engine.policies.items():
        reasons[policy_id] = info.reason
    rows = repo.decisions(session, request.id)
    subjects = [s for s in repo.subjects(session, request.id) if s.status != "dropped"]
    return RequestOut(
        id=request.id,
        status=request.status,
        agency=request.agency,
        instrument_type=request.instrument_type,
        purpose=request.purpose,
        categories=list(request.categories),
        document_sha256=request.document_sha256,
        subject_count=len(subjects),
        policy_set_hash=request.policy_set_hash,
        decisions=[
            CategoryDecisionOut(
                category=r.category,
                outcome="deny" if r.dropped_reason else r.outcome,
                policy_ids=list(r.policy_ids),
                reasons=[reasons.get(p, p) for p in r.policy_ids]
                + ([f"Removed by a reviewer: {sealed.open_text(ring, r.dropped_reason, _DROPPED)}"]
                   if r.dropped_reason else []),
            )
            for r in rows
        ],
        deadline=request.deadline,
        overdue=bool(request.deadline and now > request.deadline and request.status in OPEN_STATES),
        log_index=request.decision_log_index,
        document_pages=request.document_pages or 0,
        document_signature=request.document_signature or "none",
        attestation_fields=attestation_fields(request, repo.subjects(session, request.id)),
        info_request=sealed.open_text(ring, request.info_request, "disclosure_request.info_request"),
    )


# --- policy changes (invariant "policy is data": two approvals, each step logged) -----------------------

POLICY_ROLES = frozenset({"privacy_officer", "counsel", "admin"})


def propose_policy(
    session: Session, actor: Actor, engine: PolicyEngine, files: dict[str, str], summary: str, now: dt.datetime
) -> PolicyChange:
    """Record a validated candidate policy set (`engine` was loaded from it)."""
    if actor.kind != "staff" or not (actor.roles & POLICY_ROLES):
        raise ReviewerNotAllowed("Only a privacy officer, counsel or an administrator may propose a policy change.")
    change = PolicyChange(
        profile=engine.profile, policy_set_hash=engine.policy_set_hash, files=files, summary=summary,
        proposed_by=actor.id, proposed_at=now, approvals=[], status="proposed",
    )
    session.add(change)
    session.flush()
    logbook.record(session, log.PolicyChange(time=logbook.rfc3339(now), change_id=change.id, step="proposed",
                                                 profile=change.profile, policy_set_hash=change.policy_set_hash),
                   now)
    return change


def approve_policy(session: Session, actor: Actor, change_id: int, now: dt.datetime) -> PolicyChange:
    """Add one approval; two different people, neither the proposer, adopt the change."""
    if actor.kind != "staff" or not (actor.roles & POLICY_ROLES):
        raise ReviewerNotAllowed("Only a privacy officer, counsel or an administrator may approve a policy change.")
    change = repo.policy_change(session, change_id, for_update=True)
    if change is None:
        raise InvalidInput(f"There is no policy change {change_id}.")
    if change.status != "proposed":
        raise Conflict(f"Policy change {change_id} is already {change.status}.")
    if actor.id == change.proposed_by or actor.id in change.approvals:
        raise ReviewerNotAllowed("Approvals must come from two people other than the proposer.")
    change.approvals = [*change.approvals, actor.id]
    step = "approved"
    if len(change.approvals) >= 2:
        change.status = step = "adopted"
    logbook.record(session, log.PolicyChange(time=logbook.rfc3339(now), change_id=change.id, step=step,
                                                 profile=change.profile, policy_set_hash=change.policy_set_hash,
                                                 approvals=len(change.approvals)), now)
    session.flush()
    return change


def subjects_view(session: Session, request_id: int) -> list[SubjectOut]:
    """Subjects as reviewers see them (ids, match states, candidate records by time and
    office), so counsel can resolve an ambiguous match. No names."""
    out = []
    for subject in repo.subjects(session, request_id):
        records = (
            scheduling.appointments_for_subject(session, subject.name_index, ids=subject.candidates)
            if subject.candidates else []
        )
        out.append(SubjectOut(
            id=subject.id, status=subject.status, office=subject.office_slug,
            candidates=[CandidateOut(appointment_id=r.appointment.id, office=r.office_slug,
                                     starts_at=r.appointment.starts_at, status=r.appointment.status)
                        for r in records],
            included=list(subject.appointment_ids), match_reason=subject.match_reason,
        ))
    return out


def list_requests(session: Session, actor: Actor, status: str | None) -> Sequence[DisclosureRequest]:
    """Officials see their agency's requests; staff (role checked by the table) see all."""
    return repo.requests(session, status=status, agency=actor.agency if actor.kind == "official" else None)


def official_agency(session: Session, official_id: int) -> str:
    """The agency name of a verified official (the recipient the policies and holds name)."""
    from safeslot.identity import interfaces as identity

    name = identity.official_agency_name(session, official_id)
    if name is None:
        raise ReviewerNotAllowed("Your official account belongs to no registered agency.")
    return name
