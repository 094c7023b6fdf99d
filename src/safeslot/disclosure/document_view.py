"""The instrument as a reviewer reads it: its pages' text and images, what the requester typed, the
people it names and the signature's signer, opened only after the read is written to the access log
(purpose disclosure_review; the document names people). The console renders these; it never opens a
sealed field itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from safeslot.disclosure import attest, document, sealed
from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import DisclosureRequest
from safeslot.identity.interfaces import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.interfaces import record_access

RECORD_TYPE = "disclosure_document"


@dataclass(frozen=True)
class DocumentView:
    """What the review page shows of the document (everything opened here was recorded first)."""

    typed: dict[str, Any]  # the requester's free text (issuer, signer_name, court, docket, …)
    page_text: list[str]  # the text PDFium extracts, page by page
    pages: int
    signature_status: str  # valid, untrusted, invalid or none
    signer: str | None  # the signing certificate's common name
    signed_at: dt.datetime | None
    subject_names: list[str]  # the people named, in order, without those a reviewer dropped
    date_ranges: list[tuple[dt.date | None, dt.date | None]]  # of those people, where the request gives one
    fields: list[str]  # what each reviewer checks against the document (attest.fields_for)
    attested_roles: list[str]  # the reviewer's roles whose check of the document stands
    attest_roles: list[str]  # the reviewer's roles still to check it


def _recorded(session: Session, staff: Principal, request: DisclosureRequest, now: dt.datetime) -> None:
    record_access(session, staff, RECORD_TYPE, [request.id], "disclosure_review", now)


def for_review(session: Session, ring: KeyRing, request: DisclosureRequest, staff: Principal,
               limits: document.DocumentLimits, now: dt.datetime) -> DocumentView:
    """The document for the review page; the view is recorded (staff see what their work needs)."""
    _recorded(session, staff, request, now)
    try:
        text = document.page_text(sealed.document(ring, request), limits)
    except document.DocumentRejected:  # pragma: no cover - it passed the same check at intake
        text = []
    subjects = [s for s in repo.subjects(session, request.id) if s.status != "dropped"]
    standing = {role: attest.standing(session, request, staff.id, role) is not None
                for role in attest.REVIEW_ROLES if role in staff.roles}
    signer = (ring.open(request.signature_signer_enc, "disclosure_request.signature_signer")
              if request.signature_signer_enc else None)
    return DocumentView(
        typed=sealed.typed(ring, request), page_text=text, pages=request.document_pages or 0,
        signature_status=request.document_signature or "none",
        signer=(signer or "").removeprefix("Common Name: ") or None, signed_at=request.signature_signed_at,
        subject_names=[ring.open(s.name_enc, "disclosure_subject.name") for s in subjects],
        date_ranges=[(s.date_from, s.date_to) for s in subjects if s.date_from or s.date_to],
        fields=attest.fields_for(request, subjects),
        attested_roles=[role for role, ok in standing.items() if ok],
        attest_roles=[role for role, ok in standing.items() if not ok],
    )


def page_for_review(session: Session, ring: KeyRing, request: DisclosureRequest, staff: Principal, page: int,
                    limits: document.DocumentLimits, now: dt.datetime) -> bytes | None:
    """Page ``page`` (1-based) as PNG, or None if the document has no such page; recorded."""
    if not 1 <= page <= (request.document_pages or 0):
        return None
    _recorded(session, staff, request, now)
    return document.page_png(sealed.document(ring, request), page - 1, limits)
