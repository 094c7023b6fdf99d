"""Staff accounts, sign-in, credentials and agency officials.

Passwords are hashed with argon2id (RFC 9106, argon2-cffi defaults); the second
factor is TOTP (RFC 6238, pyotp), each code accepted once. Bearer secrets are
random (256 bits) and stored as their SHA-256, so the database alone cannot be
used to sign in. Repeated failures are slowed down per username and address by
the rate limiter (kit/ratelimit.py, NIST SP 800-63B 5.2.2), never by a lock
on the account that a stranger could trigger; they are logged without the password.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from safeslot.identity import repository as repo
from safeslot.identity import scopes
from safeslot.identity.authz import AGENCY, STAFF_ROLES
from safeslot.identity.errors import (
    AccountNotFound,
    AgencyNotFound,
    CredentialInvalid,
    OfficialNotVerified,
    SignInFailed,
    UnknownRole,
    UsernameTaken,
    WeakPassword,
)
from safeslot.identity.models import Agency, AgencyOfficial, Credential, StaffAccount
from safeslot.kit.crypto import KeyRing

log = logging.getLogger("safeslot.identity")

HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
MIN_PASSWORD = 12
TOKEN_LIFETIME = dt.timedelta(hours=8)
SESSION_LIFETIME = dt.timedelta(hours=8)
AGENCY_KEY_LIFETIME = dt.timedelta(days=90)
TOTP_CONTEXT = "staff_account.totp"
VERIFICATION_METHODS = ("phone_callback", "in_person", "agency_letter", "video_call")
DELEGATION_LEVELS = ("head_of_agency", "delegate", "staff")


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("safeslot-timing-equaliser")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff account or an agency official, and through which credential."""

    kind: str  # "staff" or "agency"
    id: int
    name: str
    roles: frozenset[str]
    office_id: int | None
    credential_id: int
    credential_kind: str  # api, session or agency
    secret_hash: str
    amr: str = ""  # RFC 8176 methods of the sign-in: "pwd otp", or "hwk" for a passkey
    # The offices this account may work on (identity/scopes.py); `office_id` is the one pages open on.
    office_ids: frozenset[int] = frozenset()

    def covers(self, office_id: int) -> bool:
        """True when the office is in this principal's scope (never for agency officials)."""
        return self.kind == "staff" and office_id in self.office_ids


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_roles(names: list[str]) -> str:
    unknown = sorted(set(names) - STAFF_ROLES)
    if unknown or not names:
        raise UnknownRole(f"Roles must be among: {', '.join(sorted(STAFF_ROLES))}.")
    return " ".join(sorted(set(names)))


# -- accounts -----------------------------------------------------------------------------------
def create_account(
    session: Session,
    ring: KeyRing,
    *,
    username: str,
    display_name: str,
    password: str | None,
    roles: list[str],
    office_id: int | None,
    now: dt.datetime,
    demo: bool = False,
    email: str | None = None,
    scope_origin: str | None = "account",
) -> tuple[StaffAccount, str]:
    """A new account and its TOTP secret.

    With a password (the holder at the command line, the demo, tests) the account is
    enrolled at once and the secret is for the holder's authenticator app. Without one
    (an administrator over the API) the account cannot sign in until its holder enrols
    through an invitation link (identity/links.py); the placeholder secret is never shown.
    Privileged roles given here have no grant: use identity/proposals.py for them.
    The office becomes the account's first scope (identity/scopes.py) with ``scope_origin``, unless
    that is None: an administrator's new account waits for a second person to approve its scope.
    """
    role_text = parse_roles(roles) if roles else ""
    if password is not None and len(password) < MIN_PASSWORD:
        raise WeakPassword(f"Use at least {MIN_PASSWORD} characters; a passphrase of four words is easy to type.")
    if ({"clerk", "supervisor"} & set(roles)) and office_id is None:
        raise UnknownRole("A clerk or supervisor works at one office: give the office.")
    if repo.account_by_username(session, username) is not None:
        raise UsernameTaken("Choose another username.")
    totp_secret = pyotp.random_base32()
    account = StaffAccount(
        username=username,
        display_name=display_name,
        password_hash=HASHER.hash(password if password is not None else secrets.token_urlsafe(32)),
        totp_enc=ring.seal(totp_secret, TOTP_CONTEXT),
        email=email,
        enrolled_at=now if password is not None else None,
        roles=role_text,
        office_id=office_id,
        active=True,
        demo=demo,
        failed_logins=0,
        last_totp_step=0,
        created_at=now,
    )
    session.add(account)
    session.flush()
    if office_id is not None and scope_origin is not None:
        scopes.add(session, account, office_id, now, origin=scope_origin)
    return account, totp_secret


def get_account(session: Session, username: str) -> StaffAccount:
    account = repo.account_by_username(session, username)
    if account is None:
        raise AccountNotFound("Check the username with `safeslot account list`.")
    return account


