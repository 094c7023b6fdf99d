"""Identity's face: all that another domain may use of identity, in one module, in plain values where it
can (the pattern of Warehouse's ``accounts/interfaces.py``; docs/architecture.md, "Allowed arrows").

To every domain:

* who is asking: ``Principal`` (what a request's credential resolved to), and for their routes the
  FastAPI dependencies ``StaffDep``, ``PrincipalDep``, ``current_staff``, ``require_passkey`` and the
  refusal ``RoleRefused``;
* the agency registry (``agency_id``, ``agency_name``, ``agency_address``, ``official_agency_name``) and
  whether an account may review (``require_reviewer``), for disclosure;
* two-person changes (``Change``, ``Proposal``, ``Context``, ``context_for``, ``propose``, ``pending``,
  ``register_effect``, ``proposal_out`` and the schemas of an office's opening and closing): the domain
  that owns what a change acts on (scheduling's offices, disclosure's holds and agreements) registers the
  effect here, so identity never imports it;
* what privacy's key rotation asks of identity's sealed values (``pending_reseal``, ``reseal_batch``,
  ``sealed_key_ids``: identity re-seals its own rows with ``kit/sealed_rows.py``), whether a route is public
  (``route_is_public``, for scheduling's fast front), and the demo's agency and accounts (``DEMO_AGENCY``,
  ``get_account``, ``create_agency``, for disclosure's demo).

The console and the CLI also list accounts and the registry here (``accounts``, ``registry``), and may call
``service``. Identity's models and repository stay inside identity (``identity/ruff.toml`` and
``tests/test_import_graph.py`` refuse imports of them, and of any module but this one, from another domain).
The route dependencies and the demo's agency load on first use (PEP 562 ``__getattr__`` below), so a
command that imports this face, the outbox worker's, loads no web framework.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeslot.identity import authz, grants, proposals, service
from safeslot.identity import repository as repo
from safeslot.identity.authz import Change
from safeslot.identity.errors import RoleRefused
from safeslot.identity.models import (
    Agency,
    AgencyOfficial,
    Proposal,  # handed out: read it, pass it back
    StaffAccount,
)
from safeslot.identity.proposals import Context, context_for, pending, propose, register_effect
from safeslot.identity.schemas import BookingToMoveOut, OfficeClosingIn, OfficeOpeningIn, ProposalOut
from safeslot.identity.service import TOTP_CONTEXT, Principal, create_agency, get_account
from safeslot.kit import sealed_rows
from safeslot.kit.crypto import KeyRing
from safeslot.kit.sealed_rows import SealedTable

if TYPE_CHECKING:
    from safeslot.identity.demo import AGENCY as DEMO_AGENCY
    from safeslot.identity.guard import PrincipalDep, StaffDep, current_staff, require_passkey

__all__ = [
    "DEMO_AGENCY",
    "AccountSummary",
    "AgencyEntry",
    "BookingToMoveOut",
    "Change",
    "Context",
    "OfficeClosingIn",
    "OfficeOpeningIn",
    "OfficialEntry",
    "Principal",
    "PrincipalDep",
    "Proposal",
    "ProposalOut",
    "RoleRefused",
    "StaffDep",
    "accounts",
    "agency_address",
    "agency_id",
    "agency_name",
    "context_for",
    "create_agency",
    "current_staff",
    "get_account",
    "official_agency_name",
    "pending",
    "pending_reseal",
    "proposal_out",
    "propose",
    "register_effect",
    "registry",
    "require_passkey",
    "require_reviewer",
    "reseal_batch",
    "route_is_public",
    "sealed_key_ids",
]

# Names that load their module on first use: the route dependencies need FastAPI, the demo's agency the demo.
_ON_FIRST_USE = {"PrincipalDep": "guard", "StaffDep": "guard", "current_staff": "guard", "require_passkey": "guard",
                 "DEMO_AGENCY": "demo"}

if not TYPE_CHECKING:
    def __getattr__(name: str) -> Any:
        if name not in _ON_FIRST_USE:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        if _ON_FIRST_USE[name] == "guard":
            from safeslot.identity import guard

            return getattr(guard, name)
        from safeslot.identity import demo

        return demo.AGENCY


def official_agency_name(session: Session, official_id: int) -> str | None:
    """The registered name of the agency an official belongs to; None when there is none."""
    official = session.get(AgencyOfficial, official_id)
    agency = session.get(Agency, official.agency_id) if official is not None else None
    return agency.name if agency is not None else None


def agency_id(session: Session, name: str | None) -> int | None:
    """The registry id of the agency of this name, if registered."""
    if not name:
        return None
    return session.scalars(select(Agency.id).where(Agency.name == name)).one_or_none()


def agency_name(session: Session, agency_id: int) -> str | None:
    """The registered name of agency ``agency_id``."""
    return session.scalars(select(Agency.name).where(Agency.id == agency_id)).one_or_none()


def agency_address(session: Session, name: str) -> str | None:
    """The registered address of the agency of this name."""
    agency = session.scalars(select(Agency).where(Agency.name == name)).one_or_none()
    return agency.address if agency is not None else None


@dataclass(frozen=True)
class OfficialEntry:
    """An agency official as the registry page lists them (no contact, no key material)."""

    name: str
    title: str
    verified_at: dt.datetime | None
    active_keys: int  # neither revoked nor expired


@dataclass(frozen=True)
class AgencyEntry:
    name: str
    address: str
    officials: list[OfficialEntry]


def registry(session: Session, now: dt.datetime) -> list[AgencyEntry]:
    """The registered agencies by name, each with its officials and how many working keys each holds."""
    return [AgencyEntry(a.name, a.address, [
        OfficialEntry(o.name, o.title, o.verified_at, repo.active_official_keys(session, o.id, now))
        for o in repo.officials(session, a.id)]) for a in repo.agencies(session)]


@dataclass(frozen=True)
class AccountSummary:
    """A staff account as an operator's list shows it (no secret, no contact)."""

    username: str
    roles: str  # space-separated
    office_id: int | None
    active: bool
    locked_until: dt.datetime | None


