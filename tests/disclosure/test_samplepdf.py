"""The made-up PDFs the demo and the tests file (disclosure/samplepdf.py): one page per item, each line as
text a reader extracts, and characters PDF would read as syntax escaped."""

from __future__ import annotations

import pytest

from safeslot.disclosure import samplepdf
from safeslot.disclosure.document import DocumentLimits, inspect


def test_each_page_holds_its_lines_as_text_the_server_reads_back() -> None:
    pdf = samplepdf.write([["ORDER (test only)", "Named: Test Person 1"], ["Signed: Hon. Test Judge (seal)"]])
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    facts = inspect(pdf, DocumentLimits())
    assert facts.pages == 2
    assert "Named: Test Person 1" in facts.text[0] and "Hon. Test Judge (seal)" in facts.text[1]


def test_a_pdf_needs_a_page() -> None:
    with pytest.raises(ValueError, match="at least one page"):
        samplepdf.write([])
