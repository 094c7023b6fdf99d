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

from safeslot.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated


class SignInFailed(Unauthenticated):
    slug = "sign-in-failed"
    title = "Sign-in failed"


class AccountLocked(Unauthenticated):
    slug = "account-locked"
    title = "Account locked for now"


class CredentialInvalid(Unauthenticated):
    slug = "credential-invalid"
    title = "Credential not valid"


class RoleRefused(Forbidden):
    slug = "role-refused"
    title = "Your role may not do this"


class WrongOffice(Forbidden):
    slug = "wrong-office"
    title = "Not your office"


class OfficialNotVerified(Forbidden):
    slug = "official-not-verified"
    title = "Official not verified"


class CsrfRefused(Forbidden):
    slug = "csrf-refused"
    title = "Form token missing or wrong"


class AccountNotFound(NotFound):
    slug = "account-not-found"
    title = "No such account"


class AgencyNotFound(NotFound):
    slug = "agency-not-found"
    title = "No such agency or official"


class UsernameTaken(Conflict):
    slug = "username-taken"
    title = "Username taken"


class WeakPassword(InvalidInput):
    slug = "weak-password"
    title = "Password too weak"


class UnknownRole(InvalidInput):
    slug = "unknown-role"
    title = "Unknown role"
