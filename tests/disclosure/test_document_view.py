"""The instrument as a reviewer reads it (disclosure/document_view.py): the read is written to the access
log before anything is opened, with the purpose disclosure_review; the reviewer sees the pages' text, the
people it names and what they still have to check; a page that does not exist opens nothing and records
nothing. SQLite only: the SQL is the same on both databases (the review stories keep PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.disclosure import document_view
from safeslot.disclosure.document import DocumentLimits
from safeslot.disclosure.models import DisclosureRequest
from safeslot.identity.service import Principal
from safeslot.kit.crypto import KeyRing
from safeslot.privacy.models import AccessRecord
from tests.conftest import NOW, ON_SQLITE
from tests.disclosure.conftest import PRIVACY

REVIEWER = Principal("staff", PRIVACY.id, "actor-9011", PRIVACY.roles, None, 1, "session", "")


def _reads(session: Session) -> list[tuple[str, str, str]]:
    return [(r.record_type, r.record_id, r.purpose) for r in session.scalars(select(AccessRecord)
                                                                            .order_by(AccessRecord.id))]


@ON_SQLITE
def test_the_reviewer_reads_the_document_after_the_read_is_recorded(
    session: Session, keyring: KeyRing, office: str, file_request: Callable[..., DisclosureRequest]
) -> None:
    request = file_request()
    before = _reads(session)
    view = document_view.for_review(session, keyring, request, REVIEWER, DocumentLimits(), NOW)
    assert _reads(session)[len(before):] == [("disclosure_document", str(request.id), "disclosure_review")]
    assert view.pages == 1 and any("WARRANT" in text for text in view.page_text)
    assert view.subject_names == ["Test Person M"]
    assert view.signature_status == "none" and view.signer is None
    assert view.attest_roles == ["privacy_officer"] and view.attested_roles == []
    assert "issuer" in view.fields


@ON_SQLITE
def test_a_page_is_an_image_and_a_page_that_does_not_exist_opens_nothing(
    session: Session, keyring: KeyRing, office: str, file_request: Callable[..., DisclosureRequest]
) -> None:
    request = file_request()
    before = len(_reads(session))
    assert document_view.page_for_review(session, keyring, request, REVIEWER, 2, DocumentLimits(), NOW) is None
    assert document_view.page_for_review(session, keyring, request, REVIEWER, 0, DocumentLimits(), NOW) is None
    assert len(_reads(session)) == before
    png = document_view.page_for_review(session, keyring, request, REVIEWER, 1, DocumentLimits(), NOW)
    assert png is not None and png.startswith(b"\x89PNG")
    assert len(_reads(session)) == before + 1