def accounts(session: Session) -> list[AccountSummary]:
    """Every staff account by username."""
    return [AccountSummary(a.username, a.roles, a.office_id, a.active, a.locked_until) for a in repo.accounts(session)]


# What a proposal's target shows (never a note, an address or a secret).
SHOWN = ("account_id", "agency_id", "official_id", "hold_id", "agreement_id", "additional_key", "name", "office_id",
         "office", "bookings")


def proposal_out(session: Session, p: Proposal) -> ProposalOut:
    """A proposal as the API and the console show it: who proposed and decided it (usernames), what it
    targets (ids and names only), which roles may approve it."""
    names = service.usernames(session, [i for i in (p.proposed_by, p.decided_by, p.beneficiary_id) if i])
    target: dict[str, Any] = {k: v for k, v in p.params.items() if k in SHOWN}
    new = p.params.get("new_account")
    if isinstance(new, dict):
        target["new_account"] = new.get("username")
    office = p.params.get("new_office")
    if isinstance(office, dict):  # a public office's public facts, for the approver to check
        target.update({k: office.get(k) for k in ("name", "address", "timezone")})
    if p.beneficiary_id:
        target["account"] = names.get(p.beneficiary_id)
    if isinstance(p.result, dict):
        target.update({k: v for k, v in p.result.items() if k in SHOWN or k == "effective_at"})
    return ProposalOut(id=p.id, kind=p.kind, role=p.role, status=p.status, proposed_at=p.proposed_at,
                       proposed_by=names.get(p.proposed_by, "?"), decided_at=p.decided_at,
                       decided_by=names.get(p.decided_by) if p.decided_by else None,
                       approver_roles=sorted(proposals.rule_of(p).approvers), target=target)


# Identity's values sealed with the key ring (column, AEAD context): re-sealed when privacy's key rotation asks.
SEALED = (SealedTable(StaffAccount, ((StaffAccount.totp_enc, TOTP_CONTEXT),)),)


def pending_reseal(session: Session, ring: KeyRing) -> int:
    """How many accounts still hold a second factor sealed under an older master key."""
    return sealed_rows.pending(session, ring, SEALED)


def reseal_batch(session: Session, ring: KeyRing, batch_size: int = 500) -> int:
    """Re-seal up to ``batch_size`` accounts' second factors under the current key; how many changed."""
    return sealed_rows.reseal(session, ring, SEALED, batch_size)


def sealed_key_ids(session: Session) -> set[str]:
    """Key ids that an account's sealed second factor still names."""
    return sealed_rows.key_ids(session, SEALED)


def require_reviewer(session: Session, account_id: int, role: str, now: dt.datetime) -> None:
    """Refuse unless the account is active and holds this reviewer role past its cooling-off (identity/grants.py)."""
    grants.require_reviewer(session, account_id, role, now)


def route_is_public(method: str, path_template: str) -> bool:
    """Whether identity's authorization table lets anyone call this route without a credential."""
    return not authz.needs_credentials(method, path_template)
