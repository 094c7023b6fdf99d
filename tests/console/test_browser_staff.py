"""The staff console and the records page in a real browser (Debian's Chromium, Playwright, axe-core).

One story on a served app with a clock the test moves: a clerk checks someone in; a privacy
officer and then counsel (two people) approve a judicial warrant that came with a
non-disclosure order; the person looks at "Who has seen my records" and sees nothing while
the order runs, then, once it has expired, the entry with its check against the signed log;
an auditor verifies the log and sees when it was last verified; a supervisor records that a
staff member no longer works there.
axe-core finds 0 violations on every page of the story (console pages and the records pages,
English and Spanish). Screenshots go to test-artifacts/screenshots/ (ignored by git).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from safeslot.disclosure import intake, samplepdf
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from tests.browsing import follow
from tests.conftest import NOW
from tests.console.test_browser import Walk
from tests.identity.helpers import make_staff
from tests.live import demo_site

pytestmark = pytest.mark.browser

POLICIES = Path(__file__).resolve().parents[2] / "policies"
PASSWORD = "correct horse battery staple"
NAME = "Test Person M"
ORDER_ENDS = NOW + dt.timedelta(days=30)


class Story:
    """The served app and what the test set up in it."""

    def __init__(self) -> None:
        self.now = NOW
        self.url = ""
        self.code = ""
        self.request_id = 0
        self.totp: dict[str, str] = {}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    told = Story()
    with demo_site(tmp_path_factory, "browser-staff") as site:
        ring = site.ring
        with site.session() as session:
            for role in ("clerk", "privacy_officer", "counsel", "auditor", "supervisor", "admin"):
                # privileged roles: proposed and approved by two founder administrators
                _, secret = make_staff(session, ring, [role], "central" if role in ("clerk", "supervisor") else None,
                                       username=role.replace("_", "-"))
                told.totp[role] = secret
            day = NOW.date()  # this afternoon: a clerk checks people in on the day of their visit
            _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
            appointment = scheduling.book(session, ring, BookingIn.model_validate({
                "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(),
                "name": NAME}), NOW)
            told.code = scheduling.format_code(appointment.code)
            meta = RequestMetadata.model_validate({
                "instrument_type": "judicial_warrant", "issuer": "U.S. District Court, District of Example",
                "court": "U.S. District Court, District of Example", "docket": "1:27-mj-00042",
                "signer_name": "Hon. Judge Example", "signer_type": "judge", "statutes": ["18 U.S.C. 3117"],
                "purpose": "criminal", "subjects": [{"name": NAME, "office": "central"}],
                "categories": ["appointment_schedule"],
                "non_disclosure_order": {"authority": "18 U.S.C. 2705(b)", "expires_at": ORDER_ENDS.isoformat()},
            })
            found = intake.submit(session, ring, PolicyEngine.load(POLICIES, "federal"),
                                  Actor("official", 501, agency="dhs-ice"), meta,
                                  samplepdf.write([["Court order (test only)"]]), NOW)
            told.request_id = found.id
        with site.serve(site.settings(), lambda: told.now):
            told.url = site.url
            yield told


def _sign_in(walk: Walk, story: Story, role: str) -> None:
    page = walk.page
    page.goto("/console/appointments")  # no session yet: sent to the sign-in page
    assert page.url.endswith("/console/sign-in")
    page.fill("#username", role.replace("_", "-"))
    page.fill("#password", PASSWORD)
    page.fill("#totp", pyotp.TOTP(story.totp[role]).at(story.now))
    walk.check("sign-in")
    follow(page, "button[type=submit]:has-text('Sign in')")


def test_a_clerk_checks_someone_in(browser: Any, story: Story) -> None:
    walk = Walk(browser, story.url, "staff-clerk")
    try:
        _sign_in(walk, story, "clerk")
        page = walk.page
        assert page.url.endswith("/console/appointments")
        row = page.locator(f"#appt-{story.code}")
        assert NAME in row.inner_text()
        walk.check("day")
        follow(page, row.locator("button", has_text="Check in"))
        assert "The appointment was updated." in page.inner_text("#done")
        assert page.locator(f"#appt-{story.code} .status").inner_text() == "Checked in"
        walk.check("checked-in")
        # A look-up by name, with a reason from the list; the person will see it on /records
        page.fill("#name", NAME)
        page.select_option("#reason", "phone_call")
        follow(page, "#lookup button[type=submit]")
        assert NAME in page.inner_text("#lookup-results")
        walk.check("lookup")
    finally:
        walk.close()


def test_two_people_approve_and_the_person_sees_it_once_the_order_ends(browser: Any, story: Story) -> None:
    for role, expected in (("privacy_officer", "Your approval is recorded."),
                           ("counsel", "approved and released")):
        walk = Walk(browser, story.url, f"staff-{role}")
        try:
            _sign_in(walk, story, role)
            page = walk.page
            assert page.url.endswith("/console/disclosures")
            follow(page, f"a[href='/console/disclosures/{story.request_id}']")
            assert "Policies that decided" in page.content()
            if role == "privacy_officer":  # nobody has accepted it yet: no matches, a button
                assert page.locator("#accept").is_visible() and page.locator("#match-table").count() == 0
            else:  # the privacy officer's approval accepted it: counsel sees the matches
                assert page.locator("#match-table").is_visible()
            walk.check("request")
            # Check every field against the document, then approve.
            for radio in page.locator("input[type=radio][value=match]").all():
                page.click(f"label[for={radio.get_attribute('id')}]")  # USWDS draws the radio on the label
            follow(page, "#attest")
            assert "Your check of the document is recorded." in page.inner_text("#done")
            follow(page, "#approve")
            assert expected in page.inner_text("#done")
            walk.check("approved")
        finally:
            walk.close()

    person = Walk(browser, story.url, "records")
    try:
        page = person.page

        def look_up() -> None:
            page.goto("/records")
            person.check("form")
            page.fill("#code", story.code)
            page.fill("#name", NAME)
            follow(page, "button[type=submit]")

        look_up()
        assert page.locator("#no-entries").is_visible(), "hidden while the non-disclosure order runs"
        person.check("order-running")
        story.now = ORDER_ENDS  # the order expires
        look_up()
        assert "Checked: this entry is in the public log." in page.content()
        assert "A clerk at Central Benefits Office looked up your appointment by name" in page.inner_text("#looks")
        person.check("entry-checked")
        follow(page, "a:has-text('(JSON)') >> nth=0")
        assert '"proof"' in page.content()
        person.shot("proof-json")
        page.goto("/records?lang=es")
        assert page.locator("html").get_attribute("lang") == "es"
        assert "Quién ha visto mis datos" in page.content()
        person.check("form-es")
    finally:
        story.now = NOW
        person.close()


def test_an_auditor_verifies_the_log_and_sees_when(browser: Any, story: Story) -> None:
    walk = Walk(browser, story.url, "staff-auditor")
    try:
        _sign_in(walk, story, "auditor")
        page = walk.page
        assert page.url.endswith("/console/audit")
        page.goto("/log/checkpoint")  # what anyone can read: signs the entries the story appended
        size = int(page.inner_text("body").splitlines()[1])
        page.goto("/console/audit")
        walk.check("audit")
        page.click("#verify-log button")
        assert "The log is verified" in page.inner_text("#done")
        last = page.inner_text("#last-verification")
        assert "March 1, 2027" in last and f"verified at checkpoint size {size}" in last
        assert page.locator("#verifications tbody tr").count() >= 1
        walk.check("verified")
        page.goto("/console/audit?lang=es")
        assert page.locator("html").get_attribute("lang") == "es"
        assert "Verificar el registro ahora" in page.content() and "1 de marzo de 2027" in page.content()
        walk.check("audit-es")
        # the network's visits by office (counts only): every office for the organisation's auditor
        page.goto("/console/reports?month=2027-03")
        assert "Central" in page.inner_text("#by-office") and NAME not in page.content()
        walk.check("reports")
        page.goto("/console/reports?month=2027-03&lang=es")
        assert "Visitas por oficina" in page.content()
        walk.check("reports-es")
    finally:
        walk.close()


def test_an_admin_sees_the_network_and_proposes_an_office(browser: Any, story: Story) -> None:
    walk = Walk(browser, story.url, "staff-admin")
    try:
        _sign_in(walk, story, "admin")
        page = walk.page
        page.goto("/console/offices")
        walk.check("offices")
        page.fill("#slug", "Not A Slug")
        page.click("#propose-opening button")
        assert "lowercase letters, digits and inner dashes" in page.inner_text("#error-summary")
        walk.check("offices-refused")
        page.goto("/console/offices/central/closing")
        assert page.locator("#visits tbody tr").count() >= 1 and NAME not in page.content()
        walk.check("office-closing")
        page.goto("/console/offices?lang=es")
        assert "Proponer una oficina nueva" in page.content()
        walk.check("offices-es")
    finally:
        walk.close()


def test_a_supervisor_changes_a_staff_member(browser: Any, story: Story) -> None:
    walk = Walk(browser, story.url, "staff-supervisor")
    try:
        _sign_in(walk, story, "supervisor")
        page = walk.page
        assert page.url.endswith("/console/office")
        walk.check("office")
        page.click("a[aria-label='Change Desk E']")
        assert "Change a staff member: Desk E" in page.inner_text("h1")
        walk.check("member")
        page.click("label[for=member_active]")  # USWDS draws the box on the label
        assert not page.is_checked("#member_active")
        page.click("button:has-text('Save the change')")
        assert "The office is updated." in page.inner_text("#done")
        assert "Desk E (no longer works here)" in page.inner_text("#members")
        walk.check("member-left")
        page.goto("/console/office?lang=es")
        assert "Desk E (ya no trabaja aquí)" in page.inner_text("#members")
        walk.check("office-es")
    finally:
        walk.close()
