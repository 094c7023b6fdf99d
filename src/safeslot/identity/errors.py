"""Identity errors (domain only; errors.py maps the bases to HTTP).

    Unauthenticated (401)
    ├── SignInFailed          wrong username, password or code (never says which)
    ├── AccountLocked         too many failures; retry after the delay
    └── CredentialInvalid     unknown, expired or revoked token or key
    Forbidden (403)
    ├── RoleRefused           signed in, but no role in the authorization table allows this
    ├── WrongOffice           a clerk or supervisor acting on another office
    ├── OfficialNotVerified   an agency official nobody has verified yet
    └── CsrfRefused           a console form without a valid CSRF token
    NotFound (404)
    └── AccountNotFound / AgencyNotFound / OfficialNotFound
    Conflict (409)
    └── UsernameTaken
    InvalidInput (422)
    └── WeakPassword / UnknownRole
"""

from __future__ import annotations

from safeslot.kit.errors import N_, Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated


class SignInFailed(Unauthenticated):
    slug = "sign-in-failed"
    title = N_("Sign-in failed")


class AccountLocked(Unauthenticated):
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
