"""A request's free text sealed at rest (disclosure/sealed.py): the instrument and what the requester typed
are kept sealed under the key of the month their five years end, open only with the key ring, and the plain
columns keep markers only."""

from __future__ import annotations

import datetime as dt

from safeslot.disclosure import sealed
from safeslot.disclosure.models import DisclosureRequest
from safeslot.kit.crypto import KeyRing

RECEIVED = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)


def test_free_text_is_sealed_under_the_month_its_keeping_ends() -> None:
    ring = KeyRing.generate()
    assert sealed.retention_month(RECEIVED) == "2032-03"
    stored = sealed.seal_text(ring, "Test docket 1:27-mj-00042", "disclosure_request.docket", "2032-03")
    assert stored is not None and "00042" not in stored and stored.isascii()
    assert sealed.open_text(ring, stored, "disclosure_request.docket") == "Test docket 1:27-mj-00042"
    assert sealed.open_text(None, stored, "disclosure_request.docket") == sealed.SEALED  # no ring: a marker
    assert sealed.open_text(ring, "typed before sealing", "x") == "typed before sealing"
    assert sealed.seal_text(ring, None, "x", "2032-03") is None
    assert sealed.open_bytes(ring, sealed.seal_bytes(ring, b"%PDF\x00\xff", "d", "2032-03"), "d") == b"%PDF\x00\xff"


def test_a_sealed_request_keeps_only_markers_in_its_plain_columns() -> None:
    ring = KeyRing.generate()
    request = DisclosureRequest(received_at=RECEIVED, issuer="Test Court 1", signer_name="Test Person 1",
                                statutes=["18 U.S.C. 3117"], court="Test Court 1", docket="1:27-mj-00042")
    typed = {"issuer": "Test Court 1", "signer_name": "Test Person 1", "statutes": ["18 U.S.C. 3117"],
             "court": "Test Court 1", "docket": "1:27-mj-00042", "nda_authority": None}
    sealed.seal_request(ring, request, b"%PDF test", typed)
    assert (request.issuer, request.signer_name, request.statutes) == (sealed.SEALED, sealed.SEALED, [])
    assert (request.court, request.docket, request.nda_authority) == (sealed.SEALED, sealed.SEALED, None)
    assert b"%PDF test" not in request.document
    assert sealed.document(ring, request) == b"%PDF test"
    assert sealed.typed(ring, request) == typed
    assert sealed.month_of(request) == "2032-03"


def test_a_request_registered_before_sealing_reads_as_it_was_stored() -> None:
    old = DisclosureRequest(received_at=RECEIVED, document=b"%PDF old", issuer="Test Court 1",
                            signer_name="Test Person 1", statutes=[], court=None, docket="1",
                            nda_authority=None, emergency_justification=None)
    ring = KeyRing.generate()
    assert sealed.document(ring, old) == b"%PDF old"
    assert sealed.typed(ring, old)["issuer"] == "Test Court 1"
