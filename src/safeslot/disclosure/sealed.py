"""Free text of a disclosure request, sealed at rest.

The instrument document (which names people), what the requester typed in free text
(issuer, court, docket, signer, statutes, the non-disclosure order's authority, the
emergency justification) and reviewers' questions, answers and reasons are sealed with
AES-GCM under the office's key ring (kit/crypto.py), each bound to its column. They
are sealed under the data key of the month in which the disclosure record's retention
ends (5 years after receipt, 5 U.S.C. 552a(c)(2)): when retention destroys that month's
key, these values are gone with it, from backups too.

The plain columns keep only the marker `SEALED` where a value exists, so code that asks
"is there an order / a court?" still can; the values come from `typed()`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from safeslot.disclosure.models import DisclosureRequest
from safeslot.kit.crypto import KeyRing

SEALED = "(sealed)"
RETENTION_YEARS = 5  # 5 U.S.C. 552a(c)(2): the accounting, and the record behind it
_TEXT_PREFIX = "s1:"
TYPED_FIELDS = ("issuer", "court", "docket", "signer_name", "statutes", "nda_authority", "emergency_justification")


def retention_month(received_at: dt.datetime) -> str:
    year = received_at.year + RETENTION_YEARS
    return f"{year:04d}-{received_at.month:02d}"


def seal_bytes(ring: KeyRing, data: bytes, context: str, month: str) -> bytes:
    # KeyRing seals text; base64 keeps the bytes exact (a third larger, sealed once per request).
    return ring.seal(base64.b64encode(data).decode(), context, month=month)


def open_bytes(ring: KeyRing, sealed: bytes, context: str) -> bytes:
    return base64.b64decode(ring.open(sealed, context))


def seal_text(ring: KeyRing, text: str | None, context: str, month: str) -> str | None:
    """A free-text value for a Text column: sealed, as ASCII."""
    if text is None:
        return None
    return _TEXT_PREFIX + base64.b64encode(ring.seal(text, context, month=month)).decode()


def open_text(ring: KeyRing | None, stored: str | None, context: str) -> str | None:
    """The value of `seal_text`; plain text written before sealing is returned as it is."""
    if stored is None or not stored.startswith(_TEXT_PREFIX):
        return stored
    if ring is None:
        return SEALED
    return ring.open(base64.b64decode(stored[len(_TEXT_PREFIX):]), context)


def seal_request(ring: KeyRing, request: DisclosureRequest, document: bytes, typed: dict[str, Any]) -> None:
    """Seal the document and the typed free text into the request; plain columns keep markers."""
    month = retention_month(request.received_at)
    request.document = seal_bytes(ring, document, "disclosure_request.document", month)
    request.typed_enc = ring.seal(json.dumps(typed, sort_keys=True), "disclosure_request.typed", month=month)
    request.issuer = SEALED
    request.signer_name = SEALED
    request.statutes = []
    for name in ("court", "docket", "nda_authority", "emergency_justification"):
        setattr(request, name, SEALED if typed.get(name) is not None else None)


def document(ring: KeyRing, request: DisclosureRequest) -> bytes:
    """The instrument's bytes (requests registered before sealing hold them plain)."""
    if request.typed_enc is None:
        return request.document
    return open_bytes(ring, request.document, "disclosure_request.document")


def typed(ring: KeyRing, request: DisclosureRequest) -> dict[str, Any]:
    """What the requester typed in free text, opened (staff reviewers only: record the read)."""
    if request.typed_enc is None:
        return {name: getattr(request, name) for name in TYPED_FIELDS}
    found: dict[str, Any] = json.loads(ring.open(request.typed_enc, "disclosure_request.typed"))
    return found


def month_of(request: DisclosureRequest) -> str:
    return retention_month(request.received_at)