def set_roles(session: Session, username: str, roles: list[str]) -> StaffAccount:
    account = get_account(session, username)
    account.roles = parse_roles(roles)
    session.flush()
    return account


def unlock(session: Session, username: str) -> StaffAccount:
    account = get_account(session, username)
    account.failed_logins = 0
    account.locked_until = None
    session.flush()
    return account


def _totp_step(ring: KeyRing, account: StaffAccount, code: str, now: dt.datetime) -> int | None:
    totp = pyotp.TOTP(ring.open(account.totp_enc, TOTP_CONTEXT))
    here = int(now.timestamp()) // totp.interval
    for step in (here - 1, here, here + 1):  # RFC 6238 5.2: one step of clock drift either way
        if step > account.last_totp_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def sign_in(
    session: Session, ring: KeyRing, username: str, password: str, code: str, now: dt.datetime, *, demo_mode: bool
) -> StaffAccount:
    """Check password and TOTP code. A failure is counted, then SignInFailed (a `Recorded` error:
    the request's session keeps the count) is raised."""
    account = repo.account_by_username(session, username, for_update=True)
    if (account is None or not account.active or account.enrolled_at is None
            or (account.demo and not demo_mode)):
        with contextlib.suppress(VerificationError):  # same work as a real check: timing hides which exist
            HASHER.verify(_dummy_hash(), password)
        raise SignInFailed("Check your username, password and the six-digit code from your authenticator app.")
    password_ok: bool
    try:
        password_ok = HASHER.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        password_ok = False
    step = _totp_step(ring, account, code, now) if password_ok else None
    if step is None:
        # Counted for the administrator's view only: nothing is locked here, the rate limiter
        # (kit/ratelimit.py) slows the failing address down, so nobody can lock the owner out.
        account.failed_logins += 1
        log.warning("sign-in failed for account %s (%d in a row)", account.username, account.failed_logins)
        session.flush()
        raise SignInFailed("Check your username, password and the six-digit code from your authenticator app.")
    account.failed_logins = 0
    account.locked_until = None
    account.last_totp_step = step
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = HASHER.hash(password)
    session.flush()
    log.info("account %s signed in", account.username)
    return account


# -- credentials --------------------------------------------------------------------------------
def issue_credential(
    session: Session,
    kind: str,
    now: dt.datetime,
    *,
    staff: StaffAccount | None = None,
    official: AgencyOfficial | None = None,
    lifetime: dt.timedelta | None = None,
    amr: str | None = None,
) -> tuple[Credential, str]:
    """A new random secret; only its hash is kept. The secret is returned once."""
    credential, secret = new_credential(kind, now, staff=staff, official=official, lifetime=lifetime, amr=amr)
    session.add(credential)
    session.flush()
    return credential, secret


def new_credential(
    kind: str,
    now: dt.datetime,
    *,
    staff: StaffAccount | None = None,
    official: AgencyOfficial | None = None,
    lifetime: dt.timedelta | None = None,
    amr: str | None = None,
) -> tuple[Credential, str]:
    """``issue_credential``'s row and secret, not yet added to a session (the authorization matrix adds
    a few thousand in one flush)."""
    prefix = {"api": "sst_", "session": "sss_", "agency": "ssa_"}[kind]
    secret = prefix + secrets.token_urlsafe(32)
    default = {"api": TOKEN_LIFETIME, "session": SESSION_LIFETIME, "agency": AGENCY_KEY_LIFETIME}[kind]
    credential = Credential(
        kind=kind,
        secret_hash=hash_secret(secret),
        staff_id=staff.id if staff else None,
        official_id=official.id if official else None,
        created_at=now,
        expires_at=now + (lifetime or default),
        amr=amr if amr is not None else ("pwd otp" if staff is not None else None),
    )
    return credential, secret


def work_on(session: Session, principal: Principal, office_id: int) -> None:
    """The console session works on another office of the principal's scope from its next request (the console's
    office choice). An office outside the scope is refused by the caller's look-up first; here too."""
    credential = session.get(Credential, principal.credential_id)
    if credential is None or not principal.covers(office_id):
        raise CredentialInvalid("Sign in again, then choose one of your offices.")
    credential.office_id = office_id
    session.flush()


def revoke_credential(session: Session, credential_id: int, now: dt.datetime) -> Credential:
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise CredentialInvalid("No such credential.")
    if credential.revoked_at is None:
        credential.revoked_at = now
    session.flush()
    return credential


