"""Demo: the gate at work, so `make run` shows a denial, a release, an accounting entry and
a non-empty log. Idempotent: it plays only on a database with no disclosure request.

1. An immigration agency's administrative warrant (I-205) for a named person's schedule,
   scanned in by a clerk: denied for every category, with the reasons.
2. A judicial warrant signed by a judge for the same person's schedule: allowed, approved
   by a privacy officer and by counsel (two people), released; the person's accounting
   entry is visible with their confirmation code and name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeslot.config import Settings
from safeslot.disclosure import attest, intake, release, review, samplepdf, service
from safeslot.disclosure import repository as repo
from safeslot.disclosure.models import DisclosureRequest
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import Actor, RequestMetadata
from safeslot.kit.crypto import load_key_ring
from safeslot.kit.errors import DomainError
from safeslot.scheduling import interfaces as scheduling
from safeslot.scheduling.interfaces import BookingIn

PERSON = "Test Person M"
try:  # the agency identity's demo registers, so its demo official sees these requests
    from safeslot.identity.interfaces import DEMO_AGENCY as AGENCY
except ImportError:  # pragma: no cover - identity absent
    AGENCY = "Example Immigration Agency"
# Identity's demo accounts act when present; otherwise stand-in staff ids.
STAND_INS = {"clerk": 9001, "privacy_officer": 9002, "counsel": 9003}
PDF = samplepdf.write([["DEMO INSTRUMENT - not a real document", "Named: Test Person M (demo data)"]])


def _meta(**values: Any) -> RequestMetadata:
    base: dict[str, Any] = {
        "issuer": AGENCY, "signer_name": "Officer Example", "signer_type": "officer",
        "purpose": "civil_immigration", "subjects": [{"name": PERSON, "office": "central"}],
        "categories": ["appointment_schedule"],
    }
    base.update(values)
    return RequestMetadata.model_validate(base)


def _staff(session: Session, role: str) -> Actor:
    try:
        from safeslot.identity import interfaces as identity

        account = identity.get_account(session, "demo-" + role.replace("_", "-"))
        return Actor("staff", account.id, frozenset(account.roles.split()))
    except (ImportError, DomainError):
        return Actor("staff", STAND_INS[role], frozenset({role}))


def load(session: Session, settings: Settings, console: Console) -> None:
    if session.scalar(select(func.count()).select_from(DisclosureRequest)):
        console.print("Disclosure demo already played.")
        return
    now = dt.datetime.now(dt.UTC)
    clerk, privacy, counsel = (_staff(session, r) for r in ("clerk", "privacy_officer", "counsel"))
    ring = load_key_ring(settings.crypto.key_file, settings.crypto.keys, create=settings.is_demo)
    engine = PolicyEngine.load(settings.policies_dir, settings.policy_profile)
    day = now.date() + dt.timedelta(days=2)
    _, _, slots = scheduling.search_slots(session, "central", "apply", day, day + dt.timedelta(days=7), None, now)
    if not slots:
        console.print("[yellow]No free slot for the disclosure demo; skipped.[/]")
        return
    appointment = scheduling.book(session, ring, BookingIn.model_validate({
        "office": "central", "service": "apply", "starts_at": slots[0].starts_at.isoformat(), "name": PERSON,
    }), now)

    # The clerk files a paper request for a registered agency (identity's demo registers it; a
    # database without it gets it here, demo data only).
    agency_id = repo.agency_id(session, AGENCY)
    if agency_id is None:
        from safeslot.identity import interfaces as identity

        agency_id = identity.create_agency(session, AGENCY, "1 Example Plaza, Washington, DC", now).id
    denied = intake.submit(session, ring, engine, clerk, _meta(instrument_type="administrative_warrant",
                                                                agency_id=agency_id), PDF, now)
    console.print(f"Disclosure request {denied.id}: an I-205 administrative warrant → [bold red]{denied.status}[/]")
    for line in service.explain(session, engine, denied.id)[1:]:
        console.print(f"  {line}", markup=False)

    allowed = intake.submit(session, ring, engine, clerk, _meta(
        agency_id=agency_id, instrument_type="judicial_warrant", issuer="U.S. District Court, District of Example",
        court="U.S. District Court, District of Example", docket="1:27-mj-00001", signer_name="Hon. Judge Example",
        signer_type="judge", purpose="criminal", statutes=["18 U.S.C. 3117"],
    ), PDF, now)
    # Each reviewer checks the document field by field, then approves.
    for actor, role in ((privacy, "privacy_officer"), (counsel, "counsel")):
        answers = dict.fromkeys(attest.fields_for(allowed, repo.subjects(session, allowed.id)), attest.MATCH)
        attest.attest(session, ring, engine, actor, allowed.id, role, allowed.document_sha256, answers, {}, now)
        review.approve(session, actor, allowed.id, role, now)
    made, _ = release.create(session, ring, release.load_signer(settings), allowed.id, now)
    console.print(
        f"Disclosure request {allowed.id}: a judicial warrant → approved by a privacy officer and counsel, "
        f"[bold green]released[/] (package sha256 {made.package_sha256[:16]}…, log index {made.log_index})."
    )
    console.print(
        f"Accounting of disclosures: POST /api/v1/accounting/lookup with code {appointment.code} "
        f"and name '{PERSON}' (demo data)."
    )
