"""Intake: a written instrument in, a registered request (or a logged refusal) out.

No request without a written instrument: no request without an authenticated requester, an uploaded
instrument document (kept with its SHA-256), its type, issuer, signer and scope. There
is no verbal path and no bulk feed: a scope that describes people instead of naming
them is refused here, before any policy runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import NoReturn

from sqlalchemy.orm import Session

from safeslot.disclosure import logbook, sealed, signatures
from safeslot.disclosure import repository as repo
from safeslot.disclosure.document import DocumentLimits, DocumentRejected, inspect
from safeslot.disclosure.errors import RequestRefused, StorageQuotaExceeded
from safeslot.disclosure.models import DisclosureRequest, RequestSubject
from safeslot.disclosure.policy import Category, DocumentSignature, InstrumentType, PolicyEngine
from safeslot.disclosure.schemas import JUDICIAL, MAX_DOCUMENT_BYTES, Actor, RequestMetadata
from safeslot.disclosure.service import decide
from safeslot.kit.crypto import KeyRing
from safeslot.transparency.interfaces import Refused

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True, slots=True)
class DocumentChecks:
    """How intake checks the instrument file: render limits and the trusted court CAs."""

    limits: DocumentLimits = field(default_factory=DocumentLimits)
    trust_roots: tuple[object, ...] = ()


DEFAULT_CHECKS = DocumentChecks()
KNOWN_CATEGORIES = frozenset(c.value for c in Category)


def recipient(session: Session, actor: Actor, meta: RequestMetadata | None) -> tuple[int | None, str | None]:
    """The requesting agency as the registry knows it: (registry id, registered name), or Nones.
    An official's agency comes from their verified account; staff give a registry id."""
    if actor.kind == "official":
        return repo.agency_id(session, actor.agency), actor.agency
    if actor.kind == "staff" and meta is not None and meta.agency_id is not None:
        name = repo.agency_name(session, meta.agency_id)
        return (meta.agency_id if name is not None else None), name
    return None, None


def problems(actor: Actor, meta: RequestMetadata, document: bytes | None, agency: str | None = None) -> list[str]:
    """Why the request must be refused; empty when it may be registered. Messages hold no
    personal data: they name fields, never values. `agency` is the registered name
    (`recipient`); staff may file only for an agency in the registry."""
    found: list[str] = []
    if actor.kind == "official":
        if not actor.agency:
            found.append("The official's account names no agency; ask the office to verify it.")
    elif actor.kind == "staff":
        if meta.agency_id is None:
            found.append("Staff registering a paper request must give the requesting agency's registry id in "
                         "'agency_id'.")
        elif agency is None:
            found.append("That agency is not in the agency registry. Only registered agencies may file; "
                         "registering one needs two people.")
    else:
        found.append("Only a verified agency official, or staff on the agency's behalf, may file a request.")
    if not document:
        found.append("Attach the signed instrument as a PDF in 'document'; there is no verbal or informal path.")
    elif len(document) > MAX_DOCUMENT_BYTES:
        found.append("The document is larger than 10 MiB; send a smaller scan.")
    elif not document.startswith(PDF_MAGIC):
        found.append("The document is not a PDF file; scan the signed instrument to PDF.")
    if meta.scope_description or not meta.subjects:
        found.append(
            "Name each person the request is about in 'subjects'; requests about groups of people "
            "(for example everyone booked at an office) are refused."
        )
    unknown = sorted(set(meta.categories) - KNOWN_CATEGORIES)
    if unknown or not meta.categories:
        found.append(
            "Ask only for these data categories: " + ", ".join(sorted(KNOWN_CATEGORIES)) + "."
        )
    if meta.instrument_type in JUDICIAL and not (meta.court and meta.docket):
        found.append("A court order or judicial warrant needs 'court' and 'docket'.")
    if meta.instrument_type is InstrumentType.EMERGENCY and not meta.emergency_justification:
        found.append("An emergency request needs 'emergency_justification' (5 U.S.C. 552a(b)(8)).")
    for when in (meta.deadline, meta.non_disclosure_order.expires_at if meta.non_disclosure_order else None):
        if when is not None and when.tzinfo is None:
            found.append("Give times with a time zone, for example 2027-03-01T17:00:00Z.")
    return found


def record_refusal(session: Session, actor: Actor, meta: RequestMetadata | None, now: dt.datetime) -> int:
    """Log a refused request and keep nothing else (the caller must add nothing more). The
    entry holds the registry id and enumerated values only, never what was typed."""
    agency_id, _ = recipient(session, actor, meta)
    entry = Refused(
        time=logbook.rfc3339(now),
        agency=logbook.agency_ref(agency_id),
        instrument_type=meta.instrument_type.value if meta else "unknown",
        purpose=meta.purpose.value if meta else "unknown",
        categories=sorted(set(meta.categories) & KNOWN_CATEGORIES) if meta else [],
        subjects=len(meta.subjects) if meta else 0,
        nondisclosure_order=bool(meta and meta.non_disclosure_order),
        emergency=bool(meta and meta.instrument_type is InstrumentType.EMERGENCY),
    )
    return logbook.record(session, entry, now)


