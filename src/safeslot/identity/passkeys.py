"""Passkeys (WebAuthn, py_webauthn): the phishing-resistant factor (OMB M-22-09).

A signed-in staff member adds a passkey to their own account; later they sign in with it
alone (the authenticator checks the person: user verification). A console session made
with a passkey carries the RFC 8176 method "hwk", which disclosure approvals require
outside demo mode (settings.identity.require_passkey).

Each ceremony's challenge is a one-time, five-minute link row (identity/links.py, purpose
"passkey"): it works once, so a captured response cannot be replayed, and the database
holds only its hash. The origin and relying-party id come from settings.server.public_url
(or settings.identity.rp_id).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from safeslot.config import Settings
from safeslot.identity import events, links
from safeslot.identity.errors import LinkInvalid, SignInFailed
from safeslot.identity.models import Passkey, StaffAccount

CHALLENGE_TTL = dt.timedelta(minutes=5)


def relying_party(settings: Settings) -> tuple[str, str]:
    """(rp id, expected origin) from the public URL."""
    parts = urlsplit(settings.server.public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return settings.identity.rp_id or (parts.hostname or "localhost"), origin


def _of(session: Session, account_id: int) -> list[Passkey]:
    return list(session.scalars(select(Passkey).where(Passkey.staff_id == account_id).order_by(Passkey.id)))


def registration_options(session: Session, settings: Settings, account: StaffAccount,
                         now: dt.datetime) -> dict[str, Any]:
    rp_id, _ = relying_party(settings)
    _, token = links.create(session, "passkey", now, CHALLENGE_TTL, staff_id=account.id)
    options = generate_registration_options(
        rp_id=rp_id, rp_name="safeslot", user_name=account.username, user_id=str(account.id).encode(),
        user_display_name=account.display_name, challenge=token.encode(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                             for p in _of(session, account.id)],
    )
    return {"state": token, "publicKey": json.loads(options_to_json(options))}


def register(session: Session, settings: Settings, key: bytes, account: StaffAccount, state: str,
             credential: dict[str, Any], now: dt.datetime) -> Passkey:
    """Verify the authenticator's answer and keep its public key (logged as a privileged event)."""
    invitation = links.consume(session, "passkey", state, now)
    if invitation.staff_id != account.id:
        raise LinkInvalid("This challenge was made for another account; start again.")
    rp_id, origin = relying_party(settings)
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=state.encode(),
                                                expected_rp_id=rp_id, expected_origin=origin,
                                                require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        from safeslot.kit.errors import InvalidInput

        raise InvalidInput("The authenticator's answer could not be verified; try again.") from exc
    passkey = Passkey(staff_id=account.id, credential_id=bytes_to_base64url(verified.credential_id),
                      public_key=verified.credential_public_key, sign_count=verified.sign_count, created_at=now)
    session.add(passkey)
    session.flush()
    events.record(session, key, "passkey_added", now, account_id=account.id)
    return passkey


def authentication_options(session: Session, settings: Settings, username: str, now: dt.datetime) -> dict[str, Any]:
    """Options for signing in as `username` (an unknown name gets options too, so names cannot be probed)."""
    rp_id, _ = relying_party(settings)
    account = session.scalars(select(StaffAccount).where(StaffAccount.username == username)).one_or_none()
    _, token = links.create(session, "passkey", now, CHALLENGE_TTL, staff_id=account.id if account else None)
    allowed = [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
               for p in (_of(session, account.id) if account else [])]
    options = generate_authentication_options(rp_id=rp_id, challenge=token.encode(), allow_credentials=allowed,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    return {"state": token, "publicKey": json.loads(options_to_json(options))}


def authenticate(session: Session, settings: Settings, state: str, credential: dict[str, Any],
                 now: dt.datetime) -> StaffAccount:
    """The account whose passkey answered this one-time challenge, or SignInFailed."""
    failed = SignInFailed("Your passkey could not be checked. Try again, or sign in with password and code.")
    try:
        invitation = links.consume(session, "passkey", state, now)
    except LinkInvalid as exc:
        raise failed from exc
    raw_id = credential.get("id") if isinstance(credential, dict) else None
    passkey = session.scalars(select(Passkey).where(Passkey.credential_id == str(raw_id))).one_or_none()
    if passkey is None or invitation.staff_id not in (None, passkey.staff_id):
        raise failed
    account = session.get(StaffAccount, passkey.staff_id)
    if account is None or not account.active or account.enrolled_at is None or (
            account.demo and not settings.is_demo):
        raise failed
    rp_id, origin = relying_party(settings)
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=state.encode(), expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
            require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise failed from exc
    passkey.sign_count = verified.new_sign_count
    session.flush()
    return account


def count(session: Session, account_id: int) -> int:
    return len(_of(session, account_id))

