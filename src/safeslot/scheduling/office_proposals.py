"""Opening and closing an office: two-person privileged changes (invariant "two people, distinct roles").

A network's organisation administrator proposes; a second administrator approves (identity's proposals,
`authz.APPROVALS`); neither can do it alone, and the proposer cannot approve. Scheduling owns the office and
its rules (``office_changes.py``): they are checked when the change is proposed, so a bad proposal is
refused at once, and again when it is approved, in the same transaction as the effect, which is
scheduling's: registered with identity when this module loads, so identity never imports scheduling.

Every step is a privileged event in the public transparency log (``identity.change_proposed``, then
``identity.office_opened`` or ``identity.office_closed``) holding the office's id and slug, the
proposal's id, the two administrators as keyed pseudonyms and, for a closing, the number of visits
listed for moving — never a name, an address or a person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from safeslot.identity import interfaces as identity
from safeslot.identity.interfaces import Change, Proposal
from safeslot.kit.errors import Conflict
from safeslot.scheduling import interfaces as offices


def _pending_for(session: Session, change: Change, slug: str) -> Proposal | None:
    return next((p for p in identity.pending(session) if p.kind == change.value and p.params.get("office") == slug),
                None)


def propose_opening(session: Session, ctx: identity.Context, by_id: int, new: Any, now: dt.datetime) -> Proposal:
    """Propose a new office (``new`` is a `NewOffice`); it exists once a second admin approves."""
    offices.check_new_office(session, new)
    waiting = _pending_for(session, Change.open_office, new.slug)
    if waiting is not None:
        raise Conflict(f"Proposal {waiting.id} to open {new.slug!r} is already waiting for a second administrator; "
                       "approve or withdraw that one.")
    params = {"office": new.slug, "new_office": dataclasses.asdict(new)}
    return identity.propose(session, ctx, by_id, Change.open_office, params, now)


def propose_closing(session: Session, ctx: identity.Context, by_id: int, slug: str, move: Collection[int],
                    now: dt.datetime) -> Proposal:
    """Propose closing an office. Refused while a visit still to come is not in ``move`` (ids)."""
    office = offices.open_office_by_slug(session, slug)
    listed = offices.check_closable(session, office, move, now)
    waiting = _pending_for(session, Change.close_office, slug)
    if waiting is not None:
        raise Conflict(f"Proposal {waiting.id} to close {slug!r} is already waiting for a second administrator; "
                       "approve or withdraw that one.")
    params = {"office_id": office.id, "office": office.slug, "move_bookings": listed, "bookings": len(listed)}
    return identity.propose(session, ctx, by_id, Change.close_office, params, now)


def _open(session: Session, proposer_id: int, params: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    office = offices.open_office(session, offices.NewOffice(**params["new_office"]))
    return {"office_id": office.id, "office": office.slug}


def _close(session: Session, proposer_id: int, params: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    office = offices.open_office_by_slug(session, str(params["office"]))
    moved = offices.close_office(session, office, [int(i) for i in params["move_bookings"]], now)
    return {"office_id": office.id, "office": office.slug, "bookings": moved}


# The approved change, in the approval's transaction; identity logs ``identity.office_opened`` / ``_closed``
# with these ids.
identity.register_effect(Change.open_office, _open)
identity.register_effect(Change.close_office, _close)
