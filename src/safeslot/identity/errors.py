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


class SignInFailed(Recorded, Unauthenticated, slug="sign-in-failed", title=N_("Sign-in failed")):
    """The username, password or code is wrong (we never say which). Check them and try again; the
    failure is counted, and the count kept, for the administrator's view.
    """


class AccountLocked(Recorded, Unauthenticated, slug="account-locked", title=N_("Account locked for now")):
    """Too many failed sign-ins for this account. Wait the time given, then sign in again; the
    failures are kept for the administrator.
    """


class CredentialInvalid(Unauthenticated, slug="credential-invalid", title=N_("Credential not valid")):
    """The token, session or key is unknown, expired or revoked. Sign in again or ask for a new key."""


class RoleRefused(Forbidden, slug="role-refused", title=N_("Your role may not do this")):
    """No role of yours may use this address (the authorization table lists who may). Ask an
    administrator if your work needs it.
    """


class OfficialNotVerified(Forbidden, slug="official-not-verified", title=N_("Official not verified")):
    """An agency official's key works only after a privacy officer verified the official (by call-
    back). Ask the office to verify you.
    """


class CsrfRefused(Forbidden, slug="csrf-refused", title=N_("Form token missing or wrong")):
    """The form's token is missing or does not belong to your session. Reload the page and submit
    the form again.
    """


class AccountNotFound(NotFound, slug="account-not-found", title=N_("No such account")):
    """There is no staff account with this id or username."""


class AgencyNotFound(NotFound, slug="agency-not-found", title=N_("No such agency or official")):
    """There is no registered agency or official with this id. Agencies are registered by the office
    first.
    """


class UsernameTaken(Conflict, slug="username-taken", title=N_("Username taken")):
    """Another account already has this username. Choose another one."""


class WeakPassword(InvalidInput, slug="weak-password", title=N_("Password too weak")):
    """The password is too short or too common. Choose a longer passphrase."""


class UnknownRole(InvalidInput, slug="unknown-role", title=N_("Unknown role")):
    """This role does not exist. Use one of the roles the detail lists."""


class OwnProposal(Forbidden, slug="own-proposal", title=N_("A second person must approve this")):
    """A privileged change needs two people: you cannot approve a change you proposed or one that
    gives you a role. Ask another administrator.
    """


class ApproverNotAllowed(Forbidden, slug="approver-not-allowed",
                         title=N_("Your role may not approve or propose this change")):
    """Your role may not propose or approve this kind of privileged change. The detail names who
    may.
    """


class ReviewerCoolingOff(Forbidden, slug="reviewer-cooling-off",
                         title=N_("This reviewer role is still in its cooling-off period")):
    """A new privacy officer or counsel role waits a cooling-off period before it can review. Try
    again after the time given.
    """


class PasskeyRequired(Forbidden, slug="passkey-required", title=N_("Sign in with your passkey to do this")):
    """Approving a disclosure needs a sign-in with your passkey, not only a password and code. Sign
    in with your passkey and try again.
    """


class ProposalDecided(Conflict, slug="proposal-decided", title=N_("This proposal was already decided")):
    """This proposal was already approved, rejected or withdrawn; it cannot change again. Make a new
    proposal if needed.
    """


class DutiesSeparated(Conflict, slug="duties-separated",
                      title=N_("Administration and disclosure review are separate duties")):
    """One account may not hold both administration and a disclosure reviewer role. Use two accounts
    held by two people.
    """


class ProposalNotFound(NotFound, slug="proposal-not-found", title=N_("No such proposal")):
    """There is no proposal with this id."""


class LinkInvalid(NotFound, slug="link-invalid", title=N_("This link is not valid")):
    """The link is forged, expired or already used. Ask for a new invitation or link."""
