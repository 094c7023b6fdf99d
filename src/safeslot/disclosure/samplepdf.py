"""A tiny PDF writer for demo and test instruments: pages of plain text, nothing else.

The gate renders every instrument on the server (disclosure/document.py), so the demo
and the tests need real, renderable PDFs; a PDF library for one page of text would be
more code to trust than these few lines. What it writes is made-up text only (no
personal data: "Test Person A"), and it is never used for a real document.

The file follows ISO 32000-1 section 7.5: header, numbered objects, a cross-reference
table with each object's byte offset, and a trailer, so any reader (pdfium, pyHanko)
opens it and pyHanko can sign it with an incremental update.
"""

from __future__ import annotations

from collections.abc import Sequence


def _escape(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write(pages: Sequence[Sequence[str]]) -> bytes:
    """A PDF with one US Letter page per item of `pages`, each line of text in Helvetica."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree (filled below)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")  # 3: the font
    kids: list[int] = []
    for lines in pages:
        text = ["BT", "/F1 14 Tf", "72 720 Td", "18 TL"]
        text += [f"({_escape(line)}) '" for line in lines]
        text.append("ET")
        stream = "\n".join(text).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
