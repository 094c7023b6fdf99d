"""One-time, expiring links and the identity outbox.

An *enrol* link lets a staff account holder set their own password and receive their own
TOTP secret; a *claim* link lets an agency official collect a new API key. Each is sent
only to the holder's registered address (SMTP, or .eml files in demo and test).
Only the token's SHA-256 is stored; the mail body (which holds the link) is sealed until
`safeslot worker` sends it through the notifications outbox (identity/mail.py) and emptied
afterwards. A link works once and expires (settings.identity.invitation_hours);
a forged, expired or used link gets `LinkInvalid` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity.errors import LinkInvalid
from safeslot.identity.models import IdentityMail, Invitation
from safeslot.identity.service import hash_secret
from safeslot.kit.crypto import KeyRing

ADDRESS_CONTEXT = "identity_outbox.address"
BODY_CONTEXT = "identity_outbox.body"
KIND = "identity.mail"  # the notifications outbox kind (identity/mail.py composes it)
PREFIX = {"enrol": "sse_", "claim": "ssc_", "passkey": "ssp_"}  # passkey: a one-time WebAuthn challenge


def create(session: Session, purpose: str, now: dt.datetime, ttl: dt.timedelta, *, staff_id: int | None = None,
           official_id: int | None = None, revoke_others: bool = True) -> tuple[Invitation, str]:
    """A new link; earlier unused links of the same purpose and holder stop working."""
    if staff_id is not None or official_id is not None:
        for old in pending(session, purpose, staff_id=staff_id, official_id=official_id):
            old.expires_at = min(old.expires_at, now)
    token = PREFIX[purpose] + secrets.token_urlsafe(32)
    invitation = Invitation(purpose=purpose, token_hash=hash_secret(token), staff_id=staff_id,
                            official_id=official_id, revoke_others=revoke_others, created_at=now,
                            expires_at=now + ttl)
    session.add(invitation)
    session.flush()
    return invitation, token


def pending(session: Session, purpose: str, *, staff_id: int | None = None,
            official_id: int | None = None) -> Sequence[Invitation]:
    stmt = select(Invitation).where(Invitation.purpose == purpose, Invitation.used_at.is_(None))
    if staff_id is not None:
        stmt = stmt.where(Invitation.staff_id == staff_id)
    if official_id is not None:
        stmt = stmt.where(Invitation.official_id == official_id)
    return session.scalars(stmt).all()


def consume(session: Session, purpose: str, token: str, now: dt.datetime) -> Invitation:
    """Mark a link used and return it; LinkInvalid (nothing changes) if forged, expired or used."""
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == hash_secret(token)).with_for_update()
    ).one_or_none()
    if invitation is None or invitation.purpose != purpose:
        raise LinkInvalid("This link is not one we sent. Open the link from the message exactly as it arrived.")
    if invitation.used_at is not None:
        raise LinkInvalid("This link was used already; each link works once. Ask the office for a new one.")
    if invitation.expires_at <= now:
        raise LinkInvalid("This link has expired. Ask the office to send a new one.")
    invitation.used_at = now
    session.flush()
    return invitation


def queue(session: Session, ring: KeyRing, address: str, subject: str, body: str, now: dt.datetime) -> IdentityMail:
    """Queue a message in the caller's transaction; `safeslot worker` sends it (notifications outbox)."""
    from safeslot.notifications import interfaces as outbox

    message = IdentityMail(address_enc=ring.seal(address, ADDRESS_CONTEXT), subject=subject,
                           body_enc=ring.seal(body, BODY_CONTEXT), status="queued", created_at=now)
    session.add(message)
    session.flush()
    outbox.enqueue(session, kind=KIND, ref=message.id, dedupe_key=f"{KIND}:{message.id}", now=now)
    return message
