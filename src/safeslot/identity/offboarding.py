"""Offboarding: deactivate an account, reset its factors.

Both act at once — they take access away, they never give it — and each is a privileged
event in the public log. Deactivation revokes every session and token of the account in
the same transaction (and `resolve` refuses inactive accounts anyway), so it takes effect
on the very next request. A factor reset revokes them too, forgets the password, TOTP
secret and passkeys, and sends the holder a new enrolment link. Removing roles is a
proposal like granting them (identity/proposals.py).
"""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp
from sqlalchemy import delete
from sqlalchemy.orm import Session

from safeslot.identity import events, links, service
from safeslot.identity.invitations import send_invitation
from safeslot.identity.models import Passkey, StaffAccount
from safeslot.identity.proposals import Context
from safeslot.kit.errors import Conflict


def deactivate(
    session: Session, ctx: Context, by_id: int, username: str, now: dt.datetime
) -> tuple[StaffAccount, int]:
    """End the account's access now: inactive, every credential and pending link revoked."""
    account = service.get_account(session, username)
    if not account.active:
        raise Conflict(f"{username} is deactivated already.")
    account.active = False
    account.deactivated_at = now
    revoked = service.revoke_all(session, now, staff_id=account.id)
    for invitation in links.pending(session, "enrol", staff_id=account.id):
        invitation.expires_at = min(invitation.expires_at, now)
    events.record(session, ctx.key, "account_deactivated", now, account_id=account.id, actor_id=by_id,
                  roles=sorted(account.roles.split()), credentials_revoked=revoked)
    session.flush()
    return account, revoked


def reset_factors(
    session: Session, ctx: Context, by_id: int, username: str, now: dt.datetime
) -> tuple[StaffAccount, int]:
    """Forget password, TOTP and passkeys; the holder enrols again through a new link."""
    account = service.get_account(session, username)
    if not account.active:
        raise Conflict(f"{username} is deactivated; factors of a deactivated account are not reset.")
    revoked = service.revoke_all(session, now, staff_id=account.id)
    account.password_hash = service.HASHER.hash(secrets.token_urlsafe(32))
    account.totp_enc = ctx.ring.seal(pyotp.random_base32(), service.TOTP_CONTEXT)
    account.last_totp_step = 0
    account.enrolled_at = None
    account.failed_logins = 0
    account.locked_until = None
    session.execute(delete(Passkey).where(Passkey.staff_id == account.id))
    events.record(session, ctx.key, "factors_reset", now, account_id=account.id, actor_id=by_id,
                  credentials_revoked=revoked)
    send_invitation(session, ctx, account, now)
    session.flush()
    return account, revoked


def enrol(session: Session, ctx: Context, token: str, password: str, now: dt.datetime) -> tuple[StaffAccount, str]:
    """The holder, with their one-time link, chooses a password and receives their own TOTP secret."""
    if len(password) < service.MIN_PASSWORD:
        # Checked before the link is used, so a weak password does not burn the link.
        from safeslot.identity.errors import WeakPassword

        raise WeakPassword(f"Use at least {service.MIN_PASSWORD} characters; a passphrase of four words is easy "
                           "to type.")
    invitation = links.consume(session, "enrol", token, now)
    account = session.get(StaffAccount, invitation.staff_id)
    if account is None or not account.active:
        from safeslot.identity.errors import LinkInvalid

        raise LinkInvalid("This account was deactivated; ask an administrator.")
    secret = pyotp.random_base32()
    account.password_hash = service.HASHER.hash(password)
    account.totp_enc = ctx.ring.seal(secret, service.TOTP_CONTEXT)
    account.last_totp_step = 0
    account.enrolled_at = now
    events.record(session, ctx.key, "account_enrolled", now, account_id=account.id)
    session.flush()
    return account, secret
