"""Public "Who has seen my records" pages: a person's accounting of disclosures, each entry checked,
and when staff looked at their appointment outside booking, check-in and the visit (privacy/person.py).

No account: the confirmation code and the name find the entries (the disclosure
accounting service decides what may be shown; it withholds 552a(b)(7) entries
and those under a running non-disclosure order). For each entry the server
does what anyone can redo with the JSON proof: it recomputes the commitment
SHA-256(salt ‖ person id ‖ request id), finds it in the log entry, and checks
the entry's inclusion proof against the latest checkpoint after verifying the
log's signature on it, with the pure core (transparency/interfaces.py: check_entry).
A wrong code or name shows the same page as "no disclosures".
"""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.console import csrf, i18n
from safeslot.console.forms import parse_code
from safeslot.console.i18n import N_
from safeslot.console.pages import PageRoute, error_page, language, render
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.disclosure import accounting
from safeslot.disclosure.schemas import AccountingEntryOut
from safeslot.privacy import person
from safeslot.transparency import interfaces as log
from safeslot.transparency import note
from safeslot.transparency import service as log_service

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["public pages"])

UTC = ZoneInfo("UTC")

PURPOSES = {
    "criminal": N_("A criminal case"),
    "civil_immigration": N_("A civil immigration matter"),
    "other_civil": N_("Another civil matter"),
    "program_integrity": N_("A check of a public program"),
}
CATEGORIES = {
    "identity": N_("Your name"),
    "contact": N_("How to reach you"),
    "appointment_schedule": N_("Your appointment times"),
    "visit_history": N_("Your past visits"),
    "language_accommodation": N_("Your language and accommodation needs"),
}

# Staff looks at the appointment (privacy/person.py): the role, in words, never a person's name.
ROLES = {
    "clerk": N_("A clerk"),
    "supervisor": N_("A supervisor"),
    "auditor": N_("An auditor"),
    "privacy_officer": N_("A privacy officer"),
    "counsel": N_("A lawyer of the office"),
    "admin": N_("An administrator"),
    "staff": N_("A staff member"),
}
LOOKUP_REASONS = {
    "at_counter": N_("The reason given: you were at the counter."),
    "phone_call": N_("The reason given: you phoned us."),
    "check_in": N_("The reason given: you came for your visit without your code."),
    "written_request": N_("The reason given: you asked in writing."),
}


def check_entry(session: Session, verifier: note.Verifier, origin: str, checkpoint_note: str,
                entry: AccountingEntryOut) -> log.EntryCheck:
    """Check one accounting entry against a signed checkpoint, as an outside verifier would."""
    return log.check_entry(session, verifier, origin, checkpoint_note, salt=entry.salt, person_id=entry.person_id,
                           request_id=str(entry.request_id), commitment=entry.commitment, log_index=entry.log_index)


@router.get("/records")
def records_form(request: Request) -> Response:
    return render(request, "public/records.html", {"title": N_("Who has seen my records"), "code": "", "name": ""})


@router.post("/records")
def records(
    request: Request, session: SessionDep, ring: RingDep, now: NowDep,
    code: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not csrf.request_ok(request, csrf_token):
        return error_page(request, "csrf", 403)
    errors: dict[str, str] = {}
    cleaned = parse_code(code, errors)
    if not name.strip():
        errors["name"] = N_("Enter your name as you gave it when you booked.")
    elif len(name) > 200:
        errors["name"] = N_("Enter at most 200 characters.")
    context = {"title": N_("Who has seen my records"), "code": code, "name": name}
    if errors:
        return render(request, "public/records.html", {**context, "errors": errors}, status=422, page_url="/records")
    found = accounting.lookup(session, ring, cleaned, name.strip(), now)
    lang = language(request)
    rows = []
    if found.entries:
        log.refresh_checkpoint(request, session, now)  # sign the newest entries, so every entry can be checked
        checkpoint_note = log_service.checkpoint_note(session) or ""
        signer = request.app.state.log_signer
        origin: str = request.app.state.settings.log.origin
        for entry in found.entries:
            result = check_entry(session, signer.verifier(), origin, checkpoint_note, entry)
            rows.append({
                "entry": entry,
                "when": i18n.when_label(entry.disclosed_at, UTC, lang),
                "purpose": PURPOSES.get(entry.purpose),
                "categories": [CATEGORIES.get(c, c) for c in entry.categories],
                "check": result,
                "proof_url": "/log/proof/inclusion?" + urlencode({"index": entry.log_index, "size": result.size}),
                "entry_url": f"/log/entry/{entry.log_index}",
                "recipe": json.dumps({"salt": entry.salt, "person_id": entry.person_id,
                                      "request_id": str(entry.request_id), "commitment": entry.commitment}),
            })
    looks = [{"look": look, "day": i18n.day_label(look.day, lang), "role": ROLES.get(look.role, ROLES["staff"]),
              "reason": LOOKUP_REASONS.get(look.reason or "")}
             for look in person.looks_at(session, ring, cleaned, name.strip())]
    return render(request, "public/records_result.html", {**context, "title": N_("Who has seen your records"),
                                                    "rows": rows, "looks": looks}, page_url="/records")
