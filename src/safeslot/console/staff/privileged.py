"""Console pages for two-person privileged changes: proposals waiting for me, the
agency registry with officials and their keys, legal holds and sharing agreements, the history
of decided requests, the privileged events of the public log, and my passkeys.

The pages call the same services as the API (identity/proposals.py); roles come from
identity/authz.py RULES like every route.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from safeslot.console.i18n import N_
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import StaffRoute, actor, page, when
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.disclosure import holds
from safeslot.disclosure import service as disclosure
from safeslot.identity import events, passkeys, proposals
from safeslot.identity import interfaces as identity_faces
from safeslot.identity.guard import StaffDep
from safeslot.identity.interfaces import proposal_out

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

DECIDED = ("approved", "released", "denied", "withdrawn", "expired", "closed")
DONE = {"approved": N_("Approved: the change took effect and is in the public log."),
        "rejected": N_("Rejected: nothing changed; the rejection is in the public log.")}


def _ctx(request: Request, ring: Any) -> proposals.Context:
    return proposals.context_for(request.app.state.settings, ring)


@router.get("/privileged")
def privileged(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Proposals waiting for my approval, the others pending, the decided ones, and the public events."""
    lang = language(request)
    mine = {p.id for p in proposals.waiting_for(session, staff.id, now)}
    pending = [{"out": proposal_out(session, p), "mine": p.id in mine,
                "when": when(p.proposed_at, lang)} for p in proposals.pending(session)]
    decided = [{"out": proposal_out(session, p), "when": when(p.decided_at, lang)}
               for p in proposals.decided(session, 30)]
    logged = [{"when": when(e.at, lang), "log_index": e.log_index, "entry": json.loads(e.entry)}
              for e in events.recent(session, 50)]
    done = DONE.get(request.query_params.get("decided", ""))
    return page(request, "staff/privileged.html", {
        "staff": staff, "title": N_("Privileged changes"), "pending": pending, "decided": decided,
        "events": logged, "decided_done": done})


@router.post("/proposals/{proposal_id}/approve")
def approve(proposal_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
            now: NowDep) -> Response:
    proposals.approve(session, _ctx(request, ring), staff.id, proposal_id, now)
    return see_other("/console/privileged?decided=approved")


@router.post("/proposals/{proposal_id}/reject")
def reject(proposal_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
           now: NowDep) -> Response:
    proposals.reject(session, _ctx(request, ring), staff.id, proposal_id, now)
    return see_other("/console/privileged?decided=rejected")


@router.get("/registry")
def registry(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Agencies, their officials and keys; legal holds; sharing agreements."""
    lang = language(request)
    agencies = [{"agency": a, "officials": [
        {"official": o, "keys": o.active_keys, "verified": when(o.verified_at, lang)} for o in a.officials]}
        for a in identity_faces.registry(session, now)]
    return page(request, "staff/registry.html", {
        "staff": staff, "title": N_("Agencies, holds and agreements"), "agencies": agencies,
        "holds": [{"hold": h, "since": when(h.created_at, lang), "lifted": when(h.lifted_at, lang)}
                  for h in holds.list_holds(session)],
        "agreements": [{"agreement": g, "until": when(g.expires_at, lang)} for g in holds.list_agreements(session)],
    })


@router.get("/decided")
def decided(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """The history of decided disclosure requests (no personal data: ids, agencies, instruments)."""
    lang = language(request)
    found = sorted((r for status in DECIDED for r in disclosure.list_requests(session, actor(staff), status)),
                   key=lambda r: r.id, reverse=True)
    rows = [{"request": r, "when": when(r.decided_at or r.received_at, lang)} for r in found]
    return page(request, "staff/decided.html", {"staff": staff, "title": N_("Decided requests"), "rows": rows})


@router.get("/passkeys")
def my_passkeys(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    return page(request, "staff/passkeys.html", {
        "staff": staff, "title": N_("Passkeys"), "count": passkeys.count(session, staff.id),
        "strong": "hwk" in staff.amr.split()})
