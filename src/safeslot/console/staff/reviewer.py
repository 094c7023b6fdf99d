"""Reviewers' pages (privacy officer and counsel): the queue of open disclosure requests, a request
with its document and matches, and the acts of review — attest, accept, approve, deny, narrow, ask.

Every act is a call to a disclosure service (review, attest, acceptance; the second approval
releases through ``disclosure.interfaces.approve_then_release``); the page only reads the form and
says what happened. Matches are shown only once another person accepted the request, and each one
shown is a recorded read (``acceptance.read_matches``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from safeslot.console.i18n import N_
from safeslot.console.pages import language, see_other
from safeslot.console.staff import review_document
from safeslot.console.staff.shell import StaffRoute, actor, page, when
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.disclosure import acceptance, attest, review
from safeslot.disclosure import interfaces as disclosure_faces
from safeslot.disclosure import service as disclosure
from safeslot.disclosure.policy import PolicyEngine
from safeslot.identity.guard import StaffDep, require_passkey
from safeslot.identity.service import Principal
from safeslot.kit.errors import InvalidInput, NotFound

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])

OPEN = ("in_review", "info_requested")


def _engine(request: Request) -> PolicyEngine:
    engine: PolicyEngine = request.app.state.policy_engine
    return engine


@router.get("/disclosures")
def queue(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    engine, lang = _engine(request), language(request)
    rows: list[dict[str, Any]] = []
    for status in OPEN:
        for found in disclosure.list_requests(session, actor(staff), status):
            out = disclosure.view(session, engine, found, now)
            rows.append({"out": out, "model": found, "deadline": when(out.deadline, lang),
                         "approvals": sorted(review.approvals(session, found.id))})
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (not r["out"].overdue, r["out"].deadline or latest))
    return page(request, "staff/queue.html", {"staff": staff, "title": N_("Disclosure requests"), "rows": rows})


@router.get("/disclosures/{request_id}")
def requestpage(request_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                 now: NowDep) -> Response:
    engine, lang = _engine(request), language(request)
    found: disclosure_faces.DisclosureRequest = disclosure.get_visible_request(session, actor(staff), request_id)
    out = disclosure.view(session, engine, found, now, ring)
    my_roles = [r for r in review.REVIEW_ROLES if r in staff.roles]
    context = {
        "staff": staff, "title": N_("Disclosure request"), "out": out, "model": found,
        "deadline": when(out.deadline, lang), "explanation": disclosure.explain(session, engine, request_id, ring),
        "approvals": review.approvals(session, request_id), "my_roles": my_roles,
        "open": found.status in OPEN, "in_review": found.status == "in_review",
        **review_document.context(session, ring, found, staff, request.app.state.document_checks.limits, now),
        "matches_state": acceptance.may_see_matches(staff, found), "matches": [],
    }
    if context["matches_state"] == "yes":
        # Each candidate shown is a staff read of personal data: written to the access log.
        context["matches"] = [
            {"subject": s, "candidates": [{"c": c, "when": when(c.starts_at, lang)} for c in s.candidates]}
            for s in acceptance.read_matches(session, staff, found, now)]
    signed_at = context["signature"]["signed_at"]
    context["signature"]["signed_at"] = when(signed_at, lang) if signed_at else None
    return page(request, "staff/request.html", context)


@router.get("/disclosures/{request_id}/pages/{page}")
def documentpage(request_id: int, page: int, request: Request, staff: StaffDep, session: SessionDep,
                  ring: RingDep, now: NowDep) -> Response:
    """A page of the instrument as PNG, rendered on the server; staff reviewers only, recorded."""
    found: disclosure_faces.DisclosureRequest = disclosure.get_visible_request(session, actor(staff), request_id)
    png = review_document.page_image(session, ring, found, staff, page, request.app.state.document_checks.limits, now)
    if png is None:
        raise NotFound("The document has no such page.")
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store", "X-Robots-Tag": "none"})


@router.post("/disclosures/{request_id}/attest")
async def attestpage(request_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
                      now: NowDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    answers, corrections = review_document.answers_from_form(form)
    role = _role(staff, form.get("role", ""))
    attest.attest(session, ring, _engine(request), actor(staff), request_id, role,
                  form.get("document_sha256", ""), answers, corrections, now)
    sent_back = disclosure.get_request(session, request_id).status != "in_review"
    return see_other(f"/console/disclosures/{request_id}?done={'sent_back' if sent_back else 'attested'}")


@router.post("/disclosures/{request_id}/accept")
def accept(request_id: int, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    acceptance.accept(session, actor(staff), request_id, now)
    return see_other(f"/console/disclosures/{request_id}?done=accept#matches")


def _role(staff: Principal, role: str) -> str:
    if role not in review.REVIEW_ROLES or role not in staff.roles:
        raise InvalidInput("Choose the review role you hold: privacy officer or counsel.")
    return role


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("Write a reason; the requester and the auditors read it.")
    return reason.strip()[:2000]


@router.post("/disclosures/{request_id}/approve")
def approve(request_id: int, request: Request, staff: StaffDep, session: SessionDep, ring: RingDep,
            now: NowDep, role: Annotated[str, Form()] = "") -> Response:
    done = "approve"
    require_passkey(request, staff)
    if disclosure_faces.approve_then_release(session, ring, request.app.state.log_signer, actor(staff), request_id,
                                             _role(staff, role), now):
        done = "released"
    return see_other(f"/console/disclosures/{request_id}?done={done}")


@router.post("/disclosures/{request_id}/deny")
def deny(request_id: int, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
         role: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    review.deny(session, actor(staff), request_id, _role(staff, role), _reason(reason), now, ring=ring)
    return see_other(f"/console/disclosures/{request_id}?done=deny")


@router.post("/disclosures/{request_id}/narrow")
def narrow(request_id: int, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
           role: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
           drop: Annotated[list[str] | None, Form()] = None) -> Response:
    review.narrow(session, actor(staff), request_id, _role(staff, role), _reason(reason), [], drop or [], now,
                  ring=ring)
    return see_other(f"/console/disclosures/{request_id}?done=narrow")


@router.post("/disclosures/{request_id}/ask")
def ask(request_id: int, staff: StaffDep, session: SessionDep, ring: RingDep, now: NowDep,
        role: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    review.ask_information(session, actor(staff), request_id, _role(staff, role), _reason(reason), now, ring=ring)
    return see_other(f"/console/disclosures/{request_id}?done=ask")