def resolve(session: Session, secret: str, now: dt.datetime, *, demo_mode: bool) -> Principal:
    """The principal behind a bearer secret, or CredentialInvalid (401).

    Read afresh on every call, in one statement (``repo.credential_holder``): a revoked credential, a
    deactivated account, a changed role or office scope counts from the next request on."""
    rows = repo.credential_holder(session, hash_secret(secret))
    first = rows[0] if rows else None
    if first is None or first.revoked_at is not None:
        raise CredentialInvalid("This token is unknown or was revoked. Sign in again for a new one.")
    if first.expires_at <= now:
        raise CredentialInvalid("This token has expired. Sign in again for a new one.")
    if first.staff_id is not None:
        if first.account_id is None or not first.account_active or (first.account_demo and not demo_mode):
            raise CredentialInvalid("This account is disabled. Ask an administrator.")
        scoped = frozenset(r.scope_office_id for r in rows if r.scope_office_id is not None)
        working = (first.office_id if first.office_id in scoped
                   else scopes.home_office(first.account_office_id, scoped))
        return Principal("staff", first.account_id, first.username, frozenset(first.roles.split()),
                         working, first.id, first.kind, first.secret_hash, first.amr or "", scoped)
    if first.holder_official_id is None or not first.official_active or (first.official_demo and not demo_mode):
        raise CredentialInvalid("This official is no longer registered. Contact the office's privacy officer.")
    if first.official_verified_at is None:
        # The API key exists, but no request may be sent until the out-of-band check is recorded.
        raise OfficialNotVerified(
            "A privacy officer has not yet recorded how you were verified. Contact the office's privacy officer."
        )
    return Principal("agency", first.holder_official_id, first.official_name,
                     frozenset({AGENCY}), None, first.id, first.kind, first.secret_hash)


# -- agencies -----------------------------------------------------------------------------------
def create_agency(session: Session, name: str, address: str, now: dt.datetime) -> Agency:
    if repo.agency_by_name(session, name) is not None:
        raise UsernameTaken("An agency with this name is registered already.")
    agency = Agency(name=name, address=address, created_at=now)
    session.add(agency)
    session.flush()
    return agency


def get_official(session: Session, agency_id: int, official_id: int) -> AgencyOfficial:
    official = session.get(AgencyOfficial, official_id)
    if official is None or official.agency_id != agency_id:
        raise AgencyNotFound("Check the agency and official ids with GET /api/v1/agencies.")
    return official


def add_official(
    session: Session, agency_id: int, name: str, title: str, delegation_level: str, now: dt.datetime,
    email: str | None = None,
    *, demo: bool = False,
) -> AgencyOfficial:
    if session.get(Agency, agency_id) is None:
        raise AgencyNotFound("Register the agency first (POST /api/v1/agencies).")
    if delegation_level not in DELEGATION_LEVELS:
        raise UnknownRole(f"Delegation level must be one of: {', '.join(DELEGATION_LEVELS)}.")
    official = AgencyOfficial(agency_id=agency_id, name=name, title=title, delegation_level=delegation_level,
                              active=True, created_at=now, email=email, demo=demo)
    session.add(official)
    session.flush()
    return official


def record_verification(
    session: Session, agency_id: int, official_id: int, by: Principal | int, method: str, note: str,
    now: dt.datetime,
) -> AgencyOfficial:
    """A privacy officer records how the official's identity and authority were checked out of band."""
    if method not in VERIFICATION_METHODS:
        raise UnknownRole(f"Verification method must be one of: {', '.join(VERIFICATION_METHODS)}.")
    official = get_official(session, agency_id, official_id)
    official.verified_at = now
    official.verified_by = by if isinstance(by, int) else by.id
    official.verification_method = method
    official.verification_note = note
    session.flush()
    return official


def issue_agency_key(
    session: Session, agency_id: int, official_id: int, now: dt.datetime, *, revoke_others: bool
) -> tuple[Credential, str]:
    """A new API key for an official; rotation revokes the others."""
    official = get_official(session, agency_id, official_id)
    if revoke_others:
        for old in repo.credentials_of_official(session, official.id):
            if old.revoked_at is None:
                old.revoked_at = now
    return issue_credential(session, "agency", now, official=official)


def revoke_agency_key(
    session: Session, agency_id: int, official_id: int, credential_id: int, now: dt.datetime
) -> Credential:
    official = get_official(session, agency_id, official_id)
    credential = session.get(Credential, credential_id)
    if credential is None or credential.official_id != official.id:
        raise AgencyNotFound("This key does not belong to this official.")
    return revoke_credential(session, credential_id, now)


def usernames(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Account id → username (auditors see who raised an alert or ran a verification)."""
    return repo.usernames(session, ids)


def revoke_all(session: Session, now: dt.datetime, *, staff_id: int | None = None,
               official_id: int | None = None) -> int:
    """Revoke every live credential of an account or official (offboarding); returns how many."""
    found = (repo.credentials_of_staff(session, staff_id) if staff_id is not None
             else repo.credentials_of_official(session, official_id or 0))
    n = 0
    for credential in found:
        if credential.revoked_at is None:
            credential.revoked_at = now
            n += 1
    session.flush()
    return n
