"""Identity errors (domain only; errors.py maps the bases to HTTP).

    Unauthenticated (401)
    ├── SignInFailed          wrong username, password or code (never says which); Recorded:
    │                         the failure count (or the used passkey challenge) is committed
    ├── AccountLocked         too many failures; retry after the delay (Recorded)
    └── CredentialInvalid     unknown, expired or revoked token or key
    Forbidden (403)
    ├── OwnProposal           approving a change you proposed or that gives you a role
    ├── ApproverNotAllowed    your role may not approve (or propose) this change (authz.APPROVALS)
    ├── ReviewerCoolingOff    a new privacy_officer/counsel role has not yet passed its cooling-off
    ├── PasskeyRequired       disclosure approvals need a passkey sign-in
    ├── RoleRefused           signed in, but no role in the authorization table allows this
    ├── WrongOffice           a clerk or supervisor acting on another office
    ├── OfficialNotVerified   an agency official nobody has verified yet
    └── CsrfRefused           a console form without a valid CSRF token
    NotFound (404)
    └── AccountNotFound / AgencyNotFound / OfficialNotFound
    Conflict (409)
    ├── UsernameTaken
    ├── ProposalDecided       the proposal was approved, rejected or withdrawn already
    └── DutiesSeparated       admin and a reviewer role on one account
    NotFound (404)
    ├── ProposalNotFound
    └── LinkInvalid           a forged, expired or used invitation or claim link
    InvalidInput (422)
    └── WeakPassword / UnknownRole
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, Forbidden, InvalidInput, NotFound, Recorded, Unauthenticated


class SignInFailed(Recorded, Unauthenticated):
    """The failure is counted (for the administrator's view) and that count is kept."""

    slug = "sign-in-failed"
    title = N_("Sign-in failed")


class AccountLocked(Recorded, Unauthenticated):
    slug = "account-locked"
    title = N_("Account locked for now")


class CredentialInvalid(Unauthenticated):
    slug = "credential-invalid"
    title = N_("Credential not valid")


class RoleRefused(Forbidden):
    slug = "role-refused"
    title = N_("Your role may not do this")


class WrongOffice(Forbidden):
    slug = "wrong-office"
    title = N_("Not your office")


class OfficialNotVerified(Forbidden):
    slug = "official-not-verified"
    title = N_("Official not verified")


class CsrfRefused(Forbidden):
    slug = "csrf-refused"
    title = N_("Form token missing or wrong")


class AccountNotFound(NotFound):
    slug = "account-not-found"
    title = N_("No such account")


class AgencyNotFound(NotFound):
    slug = "agency-not-found"
    title = N_("No such agency or official")


class UsernameTaken(Conflict):
    slug = "username-taken"
    title = N_("Username taken")


class WeakPassword(InvalidInput):
    slug = "weak-password"
    title = N_("Password too weak")


class UnknownRole(InvalidInput):
    slug = "unknown-role"
    title = N_("Unknown role")


class OwnProposal(Forbidden):
    slug = "own-proposal"
    title = N_("A second person must approve this")


class ApproverNotAllowed(Forbidden):
    slug = "approver-not-allowed"
    title = N_("Your role may not approve or propose this change")


class ReviewerCoolingOff(Forbidden):
    slug = "reviewer-cooling-off"
    title = N_("This reviewer role is still in its cooling-off period")


class PasskeyRequired(Forbidden):
    slug = "passkey-required"
    title = N_("Sign in with your passkey to do this")


class ProposalDecided(Conflict):
    slug = "proposal-decided"
    title = N_("This proposal was already decided")


class DutiesSeparated(Conflict):
    slug = "duties-separated"
    title = N_("Administration and disclosure review are separate duties")


class ProposalNotFound(NotFound):
    slug = "proposal-not-found"
    title = N_("No such proposal")


class LinkInvalid(NotFound):
    slug = "link-invalid"
    title = N_("This link is not valid")