def refuse(
    session: Session, actor: Actor, meta: RequestMetadata | None, now: dt.datetime, found: list[str]
) -> NoReturn:
    """Log the refusal, then raise RequestRefused (a `Recorded` error: the request's session
    commits the log entry, and only it, before the 422 is answered)."""
    record_refusal(session, actor, meta, now)
    raise RequestRefused(" ".join(found))


def register(
    session: Session, ring: KeyRing, actor: Actor, meta: RequestMetadata, document: bytes, now: dt.datetime,
    pages: int = 0, signature: signatures.SignatureCheck | None = None,
) -> DisclosureRequest:
    """Store a request that passed `problems`; subjects' names are sealed at rest."""
    agency_id, agency = recipient(session, actor, meta)
    if problems(actor, meta, document, agency):  # pragma: no cover - callers check first
        raise RequestRefused("The request was not checked before registration.")
    nda = meta.non_disclosure_order
    request = DisclosureRequest(
        status="received",
        agency=agency or "",
        agency_id=agency_id,
        official_id=actor.id if actor.kind == "official" else None,
        registered_by=actor.id if actor.kind == "staff" else None,
        instrument_type=meta.instrument_type.value,
        issuer=meta.issuer,
        court=meta.court,
        docket=meta.docket,
        signer_name=meta.signer_name,
        signer_type=meta.signer_type.value,
        statutes=list(meta.statutes),
        purpose=meta.purpose.value,
        categories=list(dict.fromkeys(meta.categories)),
        nda_authority=nda.authority if nda else None,
        nda_expires_at=nda.expires_at if nda else None,
        nda_signer_type=nda.signer_type.value if nda and nda.signer_type else None,
        consent_requester_is_subject=bool(meta.consent and meta.consent.requester_is_subject),
        consent_names_recipient=bool(meta.consent and meta.consent.names_recipient),
        consent_names_purpose=bool(meta.consent and meta.consent.names_purpose),
        document_signature=(signature.status if signature else DocumentSignature.NONE).value,
        document_pages=pages,
        signature_signed_at=signature.signed_at if signature else None,
        signature_signer_enc=ring.seal(signature.signer, "disclosure_request.signature_signer",
                                       month=sealed.retention_month(now))
        if signature and signature.signer else None,
        emergency_justification=meta.emergency_justification,
        deadline=meta.deadline,
        document=document,
        document_sha256=hashlib.sha256(document).hexdigest(),
        received_at=now,
    )
    # The document and every typed free text are sealed at rest.
    sealed.seal_request(ring, request, document, {
        "issuer": meta.issuer, "court": meta.court, "docket": meta.docket, "signer_name": meta.signer_name,
        "statutes": list(meta.statutes), "nda_authority": nda.authority if nda else None,
        "emergency_justification": meta.emergency_justification,
    })
    session.add(request)
    session.flush()
    for subject in meta.subjects:
        session.add(
            RequestSubject(
                request_id=request.id,
                name_enc=ring.seal(subject.name, "disclosure_subject.name"),
                name_index=ring.blind_index(subject.name),
                office_slug=subject.office,
                date_from=subject.date_from,
                date_to=subject.date_to,
                status="pending",
                candidates=[],
                appointment_ids=[],
            )
        )
    session.flush()
    return request


def submit(
    session: Session,
    ring: KeyRing,
    engine: PolicyEngine,
    actor: Actor,
    meta: RequestMetadata,
    document: bytes | None,
    now: dt.datetime,
    checks: DocumentChecks = DEFAULT_CHECKS,
    *,
    quota_bytes: int | None = None,
) -> DisclosureRequest:
    """Check, register and decide a request in the caller's transaction.

    The document must be a PDF the server can render (document.inspect: not encrypted,
    within the page and time limits); its digital signatures are checked (signatures.check)
    and the result goes to the policy. A refusal is logged, then RequestRefused is raised
    (`Recorded`: the session keeps the refusal entry). ``quota_bytes``: the most instrument documents one
    agency may have stored (else StorageQuotaExceeded, and nothing is kept)."""
    agency = recipient(session, actor, meta)[1]
    found = problems(actor, meta, document, agency)
    if found or document is None:
        refuse(session, actor, meta, now, found)
    assert document is not None
    if quota_bytes is not None and repo.document_bytes(session, agency or "") + len(document) > quota_bytes:
        raise StorageQuotaExceeded(
            f"This agency's stored instrument documents would pass its quota of {quota_bytes // (1024 * 1024)} MiB. "
            "Nothing was saved; ask the office's privacy officer."
        )
    try:
        facts = inspect(document, checks.limits)
    except DocumentRejected as exc:
        refuse(session, actor, meta, now, [exc.detail])
    signature = signatures.check(document, list(checks.trust_roots))
    request = register(session, ring, actor, meta, document, now, facts.pages, signature)
    decide(session, ring, engine, request, now)
    return request
