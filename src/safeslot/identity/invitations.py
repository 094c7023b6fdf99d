"""Links to the holder, and the first two administrators.

An approved change that opens an account or issues an agency key sends a one-time link to the
holder's own registered address (``links.py`` makes and stores it); nobody else sees the secret
it leads to. The operator at the server's command line makes the first two administrators;
from then on every administrator is a two-person proposal (``proposals.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from safeslot.identity import events, grants, links, service
from safeslot.identity.authz import mixes_duties
from safeslot.identity.errors import AgencyNotFound, ApproverNotAllowed, DutiesSeparated
from safeslot.identity.models import AgencyOfficial, StaffAccount
from safeslot.kit.errors import InvalidInput

if TYPE_CHECKING:
    from safeslot.identity.proposals import Context


# -- bootstrap ------------------------------------------------------------------------------------
BOOTSTRAP_ADMINS = 2  # the operator at the server's command line makes the first two administrators


def bootstrap_admin(session: Session, ctx: Context, account: StaffAccount, now: dt.datetime) -> None:
    """Make one of the first two administrators (the CLI, by whoever runs the server). Refused once two
    active administrators exist: from then on every admin is a proposal another admin approves. Public."""
    if grants.active_admins(session) >= BOOTSTRAP_ADMINS:
        raise ApproverNotAllowed("Two administrators exist: propose new ones over the API or in the console; "
                                 "another administrator approves.")
    if mixes_duties(frozenset(account.roles.split()) | {"admin"}):
        raise DutiesSeparated("An account cannot hold admin together with privacy_officer or counsel.")
    grants.add(session, account, "admin", now, ctx.cooling_off, origin="bootstrap")
    events.record(session, ctx.key, "admin_bootstrapped", now, account_id=account.id, role="admin")


# -- links to the holder --------------------------------------------------------------------------
def send_invitation(session: Session, ctx: Context, account: StaffAccount, now: dt.datetime) -> None:
    """Queue a one-time enrolment link to the account holder's own address (never shown to anyone)."""
    if not account.email:
        raise InvalidInput("The account has no registered address to send its invitation to.")
    _, token = links.create(session, "enrol", now, ctx.link_ttl, staff_id=account.id)
    url = f"{ctx.public_url}/enrol#{token}"
    hours = int(ctx.link_ttl.total_seconds() // 3600)
    links.queue(session, ctx.ring, account.email, "Your safeslot account / Su cuenta de safeslot", (
        f"Hello,\n\nAn account was opened for you at safeslot (username: {account.username}). Choose your "
        f"password and set up your sign-in codes here; the link works once, for {hours} hours:\n  {url}\n\n"
        "If you did not expect this, tell your privacy officer.\n\n---\n\n"
        f"Hola:\n\nSe abrió una cuenta para usted en safeslot (usuario: {account.username}). Elija su contraseña "
        f"y configure sus códigos de acceso aquí; el enlace funciona una vez, durante {hours} horas:\n  {url}\n\n"
        "Si no lo esperaba, avise a su responsable de privacidad.\n"), now)


def send_claim_link(session: Session, ctx: Context, official: AgencyOfficial, now: dt.datetime, *,
                    revoke_others: bool) -> None:
    """Queue the one-time claim link for a new key to the official's registered address."""
    if not official.email:
        raise InvalidInput("The official has no registered address to send the key to.")
    _, token = links.create(session, "claim", now, ctx.link_ttl, official_id=official.id,
                            revoke_others=revoke_others)
    url = f"{ctx.public_url}/api/v1/agency-key-claims"
    extra = ("Your other keys stop working when you claim this one." if revoke_others else
             "This is an additional key, approved by two people at the office; your other keys keep working.")
    links.queue(session, ctx.ring, official.email, "A new safeslot API key for you / Una nueva clave de API", (
        "Hello,\n\nThe office approved a new API key for you, for sending written requests to its disclosure "
        f"gate. {extra} Claim it once, within {int(ctx.link_ttl.total_seconds() // 3600)} hours, with:\n"
        f"  POST {url}\n  {{\"token\": \"{token}\"}}\n\nEvery key issued is recorded in the office's public "
        "transparency log. If you did not expect this, call the office's privacy officer at its published "
        "number.\n\n---\n\nHola:\n\nLa oficina aprobó una nueva clave de API para usted. Reclámela una sola vez "
        f"con el enlace de arriba. Si no la esperaba, llame al responsable de privacidad de la oficina.\n"), now)


def claim_key(session: Session, ctx: Context, token: str, now: dt.datetime) -> tuple[int, str, dt.datetime]:
    """The official collects their key with the claim link: (credential id, key shown once, expiry)."""
    invitation = links.consume(session, "claim", token, now)
    official = session.get(AgencyOfficial, invitation.official_id)
    if official is None or not official.active:
        raise AgencyNotFound("This official is no longer registered. Contact the office's privacy officer.")
    if invitation.revoke_others:
        service.revoke_all(session, now, official_id=official.id)
    credential, secret = service.issue_credential(session, "agency", now, official=official)
    invitation.credential_id = credential.id
    events.record(session, ctx.key, "agency_key_claimed", now, agency_id=official.agency_id,
                  official_id=official.id, credential_id=credential.id)
    if official.email:
        links.queue(session, ctx.ring, official.email, "Your new safeslot key was claimed / Su clave fue reclamada", (
            f"Your new API key was claimed on {now.isoformat()}. If this was not you, call the office's privacy "
            "officer at its published number now.\n\n"
            f"Su nueva clave de API fue reclamada el {now.isoformat()}. Si no fue usted, llame ahora al "
            "responsable de privacidad de la oficina.\n"), now)
    session.flush()
    return credential.id, secret, credential.expires_at
