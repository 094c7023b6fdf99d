"""Lifting a legal hold and suspending or reinstating a sharing agreement: two people, through identity's proposals.

A privacy officer proposes (checked here against the hold or agreement as it stands); counsel or a second
privacy officer approves (`identity/proposals.py`: the matrix `authz.APPROVALS`, never the proposer). The
effect is disclosure's and runs in the approval's transaction: it is registered with identity when this
module loads, so identity never imports disclosure. Identity logs each step as a privileged event with ids only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from safeslot.disclosure import holds
from safeslot.identity import interfaces as identity
from safeslot.identity.interfaces import Change, Proposal


def propose_lift(session: Session, ctx: identity.Context, by_id: int, hold_id: int, now: dt.datetime) -> Proposal:
    """Propose lifting a hold in force; it is lifted when a second person approves."""
    holds.check_liftable(session, hold_id)
    return identity.propose(session, ctx, by_id, Change.lift_hold, {"hold_id": hold_id}, now)


def propose_agreement(session: Session, ctx: identity.Context, by_id: int, agreement_id: int, now: dt.datetime, *,
                      suspend: bool, reason: str = "") -> Proposal:
    """Propose suspending an agreement in force (``suspend``) or reinstating a suspended one."""
    holds.check_agreement(session, agreement_id, suspended=not suspend)
    change = Change.suspend_agreement if suspend else Change.reinstate_agreement
    return identity.propose(session, ctx, by_id, change, {"agreement_id": agreement_id, "reason": reason}, now)


def _lift(session: Session, proposer_id: int, params: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    holds.lift_hold_approved(session, proposer_id, int(params["hold_id"]), now)
    return {"hold_id": int(params["hold_id"])}


def _suspend(session: Session, proposer_id: int, params: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    holds.set_suspension_approved(session, proposer_id, int(params["agreement_id"]), str(params.get("reason") or ""),
                                  now, suspended=True)
    return {"agreement_id": int(params["agreement_id"])}


def _reinstate(session: Session, proposer_id: int, params: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    holds.set_suspension_approved(session, proposer_id, int(params["agreement_id"]), str(params.get("reason") or ""),
                                  now, suspended=False)
    return {"agreement_id": int(params["agreement_id"])}


identity.register_effect(Change.lift_hold, _lift)
identity.register_effect(Change.suspend_agreement, _suspend)
identity.register_effect(Change.reinstate_agreement, _reinstate)
