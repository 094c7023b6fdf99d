"""The review page, where reviewers judge the document, in a real browser (Debian's Chromium, Playwright, axe-core): the
instrument's pages rendered by the server beside what was typed, the signature check, and the
field-by-field attestation, in English and Spanish, with 0 axe violations. The screenshots
in docs/images/ (docs/disclosure-gate.md) are written by this test when asked: `make screenshots`
(SAFESLOT_TEST_SCREENSHOTS=1); a plain run leaves the tracked files alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from safeslot.disclosure import intake, samplepdf, signatures
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.identity import service as identity
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from tests.browsing import SCREENSHOTS, follow
from tests.conftest import NOW
from tests.console.test_browser import Walk
from tests.disclosure.signing import CourtCA
from tests.live import demo_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
DOCS_IMAGES = ROOT / "docs" / "images"
PASSWORD = "correct horse battery staple"
NAME = "Test Person A"
ORDER = samplepdf.write([[
    "UNITED STATES DISTRICT COURT", "DISTRICT OF EXAMPLE (test document, not a real order)", "",
    "ORDER under 5 U.S.C. 552a(b)(11)", "Case 1:27-mc-00007", "",
    f"The office shall disclose the name and contact details of {NAME},",
    "who has appointments at the office 'central'.", "",
    "So ordered.", "Hon. Test Judge, United States District Judge",
]])


class Served:
    def __init__(self) -> None:
        self.url = ""
        self.request_id = 0
        self.totp: dict[str, str] = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    court = CourtCA.make()
    told = Served()
    with demo_site(tmp_path_factory, "review-page") as site:
        ring = site.ring
        folder = court.write_ca(site.tmp / "court-ca")
        with site.session() as session:
            _, told.totp["privacy_officer"] = identity.create_account(
                session, ring, username="privacy-officer", display_name="Desk Example", password=PASSWORD,
                roles=["privacy_officer"], office_id=None, now=NOW)
            identity.create_agency(session, "dhs-ice", "1 Example Plaza, Washington, DC", NOW)
            day = NOW.date()
            _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
            scheduling.book(session, ring, BookingIn.model_validate({
                "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(), "name": NAME,
                "contact": {"kind": "phone", "value": "555-0142"}, "reminders_opt_in": True}), NOW)
            meta = RequestMetadata.model_validate({
                "instrument_type": "court_order", "issuer": "U.S. District Court, District of Example",
                "court": "U.S. District Court, District of Example", "docket": "1:27-mc-00007",
                "signer_name": "Hon. Test Judge", "signer_type": "judge", "purpose": "criminal",
                "subjects": [{"name": NAME, "office": "central"}], "categories": ["identity", "contact"],
            })
            checks = intake.DocumentChecks(trust_roots=tuple(signatures.load_trust_roots(folder)))
            found = intake.submit(session, ring, PolicyEngine.load(POLICIES, "federal"),
                                  Actor("official", 501, agency="dhs-ice"), meta, court.sign(ORDER), NOW, checks)
            told.request_id = found.id
        with site.serve(site.settings(documents={"trusted_ca_dir": folder}), lambda: NOW):
            told.url = site.url
            yield told


def test_the_review_page_shows_the_document_beside_what_was_typed_in_english_and_spanish(
    served: Served, browser: Any,
) -> None:
    walk = Walk(browser, served.url, "review-page")
    try:
        page = walk.page
        page.goto("/console/appointments")
        page.fill("#username", "privacy-officer")
        page.fill("#password", PASSWORD)
        page.fill("#totp", pyotp.TOTP(served.totp["privacy_officer"]).at(NOW))
        page.click("button[type=submit]:has-text('Sign in')")
        page.goto(f"/console/disclosures/{served.request_id}")
        image = page.locator(".document-page img").first
        image.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('.document-page img').naturalWidth > 0")
        assert "Valid: unchanged since signing" in page.inner_text(".signature")
        assert NAME in page.inner_text(".document-fields")
        walk.check("en")
        if SCREENSHOTS:
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_IMAGES / "disclosure-review-en.png"), full_page=True)

        page.click("a.lang-switch[hreflang=es]")
        page.wait_for_url(re.compile(r"/console/disclosures/"))
        page.wait_for_function("document.querySelector('.document-page img').naturalWidth > 0")
        assert "Firma digital" in page.inner_text(".signature")
        assert page.locator("html").get_attribute("lang") == "es"
        walk.check("es")
        if SCREENSHOTS:
            page.screenshot(path=str(DOCS_IMAGES / "disclosure-review-es.png"), full_page=True)

        # The check itself: every field matches, then the approval is offered.
        for answer in page.locator("label[for^='m-']").all():
            answer.click()
        follow(page, "#attest")
        assert page.locator("#approve").count() == 1
        walk.check("attested-es")
    finally:
        walk.close()
