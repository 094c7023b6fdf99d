"""Words for the codes staff pages show (request states, instruments, purposes, categories, outcomes,
the walk-in queue's tickets).

The API and the log keep the codes; people read these, in their language. An unknown code
is shown as it is rather than hidden.
"""

from __future__ import annotations

from safeslot.kit.errors import N_

LABELS: dict[str, dict[str, str]] = {
    "status": {
        "received": N_("Received"),
        "in_review": N_("In review"),
        "info_requested": N_("Waiting for information"),
        "approved": N_("Approved"),
        "released": N_("Released"),
        "denied": N_("Denied"),
        "expired": N_("Expired"),
        "withdrawn": N_("Withdrawn"),
    },
    "instrument": {
        "administrative_warrant": N_("Administrative warrant (such as DHS I-200 or I-205)"),
        "administrative_subpoena": N_("Administrative subpoena"),
        "clerk_subpoena": N_("Subpoena signed by a clerk, or for a grand jury"),
        "head_of_agency_request": N_("Written request from the head of an agency"),
        "court_order": N_("Court order"),
        "judicial_warrant": N_("Warrant signed by a judge"),
        "consent": N_("The person's written consent"),
        "sharing_agreement": N_("Data-sharing agreement"),
        "emergency": N_("Emergency about health or safety"),
    },
    "signer": {
        "judge": N_("judge"),
        "clerk": N_("court clerk"),
        "officer": N_("officer"),
        "agency_head": N_("head of agency"),
        "subject": N_("the person named"),
        "executive_adjudicator": N_("immigration judge or other executive-branch adjudicator"),
    },
    "purpose": {
        "criminal": N_("Criminal case"),
        "civil_immigration": N_("Civil immigration matter"),
        "other_civil": N_("Other civil matter"),
        "program_integrity": N_("Program integrity check"),
        "health_or_safety": N_("Health or safety of a person"),
    },
    "category": {
        "identity": N_("Name"),
        "contact": N_("Contact details"),
        "appointment_schedule": N_("Appointment times"),
        "visit_history": N_("Past visits"),
        "language_accommodation": N_("Language and accommodation needs"),
    },
    "outcome": {
        "allow": N_("Allowed"),
        "allow_with_counsel_review": N_("Allowed after counsel's review"),
        "deny": N_("Denied"),
    },
    "alert": {
        "bulk-read": N_("Many people read outside the office's day"),  # more than access.bulk_people_alert
        "cross-office-name-search": N_("A search by name across all offices"),
        "outside-clerk-window": N_("A clerk asked for a past day or a day too far ahead"),
        "other-office-read": N_("A clerk asked to read another office"),
        "many-name-lookups": N_("Many look-ups by name in one day"),
        "check-in-lookup-not-today": N_("A look-up to check someone in who has no visit that day"),
        "name-lookup-future-visit": N_("A look-up by name that showed a visit on a later day"),
        "search-outside-request": N_("Counsel searched names outside an open request"),
        "registrar-read-matches": N_("The registrar of a request asked for its matches"),
    },
    "appointment": {
        "booked": N_("Booked"),
        "checked-in": N_("Checked in"),
        "fulfilled": N_("Done"),
        "cancelled": N_("Cancelled"),
        "noshow": N_("Missed"),
    },
    "match": {
        "pending": N_("Not matched yet"),
        "matched": N_("Matched"),
        "ambiguous": N_("Several people: counsel decides"),
        "unmatched": N_("No match"),
        "dropped": N_("Dropped by a reviewer"),
    },
    "consent": {
        "requester_is_subject": N_("the person asks for their own records"),
        "names_recipient": N_("the form names the recipient"),
        "names_purpose": N_("the form names the purpose"),
    },
    "role": {
        "privacy_officer": N_("Privacy officer"),
        "counsel": N_("Counsel"),
        "admin": N_("Administrator"),
        "auditor": N_("Auditor"),
        "clerk": N_("Clerk"),
        "supervisor": N_("Supervisor"),
    },
    "change": {  # identity/authz.py Change: privileged changes two people make
        "grant_role": N_("Give a role"),
        "remove_role": N_("Take a role away"),
        "register_agency": N_("Register an agency"),
        "verify_official": N_("Verify an agency official"),
        "issue_agency_key": N_("Issue an agency key"),
        "lift_hold": N_("Lift a legal hold"),
        "suspend_agreement": N_("Suspend a sharing agreement"),
        "reinstate_agreement": N_("Reinstate a sharing agreement"),
        "grant_office": N_("Give an office scope"),
        "remove_office": N_("Take an office scope away"),
        "open_office": N_("Open an office"),
        "close_office": N_("Close an office"),
    },
    "ticket_kind": {  # the walk-in queue's tickets (scheduling/queue), at the desk and on the board
        "walk-in": N_("Walk-in"),
        "appointment": N_("Appointment"),
    },
    "ticket": {  # a ticket's state now
        "waiting": N_("Waiting"),
        "called": N_("Called"),
        "done": N_("Done"),
        "noshow": N_("Missed"),
        "left": N_("Left"),
    },
    "ticket_outcome": {  # the board's counts of the day: how each ticket ended (or stands)
        "done": N_("Served"),
        "noshow": N_("Missed"),
        "left": N_("Left"),
        "waiting": N_("Waiting"),
        "called": N_("Called"),
    },
    "proposal": {
        "pending": N_("Waiting for a second person"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "withdrawn": N_("Withdrawn"),
    },
}


def label(kind: str, code: str) -> str:
    """The English label (a msgid: templates translate it) of a code, or the code itself."""
    return LABELS[kind].get(code, code)
