"""Authorization in one place: which role may call which endpoint.

``RULES`` is the single source of truth. ``AuthzMiddleware`` (installed by
``identity.endpoints.setup``) finds the route a request matches, looks up its
(method, path template) here and refuses before any endpoint code runs:
401 without valid credentials, 403 for a role the entry does not list. A
route with no entry is refused too (fail closed), and
tests/identity/test_authz.py fails naming it.

To add an endpoint, add one line: ``("POST", "/api/v1/things/{id}"): roles(COUNSEL)``.
Values are role names, ``PUBLIC`` (anyone, no sign-in) or ``AGENCY`` (a
verified agency official's API key).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    clerk = "clerk"
    supervisor = "supervisor"
    privacy_officer = "privacy_officer"
    counsel = "counsel"
    auditor = "auditor"
    admin = "admin"


PUBLIC = "public"
AGENCY = "agency"
STAFF_ROLES = frozenset(r.value for r in Role)

CLERK, SUPERVISOR, PRIVACY, COUNSEL, AUDITOR, ADMIN = (r.value for r in Role)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


PUBLIC_ONLY = roles(PUBLIC)
ANY_STAFF = STAFF_ROLES

RULES: dict[tuple[str, str], frozenset[str]] = {
    # operations and docs
    ("GET", "/healthz"): PUBLIC_ONLY,
    ("GET", "/metrics"): roles(AUDITOR, ADMIN),  # or SAFESLOT_SERVER__METRICS_BIND, a separate address
    ("GET", "/problems/{slug}"): PUBLIC_ONLY,
    ("GET", "/docs"): PUBLIC_ONLY,
    ("GET", "/docs/oauth2-redirect"): PUBLIC_ONLY,
    ("GET", "/redoc"): PUBLIC_ONLY,
    ("GET", "/openapi.json"): PUBLIC_ONLY,
    # scheduling: the public books and manages by confirmation code
    ("GET", "/api/v1/offices"): PUBLIC_ONLY,
    ("GET", "/api/v1/offices/{office}"): PUBLIC_ONLY,
    ("GET", "/api/v1/nearest-offices"): PUBLIC_ONLY,
    ("GET", "/api/v1/slots"): PUBLIC_ONLY,
    ("POST", "/api/v1/appointments"): PUBLIC_ONLY,
    ("GET", "/api/v1/appointments/{code}"): PUBLIC_ONLY,
    ("POST", "/api/v1/appointments/{code}/reschedule"): PUBLIC_ONLY,
    ("POST", "/api/v1/appointments/{code}/cancel"): PUBLIC_ONLY,
    ("POST", "/api/v1/appointments/{code}/status"): roles(CLERK),
    # scheduling administration: a supervisor whose scope holds that office (scheduling.office_in_scope)
    ("PUT", "/api/v1/offices/{office}/location"): roles(SUPERVISOR),
    ("GET", "/api/v1/offices/{office}/services"): roles(SUPERVISOR),
    ("POST", "/api/v1/offices/{office}/services"): roles(SUPERVISOR),
    ("PUT", "/api/v1/offices/{office}/services/{service_slug}/translations/{language}"): roles(SUPERVISOR),
    ("GET", "/api/v1/offices/{office}/staff"): roles(SUPERVISOR),
    ("POST", "/api/v1/offices/{office}/staff"): roles(SUPERVISOR),
    ("PATCH", "/api/v1/offices/{office}/staff/{staff_id}"): roles(SUPERVISOR),
    ("GET", "/api/v1/offices/{office}/staff/{staff_id}/hours"): roles(SUPERVISOR),
    ("PUT", "/api/v1/offices/{office}/staff/{staff_id}/hours"): roles(SUPERVISOR),
    ("POST", "/api/v1/offices/{office}/staff/{staff_id}/absences"): roles(SUPERVISOR),
    ("DELETE", "/api/v1/offices/{office}/staff/{staff_id}/absences/{absence_id}"): roles(SUPERVISOR),
    ("GET", "/api/v1/offices/{office}/unassigned"): roles(SUPERVISOR),
    ("GET", "/api/v1/offices/{office}/hours"): roles(SUPERVISOR),
    ("POST", "/api/v1/offices/{office}/hours"): roles(SUPERVISOR),
    ("DELETE", "/api/v1/offices/{office}/hours/{hours_id}"): roles(SUPERVISOR),
    ("GET", "/api/v1/offices/{office}/closures"): roles(SUPERVISOR),
    ("POST", "/api/v1/offices/{office}/closures"): roles(SUPERVISOR),
    ("DELETE", "/api/v1/offices/{office}/closures/{closure_id}"): roles(SUPERVISOR),
    # the walk-in queue (scheduling/queue): anyone takes and follows a ticket by its token; clerks of the
    # office call at their desk; its supervisor sees the board (office_in_scope in the endpoints)
    ("POST", "/api/v1/offices/{office}/queue/tickets"): PUBLIC_ONLY,
    ("POST", "/api/v1/offices/{office}/queue/check-ins"): PUBLIC_ONLY,
    ("GET", "/api/v1/queue/tickets/{token}"): PUBLIC_ONLY,
    ("POST", "/api/v1/queue/tickets/{token}/leave"): PUBLIC_ONLY,
    ("GET", "/api/v1/offices/{office}/queue/display"): PUBLIC_ONLY,
    ("POST", "/api/v1/offices/{office}/queue/clerk-check-ins"): roles(CLERK),
    ("POST", "/api/v1/offices/{office}/queue/call-next"): roles(CLERK),
    ("POST", "/api/v1/offices/{office}/queue/tickets/{ticket_id}/actions"): roles(CLERK),
    ("GET", "/api/v1/offices/{office}/queue"): roles(SUPERVISOR),
    # the queue's public pages (console/public/walk_in.py): no account, no cookie
    ("GET", "/queue/{office}"): PUBLIC_ONLY,
    ("POST", "/queue/{office}/ticket"): PUBLIC_ONLY,
    ("POST", "/queue/{office}/check-in"): PUBLIC_ONLY,
    ("GET", "/queue/{office}/qr.svg"): PUBLIC_ONLY,
    ("GET", "/queue/{office}/poster"): PUBLIC_ONLY,
    ("GET", "/queue/{office}/display"): PUBLIC_ONLY,
    ("GET", "/ticket/{token}"): PUBLIC_ONLY,
    ("GET", "/ticket/{token}/qr.svg"): PUBLIC_ONLY,
    ("POST", "/ticket/{token}/leave"): PUBLIC_ONLY,
    # the queue in the staff console (console/staff/desk.py): a clerk's desk, the supervisor's board
    ("GET", "/console/queue"): roles(CLERK),
    ("POST", "/console/queue/call-next"): roles(CLERK),
    ("POST", "/console/queue/tickets/{ticket_id}"): roles(CLERK),
    ("POST", "/console/queue/check-in"): roles(CLERK),
    ("GET", "/console/board"): roles(SUPERVISOR),
    # OpenID Connect sign-in (identity/oidc.py): 404 unless configured
    ("GET", "/auth/oidc/login"): PUBLIC_ONLY,
    ("GET", "/auth/oidc/callback"): PUBLIC_ONLY,
    # public pages (console): booking and managing by code, no account
    ("GET", "/"): PUBLIC_ONLY,
    ("GET", "/static/{path:path}"): PUBLIC_ONLY,
    ("GET", "/book/slots"): PUBLIC_ONLY,
    ("GET", "/find"): PUBLIC_ONLY,
    ("GET", "/offices"): PUBLIC_ONLY,
    ("GET", "/offices/{office}"): PUBLIC_ONLY,
    ("GET", "/book/details"): PUBLIC_ONLY,
    ("POST", "/book"): PUBLIC_ONLY,
    ("GET", "/booked/{code}"): PUBLIC_ONLY,
    ("GET", "/manage"): PUBLIC_ONLY,
    ("POST", "/manage"): PUBLIC_ONLY,
    ("GET", "/manage/{code}"): PUBLIC_ONLY,
    ("GET", "/manage/{code}/calendar.ics"): PUBLIC_ONLY,
    ("GET", "/manage/{code}/reschedule"): PUBLIC_ONLY,
    ("POST", "/manage/{code}/reschedule"): PUBLIC_ONLY,
    ("GET", "/manage/{code}/cancel"): PUBLIC_ONLY,
    ("POST", "/manage/{code}/cancel"): PUBLIC_ONLY,
    ("GET", "/records"): PUBLIC_ONLY,
    ("POST", "/records"): PUBLIC_ONLY,
    ("GET", "/reminders/stop/{token}"): PUBLIC_ONLY,  # the stop link of reminders (console/public/reminders.py)
    ("POST", "/reminders/stop/{token}"): PUBLIC_ONLY,  # the token is the authority; it only turns messages off
    # staff console pages (console/staff/)
    ("GET", "/console/sign-in"): PUBLIC_ONLY,
    ("POST", "/console/sign-in"): PUBLIC_ONLY,
    ("POST", "/console/sign-out"): ANY_STAFF,
    ("POST", "/console/office-choice"): roles(CLERK, SUPERVISOR),  # another office of one's scope
    ("GET", "/console"): ANY_STAFF,
    ("GET", "/console/appointments"): roles(CLERK),
    ("POST", "/console/appointments/lookup"): roles(CLERK),
    ("POST", "/console/appointments/{code}/status"): roles(CLERK),
    ("GET", "/console/disclosures"): roles(PRIVACY, COUNSEL),
    ("GET", "/console/disclosures/{request_id}"): roles(PRIVACY, COUNSEL),
    ("POST", "/console/disclosures/{request_id}/accept"): roles(PRIVACY, COUNSEL),
    ("GET", "/console/disclosures/{request_id}/pages/{page}"): roles(PRIVACY, COUNSEL),
    ("POST", "/console/disclosures/{request_id}/attest"): roles(PRIVACY, COUNSEL),
    ("POST", "/console/disclosures/{request_id}/approve"): roles(PRIVACY, COUNSEL),
    ("POST", "/console/disclosures/{request_id}/deny"): roles(PRIVACY, COUNSEL),
    ("POST", "/console/disclosures/{request_id}/narrow"): roles(PRIVACY, COUNSEL),
    ("POST", "/console/disclosures/{request_id}/ask"): roles(PRIVACY, COUNSEL),
    ("GET", "/console/audit"): roles(AUDITOR),
    # the organisation's pages (console/staff/network.py): counts by office; offices opened and closed by two
    ("GET", "/console/reports"): roles(AUDITOR, SUPERVISOR),
    ("GET", "/console/offices"): roles(ADMIN),
    ("POST", "/console/offices"): roles(ADMIN),
    ("GET", "/console/offices/{office}/closing"): roles(ADMIN),
    ("POST", "/console/offices/{office}/closing"): roles(ADMIN),
    ("GET", "/console/privileged"): roles(ADMIN, PRIVACY, COUNSEL, AUDITOR),
    ("POST", "/console/proposals/{proposal_id}/approve"): roles(ADMIN, PRIVACY, COUNSEL, AUDITOR),
    ("POST", "/console/proposals/{proposal_id}/reject"): roles(ADMIN, PRIVACY, COUNSEL, AUDITOR),
    ("GET", "/console/registry"): roles(ADMIN, PRIVACY, COUNSEL, AUDITOR),
    ("GET", "/console/decided"): roles(PRIVACY, COUNSEL, AUDITOR),
    ("GET", "/console/passkeys"): ANY_STAFF,
    ("GET", "/console/messages"): roles(SUPERVISOR, PRIVACY),  # dead letters (notifications outbox)
    ("POST", "/console/messages/{message_id}/retry"): roles(SUPERVISOR, PRIVACY),
    ("POST", "/console/audit/verify"): roles(AUDITOR),
    ("GET", "/console/office"): roles(SUPERVISOR),
    ("GET", "/console/appointments/new"): roles(CLERK),
    ("POST", "/console/appointments/new"): roles(CLERK),
    ("GET", "/console/appointments/{code}/booked"): roles(CLERK),
    ("POST", "/console/office/{office}/services"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/staff"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/hours"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/closures"): roles(SUPERVISOR),
    ("GET", "/console/office/{office}/staff/{staff_id}"): roles(SUPERVISOR),
    ("GET", "/console/office/{office}/services/{service_slug}"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/services/{service_slug}"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/staff/{staff_id}"): roles(SUPERVISOR),
    ("GET", "/console/office/{office}/staff/{staff_id}/hours"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/staff/{staff_id}/hours"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/staff/{staff_id}/absences"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/staff/{staff_id}/absences/{absence_id}/remove"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/hours/{hours_id}/remove"): roles(SUPERVISOR),
    ("POST", "/console/office/{office}/closures/{closure_id}/remove"): roles(SUPERVISOR),
    # identity
    ("POST", "/api/v1/auth/token"): PUBLIC_ONLY,
    ("POST", "/api/v1/auth/session"): PUBLIC_ONLY,
    ("POST", "/api/v1/auth/logout"): ANY_STAFF | roles(AGENCY),
    ("GET", "/api/v1/auth/me"): ANY_STAFF | roles(AGENCY),
    ("GET", "/api/v1/accounts"): roles(ADMIN),
    ("POST", "/api/v1/accounts"): roles(ADMIN),
    ("POST", "/api/v1/accounts/{username}/roles"): roles(ADMIN),
    ("POST", "/api/v1/accounts/{username}/unlock"): roles(ADMIN),
    ("POST", "/api/v1/accounts/{username}/oidc-subject"): roles(ADMIN),
    ("POST", "/api/v1/accounts/{username}/role-removals"): roles(ADMIN),
    ("POST", "/api/v1/accounts/{username}/deactivation"): roles(ADMIN),
    ("POST", "/api/v1/accounts/{username}/factor-reset"): roles(ADMIN),
    # office scopes (identity/scopes.py): proposed and approved by two people; a supervisor for their offices
    ("POST", "/api/v1/accounts/{username}/office-scopes"): roles(ADMIN, SUPERVISOR),
    ("POST", "/api/v1/accounts/{username}/office-scope-removals"): roles(ADMIN, SUPERVISOR),
    # two-person privileged changes (identity/proposals.py; matrix APPROVALS below): the service checks the cell
    ("GET", "/api/v1/proposals"): roles(ADMIN, PRIVACY, COUNSEL, AUDITOR, SUPERVISOR),
    ("POST", "/api/v1/proposals/{proposal_id}/approval"): roles(ADMIN, PRIVACY, COUNSEL, AUDITOR, SUPERVISOR),
    ("POST", "/api/v1/proposals/{proposal_id}/rejection"): roles(ADMIN, PRIVACY, COUNSEL, AUDITOR, SUPERVISOR),
    ("GET", "/api/v1/privileged-events"): roles(AUDITOR, ADMIN, PRIVACY),
    # opening and closing offices: the organisation's administrators, two of them (scheduling/office_proposals.py)
    ("POST", "/api/v1/office-openings"): roles(ADMIN),
    ("POST", "/api/v1/offices/{office}/closing"): roles(ADMIN),
    ("GET", "/api/v1/offices/{office}/bookings-to-move"): roles(ADMIN),
    # the holder's own one-time links: the token is the credential
    ("POST", "/api/v1/enrolment"): PUBLIC_ONLY,
    ("POST", "/api/v1/agency-key-claims"): PUBLIC_ONLY,
    # passkeys (identity/passkeys.py): add to your own account; sign in with one
    ("POST", "/api/v1/passkeys/registration-options"): ANY_STAFF,
    ("POST", "/api/v1/passkeys"): ANY_STAFF,
    ("POST", "/api/v1/auth/passkey-options"): PUBLIC_ONLY,
    ("POST", "/api/v1/auth/passkey-session"): PUBLIC_ONLY,
    ("POST", "/api/v1/agencies"): roles(PRIVACY),
    ("GET", "/api/v1/agencies"): roles(PRIVACY, COUNSEL, AUDITOR),
    ("POST", "/api/v1/agencies/{agency_id}/officials"): roles(PRIVACY),
    ("POST", "/api/v1/agencies/{agency_id}/officials/{official_id}/verification"): roles(PRIVACY),
    ("POST", "/api/v1/agencies/{agency_id}/officials/{official_id}/credentials"): roles(PRIVACY),
    ("POST", "/api/v1/agencies/{agency_id}/officials/{official_id}/credentials/{credential_id}/revoke"): roles(
        PRIVACY
    ),
    # privacy: staff reads of personal data, each one recorded
    ("GET", "/api/v1/offices/{office}/appointments"): roles(CLERK),
    ("POST", "/api/v1/appointments/search"): roles(CLERK, COUNSEL),
    ("POST", "/api/v1/access/lookup"): PUBLIC_ONLY,  # the person's own view (code + name), privacy/person.py
    ("GET", "/api/v1/access/records"): roles(AUDITOR),
    ("GET", "/api/v1/access/alerts"): roles(AUDITOR),
    # office reports (privacy/statistics.py): counts of visits, no person; a supervisor for their offices
    ("GET", "/api/v1/offices/{office}/report"): roles(SUPERVISOR, AUDITOR),
    ("GET", "/api/v1/network/report"): roles(AUDITOR),
    # disclosure gate: agencies file and fetch; privacy officer and counsel review; the public sees its accounting
    ("POST", "/api/v1/disclosure-requests"): roles(AGENCY, CLERK, SUPERVISOR, PRIVACY),
    ("GET", "/api/v1/disclosure-requests"): roles(AGENCY, PRIVACY, COUNSEL, AUDITOR),
    ("GET", "/api/v1/disclosure-requests/{request_id}"): roles(AGENCY, PRIVACY, COUNSEL, AUDITOR),
    ("GET", "/api/v1/disclosure-requests/{request_id}/explanation"): roles(AGENCY, PRIVACY, COUNSEL, AUDITOR),
    ("POST", "/api/v1/disclosure-requests/{request_id}/acceptance"): roles(PRIVACY, COUNSEL),
    ("GET", "/api/v1/disclosure-requests/{request_id}/subjects"): roles(PRIVACY, COUNSEL),
    ("POST", "/api/v1/disclosure-requests/{request_id}/attestations"): roles(PRIVACY, COUNSEL),
    ("POST", "/api/v1/disclosure-requests/{request_id}/approvals"): roles(PRIVACY, COUNSEL),
    ("POST", "/api/v1/disclosure-requests/{request_id}/denial"): roles(PRIVACY, COUNSEL),
    ("POST", "/api/v1/disclosure-requests/{request_id}/narrowing"): roles(PRIVACY, COUNSEL),
    ("POST", "/api/v1/disclosure-requests/{request_id}/information-requests"): roles(PRIVACY, COUNSEL),
    ("POST", "/api/v1/disclosure-requests/{request_id}/information"): roles(AGENCY),
    ("POST", "/api/v1/disclosure-requests/{request_id}/withdrawal"): roles(AGENCY),
    ("POST", "/api/v1/disclosure-requests/{request_id}/matches"): roles(COUNSEL),
    ("GET", "/api/v1/disclosure-requests/{request_id}/release"): roles(AGENCY),
    ("GET", "/api/v1/disclosure-packages/{token}"): roles(AGENCY),
    ("POST", "/api/v1/legal-holds"): roles(PRIVACY),
    ("POST", "/api/v1/legal-holds/{hold_id}/lift"): roles(PRIVACY),
    ("POST", "/api/v1/sharing-agreements"): roles(PRIVACY),
    ("POST", "/api/v1/sharing-agreements/{agreement_id}/suspension"): roles(PRIVACY),
    ("POST", "/api/v1/sharing-agreements/{agreement_id}/reinstatement"): roles(PRIVACY),
    ("POST", "/api/v1/sharing-agreements/{agreement_id}/renewal"): roles(PRIVACY),
    ("POST", "/api/v1/policy-changes"): roles(PRIVACY),
    ("POST", "/api/v1/policy-changes/{change_id}/approvals"): roles(PRIVACY),
    ("POST", "/api/v1/accounting/lookup"): PUBLIC_ONLY,
    # notifications: replies to texts, signed by the SMS provider (notifications/endpoints.py)
    ("POST", "/api/v1/sms/inbound"): PUBLIC_ONLY,
    # Transparency reports (reports/endpoints.py): public by design, like the log.
    ("GET", "/transparency/report"): PUBLIC_ONLY,
    ("GET", "/transparency/report/{name}"): PUBLIC_ONLY,
}


# -- privileged changes: who proposes, who approves (docs/two-person-changes.md) -------
#
# Each privileged change is a proposal that takes effect only when a second, different person
# approves it. ``APPROVALS`` is the proposer/approver matrix, the single source of truth the
# proposal service checks (tests/identity/test_proposals.py tries every cell). On top of it,
# everywhere:
#   * the approver is never the proposer, nor the account the change gives a role to;
#   * nobody proposes a role for themselves;
#   * an approver acting as privacy_officer or counsel needs that role past its cooling-off
#     (REVIEWER_ROLES), the same rule as for disclosure approvals;
#   * admin and the reviewer roles are never held by one account (SEPARATED), so the person who
#     administers accounts can never review a disclosure.


class Change(StrEnum):
    grant_role = "grant_role"  # also: creating an account that holds the role
    remove_role = "remove_role"
    register_agency = "register_agency"
    verify_official = "verify_official"
    issue_agency_key = "issue_agency_key"
    lift_hold = "lift_hold"
    suspend_agreement = "suspend_agreement"
    reinstate_agreement = "reinstate_agreement"
    grant_office = "grant_office"  # an office scope (identity/scopes.py); also a new account's first office
    remove_office = "remove_office"
    open_office = "open_office"  # a new office of the network (scheduling/office_proposals.py)
    close_office = "close_office"  # closing one; its visits still to come listed for moving


ROLE_CHANGES = frozenset({Change.grant_role, Change.remove_role})  # the matrix cell depends on the role


PRIVILEGED_ROLES = frozenset({ADMIN, PRIVACY, COUNSEL, AUDITOR})
REVIEWER_ROLES = frozenset({PRIVACY, COUNSEL})  # count for disclosure approvals after cooling-off
SEPARATED = (frozenset({ADMIN}), REVIEWER_ROLES)  # no account holds roles from both sides


@dataclass(frozen=True)
class Cell:
    proposers: frozenset[str]
    approvers: frozenset[str]
    why: str


APPROVALS: dict[tuple[Change, str | None], Cell] = {
    (Change.grant_role, ADMIN): Cell(roles(ADMIN), roles(ADMIN),
                                     "an administrator vouches for every new administrator"),
    (Change.grant_role, AUDITOR): Cell(roles(ADMIN), roles(ADMIN, AUDITOR),
                                       "auditors watch the administrators; an auditor may vouch for a peer"),
    (Change.grant_role, PRIVACY): Cell(roles(ADMIN), roles(ADMIN, PRIVACY),
                                       "a new reviewer is vouched for by a second person; public and cooled off"),
    (Change.grant_role, COUNSEL): Cell(roles(ADMIN), roles(ADMIN, PRIVACY),
                                       "a new reviewer is vouched for by a second person; public and cooled off"),
    (Change.remove_role, ADMIN): Cell(roles(ADMIN), roles(ADMIN), "one administrator cannot lock out the others"),
    (Change.remove_role, AUDITOR): Cell(roles(ADMIN), roles(ADMIN, AUDITOR), "nobody silences an auditor alone"),
    (Change.remove_role, PRIVACY): Cell(roles(ADMIN), roles(ADMIN, PRIVACY),
                                        "nobody removes an inconvenient reviewer alone"),
    (Change.remove_role, COUNSEL): Cell(roles(ADMIN), roles(ADMIN, PRIVACY),
                                        "nobody removes an inconvenient reviewer alone"),
    (Change.register_agency, None): Cell(roles(PRIVACY), roles(PRIVACY, COUNSEL),
                                         "a registered agency may send requests: two reviewers agree it exists"),
    (Change.verify_official, None): Cell(roles(PRIVACY), roles(PRIVACY, COUNSEL),
                                         "a verified official may send requests: a second reviewer checks the check"),
    (Change.issue_agency_key, None): Cell(roles(PRIVACY), roles(PRIVACY, COUNSEL),
                                          "a key lets someone act as the official: never one person's doing"),
    (Change.lift_hold, None): Cell(roles(PRIVACY), roles(COUNSEL, PRIVACY),
                                   "lifting a court's hold reopens a disclosure path: counsel or a second officer"),
    (Change.suspend_agreement, None): Cell(roles(PRIVACY), roles(PRIVACY, COUNSEL),
                                           "agreements are published commitments: two people change them"),
    (Change.reinstate_agreement, None): Cell(roles(PRIVACY), roles(PRIVACY, COUNSEL),
                                             "reinstating reopens a sharing path: two people agree"),
    # A supervisor proposes or approves only for an office in their own scope (proposals._require_office).
    (Change.grant_office, None): Cell(roles(ADMIN, SUPERVISOR), roles(ADMIN, SUPERVISOR),
                                      "an office scope opens that office's appointments: a second person agrees"),
    (Change.remove_office, None): Cell(roles(ADMIN, SUPERVISOR), roles(ADMIN, SUPERVISOR),
                                       "nobody moves a colleague out of an office alone"),
    (Change.open_office, None): Cell(roles(ADMIN), roles(ADMIN),
                                     "a new office takes bookings from the public: a second administrator agrees"),
    (Change.close_office, None): Cell(roles(ADMIN), roles(ADMIN),
                                      "closing sends people elsewhere: nobody closes an office alone"),
}


def cell(change: Change, role: str | None = None) -> Cell:
    """The matrix cell of a change (role only for grant_role / remove_role)."""
    found = APPROVALS.get((change, role if change in ROLE_CHANGES else None))
    if found is None:
        raise KeyError(f"{change.value} {role or ''} is not a privileged change")
    return found


def mixes_duties(roles_held: frozenset[str]) -> bool:
    """True when a set of roles mixes administration and disclosure review (never allowed)."""
    admin_side, reviewer_side = SEPARATED
    return bool(roles_held & admin_side) and bool(roles_held & reviewer_side)


# Path prefixes that are public as a whole (C2SP tlog-tiles: anyone can read the log).
PUBLIC_PREFIXES: tuple[str, ...] = ("/log/",)


def allowed(method: str, path_template: str) -> frozenset[str] | None:
    """The roles allowed on a route, or None when the table has no entry for it."""
    method = "GET" if method == "HEAD" else method
    rule = RULES.get((method, path_template))
    if rule is None and (path_template.startswith(PUBLIC_PREFIXES) and method == "GET"):
        return PUBLIC_ONLY
    return rule


def needs_credentials(method: str, path_template: str) -> bool:
    """Whether an operation answers 401/403 to a caller without the right credential (for the OpenAPI document)."""
    rule = allowed(method, path_template)
    return rule is None or PUBLIC not in rule
