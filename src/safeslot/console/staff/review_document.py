"""The document on the review page: the instrument's pages rendered on the server,
the text PDFium extracts beside what the requester typed, and the field-by-field check
each reviewer makes before approving, in words. Opening the document and recording each view
(the page and each page image: the document names people) is disclosure's
(``disclosure/document_view.py``); this module only labels what it returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from safeslot.console.i18n import N_
from safeslot.disclosure import attest, document, document_view
from safeslot.disclosure.interfaces import DisclosureRequest, DocumentView
from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing

FIELD_LABELS = {
    "instrument_type": N_("Type of instrument"),
    "issuer": N_("Issued by"),
    "signer": N_("Signer's name"),
    "signer_type": N_("Signer is"),
    "purpose": N_("Purpose"),
    "court": N_("Court"),
    "docket": N_("Docket number"),
    "date_range": N_("Dates asked for"),
    "categories": N_("Data asked for"),
    "nda_authority": N_("Non-disclosure order: authority"),
    "nda_end": N_("Non-disclosure order: end"),
    "emergency_justification": N_("Emergency: why"),
    "consent_form": N_("Consent form: what it names"),
}
SIGNATURE_TEXT = {
    "valid": N_("Valid: unchanged since signing, and signed with a certificate from a trusted court."),
    "untrusted": N_("Unchanged since signing, but the signer's certificate is not from a court this office "
                    "trusts. Check the signer against the document."),
    "invalid": N_("Invalid: the file was changed after it was signed, or the signature is broken. "
                  "The policy denies this request."),
    "none": N_("No digital signature (a scanned paper). Check the signature on the page itself."),
}
CORRECTION_KINDS = {"instrument_type": "instrument", "signer_type": "signer", "purpose": "purpose"}


def field_rows(request: DisclosureRequest, view: DocumentView) -> list[dict[str, Any]]:
    """One row per field to check: its label, what was typed, and whether the value is a code the
    template translates (`kind`, for label()) or text shown as typed."""
    text = view.typed
    typed: dict[str, tuple[str | None, Any]] = {
        "instrument_type": ("instrument", request.instrument_type),
        "issuer": (None, text.get("issuer")),
        "signer": (None, text.get("signer_name")),
        "signer_type": ("signer", request.signer_type),
        "purpose": ("purpose", request.purpose),
        "court": (None, text.get("court") or "—"),
        "docket": (None, text.get("docket") or "—"),
        "date_range": (None, "; ".join(
            f"{start or '…'} – {end or '…'}" for start, end in view.date_ranges)),  # noqa: RUF001
        "categories": ("category", list(request.categories)),
        "nda_authority": (None, text.get("nda_authority") or "—"),
        "nda_end": (None, request.nda_expires_at.date().isoformat() if request.nda_expires_at else "—"),
        "emergency_justification": (None, text.get("emergency_justification") or "—"),
        "consent_form": ("consent", [k for k, v in (
            ("requester_is_subject", request.consent_requester_is_subject),
            ("names_recipient", request.consent_names_recipient),
            ("names_purpose", request.consent_names_purpose)) if v]),
    }
    rows = []
    for name in view.fields:
        if name.startswith("subject-"):
            number = int(name.removeprefix("subject-"))
            rows.append({"name": name, "label": N_("Person named %(n)s"), "n": number, "kind": None,
                         "value": view.subject_names[number - 1], "corrections": None})
            continue
        kind, value = typed[name]
        rows.append({"name": name, "label": FIELD_LABELS[name], "n": None, "kind": kind, "value": value,
                     "corrections": CORRECTION_KINDS.get(name) and sorted(attest.CORRECTABLE[name])})
    return rows


def context(session: Session, ring: KeyRing, request: DisclosureRequest, staff: Principal,
            limits: document.DocumentLimits, now: dt.datetime) -> dict[str, Any]:
    """What the review page shows about the document; the view is recorded (staff see what their work needs)."""
    view = document_view.for_review(session, ring, request, staff, limits, now)
    return {
        "typed": view.typed,
        "pages": list(range(1, view.pages + 1)),
        "page_text": view.page_text,
        "signature": {
            "status": view.signature_status,
            "text": SIGNATURE_TEXT.get(view.signature_status, SIGNATURE_TEXT["none"]),
            "signer": view.signer,
            "signed_at": view.signed_at,
        },
        "fields": field_rows(request, view),
        "attested_roles": view.attested_roles,
        "attest_roles": view.attest_roles,
    }


def page_image(session: Session, ring: KeyRing, request: DisclosureRequest, staff: Principal, page: int,
               limits: document.DocumentLimits, now: dt.datetime) -> bytes | None:
    """Page `page` (1-based) as PNG, or None if the document has no such page; recorded."""
    return document_view.page_for_review(session, ring, request, staff, page, limits, now)


def answers_from_form(form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The attestation form's `f:<field>` answers and `c:<field>` corrections."""
    answers = {k[2:]: v for k, v in form.items() if k.startswith("f:")}
    corrections = {k[2:]: v for k, v in form.items() if k.startswith("c:") and v}
    return answers, corrections
