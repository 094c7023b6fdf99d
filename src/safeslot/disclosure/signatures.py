"""Digital signatures on the instrument's PDF, checked with pyHanko.

For each embedded signature pyHanko checks integrity (the signed bytes are unchanged and
nothing after them changes the signed content), the cryptography, and the signer's
certificate chain against the office's folder of trusted court CA certificates
(`documents.trusted_ca_dir`: PEM or DER files). The result, one value for the document,
goes to the reviewers, into the request's record and to the policy as
`context.document_signature`:

    none       no digital signature (a paper scan)
    valid      every signature intact and chaining to a trusted court CA
    untrusted  every signature intact, but some signer's certificate is not trusted here
    invalid    some signature broken, or the file changed after signing — the policy denies

Revocation is not fetched (the machine has no network to the CAs): `soft-fail`, and the
decision record says so. Signing time is the signer's own claim (`signer_reported_dt`),
shown as such.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from safeslot.disclosure.policy import DocumentSignature


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    status: DocumentSignature
    signer: str | None = None  # the certificate's subject, as pyHanko words it
    signed_at: dt.datetime | None = None  # the signer's claimed signing time
    count: int = 0


def load_trust_roots(folder: Path | None) -> list[object]:
    """The trusted court CA certificates in `folder` (*.pem, *.crt, *.cer, *.der); none if unset."""
    if folder is None or not folder.is_dir():
        return []
    from pyhanko.keys import load_certs_from_pemder

    roots: list[object] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in (".pem", ".crt", ".cer", ".der") and path.is_file():
            roots.extend(load_certs_from_pemder([str(path)]))  # type: ignore[no-untyped-call]
    return roots


def check(data: bytes, trust_roots: list[object]) -> SignatureCheck:
    """Validate every signature in the PDF; never raises for a bad file (that is `invalid`)."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import validation
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError):
        # pdfium rendered it (intake checks that first) but its structure does not hold a
        # signature pyHanko can read: whatever signature it claims cannot be trusted.
        return SignatureCheck(DocumentSignature.INVALID) if b"/ByteRange" in data else SignatureCheck(
            DocumentSignature.NONE)
    if not signatures:
        return SignatureCheck(DocumentSignature.NONE)
    status = DocumentSignature.VALID
    signer: str | None = None
    signed_at: dt.datetime | None = None
    # pyHanko logs a full traceback when a chain cannot be built (the `untrusted` case).
    quiet = logging.getLogger("pyhanko")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        for embedded in signatures:
            context = ValidationContext(trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail")
            try:
                found = validation.validate_pdf_signature(embedded, context)
            except Exception:  # a signature pyHanko cannot even evaluate is not a valid one
                return SignatureCheck(DocumentSignature.INVALID, count=len(signatures))
            if not (found.intact and found.valid) or found.docmdp_ok is False:
                return SignatureCheck(DocumentSignature.INVALID, count=len(signatures))
            if not found.trusted:
                status = DocumentSignature.UNTRUSTED
            signer = signer or found.signing_cert.subject.human_friendly
            signed_at = signed_at or found.signer_reported_dt
    finally:
        quiet.setLevel(level)
    return SignatureCheck(status, signer, signed_at, len(signatures))
