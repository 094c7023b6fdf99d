"""Passkeys in a real browser (Debian's Chromium, Playwright) with a virtual authenticator (the DevTools
`WebAuthn.addVirtualAuthenticator` command), on a served app that requires passkeys for approvals:
a privacy officer adds a passkey, signs out, signs in with it alone, and only that session may
approve a disclosure; the console pages for privileged changes are axe-clean in English and Spanish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from safeslot.disclosure import intake, samplepdf
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.identity import proposals
from safeslot.scheduling import service as scheduling
from safeslot.scheduling.schemas import BookingIn
from tests.conftest import NOW
from tests.console.test_browser import Walk
from tests.identity.helpers import PASSWORD, ctx, make_staff
from tests.live import demo_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]
POLICIES = Path(__file__).resolve().parents[2] / "policies"


class Served:
    def __init__(self) -> None:
        self.url = ""
        self.totp = ""
        self.request_id = 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    told = Served()
    with demo_site(tmp_path_factory, "browser-passkey") as site:
        ring = site.ring
        with site.session() as session:
            officer, told.totp = make_staff(session, ring, ["privacy_officer"], username="po")
            admin, _ = make_staff(session, ring, ["admin"], username="admin-a")
            proposals.propose_role(session, ctx(ring), admin.id, "po", "counsel", NOW)  # waiting in the console
            day = NOW.date() + dt_days(1)
            _, _, slots = scheduling.search_slots(session, "central", "apply", day, day, None, NOW)
            scheduling.book(session, ring, BookingIn.model_validate({
                "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(),
                "name": "Test Person M"}), NOW)
            meta = RequestMetadata.model_validate({
                "instrument_type": "judicial_warrant", "issuer": "U.S. District Court, District of Example",
                "court": "U.S. District Court, District of Example", "docket": "1:27-mj-00042",
                "signer_name": "Hon. Judge Example", "signer_type": "judge", "statutes": ["18 U.S.C. 3117"],
                "purpose": "criminal", "subjects": [{"name": "Test Person M", "office": "central"}],
                "categories": ["appointment_schedule"]})
            told.request_id = intake.submit(session, ring, PolicyEngine.load(POLICIES, "federal"),
                                            Actor("official", 501, agency="dhs-ice"), meta,
                                            samplepdf.write([["Court order (test only)"]]), NOW).id
            del officer
        settings = site.settings(identity={"require_passkey": True})
        with site.serve(settings, lambda: NOW) as app:
            # the relying party is the served origin (WebAuthn checks it)
            app.state.settings = settings.model_copy(update={"server": settings.server.model_copy(
                update={"public_url": site.url})})
            told.url = site.url
            yield told


def dt_days(n: int) -> Any:
    import datetime as dt

    return dt.timedelta(days=n)


def _approve(walk: Walk, served: Served) -> tuple[int, str]:
    """Approve the request as privacy officer from the page's session (fetch with its CSRF token)."""
    result: dict[str, Any] = walk.page.evaluate(
        """async ([id]) => {
            const me = await (await fetch('/api/v1/auth/me')).json();
            const post = (url, body) => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf_token}, body: JSON.stringify(body)});
            await post(`/api/v1/disclosure-requests/${id}/acceptance`, {});  // accepted for review
            const req = await (await fetch(`/api/v1/disclosure-requests/${id}`)).json();
            const fields = Object.fromEntries(req.attestation_fields.map(f => [f, 'match']));
            await post(`/api/v1/disclosure-requests/${id}/attestations`,
                       {role: 'privacy_officer', document_sha256: req.document_sha256, fields: fields});
            const r = await fetch(`/api/v1/disclosure-requests/${id}/approvals`, {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token},
                body: JSON.stringify({role: 'privacy_officer'})});
            return {status: r.status, body: await r.text()};
        }""", [served.request_id])
    return int(result["status"]), str(result["body"])


def test_a_passkey_is_added_used_to_sign_in_and_required_to_approve(browser: object, served: Served) -> None:
    walk = Walk(browser, served.url, "passkey")
    try:
        walk.reusable = False  # the virtual authenticator stays with the context: nobody else gets it
        cdp = walk.context.new_cdp_session(walk.page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})
        page = walk.page
        page.goto("/console/sign-in")
        page.fill("#username", "po")
        page.fill("#password", PASSWORD)
        page.fill("#totp", pyotp.TOTP(served.totp).at(NOW))
        page.click("form.usa-form button[type=submit]")
        page.wait_for_url(re.compile(r"/console/disclosures"))
        # password and TOTP are not enough to approve when passkeys are required
        status, body = _approve(walk, served)
        assert status == 403 and "passkey-required" in body

        page.goto("/console/passkeys")
        walk.check("passkeys")
        page.click("#add-passkey")
        page.wait_for_function("document.getElementById('passkey-status').textContent.length > 0")
        assert page.text_content("#passkey-status") == "Passkey added."
        assert page.text_content("#passkey-count").strip().endswith("1")  # type: ignore[union-attr]

        page.goto("/console/privileged")
        walk.check("privileged")
        assert "Give a role" in page.content()
        page.goto("/console/registry")
        walk.check("registry")
        page.goto("/console/decided")
        walk.check("decided")
        page.goto("/console/privileged?lang=es")
        walk.check("privileged-es")
        assert "Cambios privilegiados" in page.content()
        page.goto("/console/passkeys?lang=en")

        page.click("form[action='/console/sign-out'] button")
        page.wait_for_url(re.compile(r"/console/sign-in"))
        page.fill("#username", "po")
        walk.check("sign-in-passkey")
        page.click("#passkey-sign-in")
        page.wait_for_url(re.compile(r"/console/disclosures"))
        status, body = _approve(walk, served)
        assert status == 200 and '"status":"in_review"' in body.replace(" ", ""), body
    finally:
        walk.close()
