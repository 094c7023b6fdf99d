"""HTTP for the disclosure gate. Roles are enforced by identity/authz.py RULES (every route
has an entry); the services check the finer rules (two people, not the registrar)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, File, Form, Header, Request, UploadFile
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from safeslot.config import Environment, Settings
from safeslot.deps import NowDep, RingDep, SessionDep
from safeslot.disclosure import (
    acceptance,
    accounting,
    attest,
    document,
    gate_refusals,
    hold_proposals,
    holds,
    intake,
    policy_files,
    release,
    review,
    service,
    signatures,
)
from safeslot.disclosure.document import DocumentLimits
from safeslot.disclosure.models import PolicyChange
from safeslot.disclosure.policy import PolicyEngine
from safeslot.disclosure.schemas import (
    MAX_DOCUMENT_BYTES,
    AccountingLookupIn,
    AccountingOut,
    Actor,
    AgreementIn,
    AnswerIn,
    AttestationIn,
    HoldIn,
    NarrowIn,
    PolicyChangeIn,
    PolicyChangeOut,
    ReasonIn,
    ReleaseOut,
    RenewalIn,
    RequestMetadata,
    RequestOut,
    ResolveIn,
    ReviewIn,
    SubjectOut,
    SuspendIn,
)
from safeslot.identity import interfaces as identity
from safeslot.identity.interfaces import Principal, PrincipalDep, proposal_out, require_passkey
from safeslot.kit.crypto import KeyRing
from safeslot.kit.http import JSON
from safeslot.scheduling import interfaces as scheduling
from safeslot.transparency.interfaces import LogSigner

router = APIRouter(prefix="/api/v1", tags=["disclosure"])



def setup(app: FastAPI, settings: Settings) -> None:
    """Parse and validate the policy set once; a broken policy set stops start-up. Identity's authorization
    middleware counts the requests it refuses before the gate through ``count_gate_refusal``."""
    app.state.count_gate_refusal = gate_refusals.count
    app.state.policy_engine = PolicyEngine.load(settings.policies_dir, settings.policy_profile)
    app.state.document_checks = intake.DocumentChecks(
        limits=DocumentLimits(max_pages=settings.documents.max_pages,
                              render_seconds=settings.documents.render_seconds),
        trust_roots=tuple(signatures.load_trust_roots(settings.documents.trusted_ca_dir)),
    )
    if getattr(app.state, "log_signer", None) is None:
        app.state.log_signer = release.load_signer(settings)
    if settings.environment is not Environment.test:  # tests build hundreds of apps; a server builds one
        threading.Thread(target=document.warm, args=(app.state.document_checks.limits,),
                         name="pdf-worker-warm-up", daemon=True).start()


# async: awaited in place, not sent to the thread pool (identity/guard.py, "dependencies for endpoints")
async def _engine(request: Request) -> PolicyEngine:
    engine: PolicyEngine = request.app.state.policy_engine
    return engine


def _signer(request: Request) -> LogSigner:
    signer: LogSigner = request.app.state.log_signer
    return signer


EngineDep = Annotated[PolicyEngine, Depends(_engine)]


def _ctx(request: Request, ring: KeyRing) -> identity.Context:
    return identity.context_for(request.app.state.settings, ring)


def _actor(session: Session, principal: Principal) -> Actor:
    if principal.kind == "agency":
        return Actor("official", principal.id, frozenset(), service.official_agency(session, principal.id))
    return Actor("staff", principal.id, principal.roles)


def _out(request_: Request, session: Session, engine: PolicyEngine, request_id: int, now: dt.datetime) -> JSON:
    found = service.get_request(session, request_id)
    ring: KeyRing = request_.app.state.keyring
    return JSON(service.view(session, engine, found, now, ring).model_dump(mode="json"))


@router.post("/disclosure-requests", status_code=201, response_model=RequestOut,
             summary="File a disclosure request: the signed instrument (PDF) and its metadata")
def file_request(
    request: Request, session: SessionDep, ring: RingDep, engine: EngineDep, now: NowDep, principal: PrincipalDep,
    metadata: Annotated[str, Form(description="JSON: see RequestMetadata in the schema.")],
    document: Annotated[UploadFile | None, File(description="The signed instrument, PDF, at most 10 MiB.")] = None,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", max_length=200,
        description="A retry with the same key gets the first answer instead of filing the request twice (an "
                    "answer lost to a 503 while the database fails over may have been filed).")] = None,
) -> Response:
    actor = _actor(session, principal)
    data = document.file.read(MAX_DOCUMENT_BYTES + 1) if document is not None else None
    try:
        meta = RequestMetadata.model_validate_json(metadata)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "metadata" for e in exc.errors()})
        # RequestRefused is Recorded: the session commits the refusal's log entry (and nothing else).
        intake.refuse(session, actor, None, now, [f"Fix these metadata fields and file again: {', '.join(fields)}."])

    def _file() -> tuple[int, dict[str, Any]]:
        created = intake.submit(session, ring, engine, actor, meta, data, now, request.app.state.document_checks,
                                quota_bytes=request.app.state.settings.server.agency_storage_quota_bytes)
        return 201, service.view(session, engine, created, now).model_dump(mode="json")

    # The key is the filer's own: another credential's key never replays this answer.
    scope = f"disclosure-file:{principal.kind}:{principal.id}"
    digest = hashlib.sha256(metadata.encode() + b"\0" + (data or b"")).hexdigest()
    status, body, replayed = scheduling.run_once(session, scope, idempotency_key, digest, now, _file)
    return JSON(body, status_code=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


@router.get("/disclosure-requests", response_model=list[RequestOut], summary="Requests, with deadlines and overdue")
def list_requests(session: SessionDep, engine: EngineDep, now: NowDep, principal: PrincipalDep,
                  status: str | None = None) -> Response:
    actor = _actor(session, principal)
    found = service.list_requests(session, actor, status)
    return JSON([service.view(session, engine, r, now).model_dump(mode="json") for r in found])


@router.get("/disclosure-requests/{request_id}", response_model=RequestOut)
def get_request(request_id: int, session: SessionDep, engine: EngineDep, now: NowDep,
                ring: RingDep, principal: PrincipalDep) -> Response:
    found = service.get_visible_request(session, _actor(session, principal), request_id)
    return JSON(service.view(session, engine, found, now, ring).model_dump(mode="json"))


@router.get("/disclosure-requests/{request_id}/explanation", summary="Why the policy decided as it did")
def explain(request_id: int, session: SessionDep, engine: EngineDep, ring: RingDep,
            principal: PrincipalDep) -> Response:
    service.get_visible_request(session, _actor(session, principal), request_id)
    return JSON({"lines": service.explain(session, engine, request_id, ring)})


@router.post("/disclosure-requests/{request_id}/acceptance", response_model=RequestOut,
             summary="Accept the request for review (not its registrar): its matches are shown from then on")
def accept(request_id: int, request: Request, session: SessionDep, engine: EngineDep, now: NowDep,
           principal: PrincipalDep) -> Response:
    acceptance.accept(session, _actor(session, principal), request_id, now)
    return _out(request, session, engine, request_id, now)


@router.get("/disclosure-requests/{request_id}/subjects", response_model=list[SubjectOut],
            summary="The matches: shown once a reviewer other than the registrar accepted the request; never to "
            "the registrar; every read recorded")
def subjects(request_id: int, session: SessionDep, now: NowDep, principal: PrincipalDep) -> Response:
    found = acceptance.read_matches(session, principal, service.get_request(session, request_id), now)
    return JSON([s.model_dump(mode="json") for s in found])


@router.post("/disclosure-requests/{request_id}/attestations", response_model=RequestOut,
             summary="Check the typed metadata against the document, field by field; a mismatch sends it back")
def attest_request(request_id: int, body: AttestationIn, request: Request, session: SessionDep, ring: RingDep,
                   engine: EngineDep, now: NowDep, principal: PrincipalDep) -> Response:
    attest.attest(session, ring, engine, _actor(session, principal), request_id, body.role, body.document_sha256,
                  dict(body.fields), {str(k): v for k, v in body.corrections.items()}, now)
    return _out(request, session, engine, request_id, now)


@router.post("/disclosure-requests/{request_id}/approvals", response_model=RequestOut,
             summary="Approve in your role; the second approval (the other role, another person) releases")
def approve(request_id: int, body: ReviewIn, request: Request, session: SessionDep, ring: RingDep,
            engine: EngineDep, now: NowDep, principal: PrincipalDep) -> Response:
    require_passkey(request, principal)
    release.approve_then_release(session, ring, _signer(request), _actor(session, principal), request_id, body.role,
                                 now)
    return _out(request, session, engine, request_id, now)


@router.post("/disclosure-requests/{request_id}/denial", response_model=RequestOut)
def deny(request_id: int, body: ReasonIn, request: Request, session: SessionDep, ring: RingDep, engine: EngineDep,
         now: NowDep, principal: PrincipalDep) -> Response:
    review.deny(session, _actor(session, principal), request_id, body.role, body.reason, now, ring=ring)
    return _out(request, session, engine, request_id, now)


@router.post("/disclosure-requests/{request_id}/narrowing", response_model=RequestOut)
def narrow(request_id: int, body: NarrowIn, request: Request, session: SessionDep, ring: RingDep, engine: EngineDep,
           now: NowDep, principal: PrincipalDep) -> Response:
    review.narrow(session, _actor(session, principal), request_id, body.role, body.reason, body.drop_subjects,
                  [c.value for c in body.drop_categories], now, ring=ring)
    return _out(request, session, engine, request_id, now)


@router.post("/disclosure-requests/{request_id}/information-requests", response_model=RequestOut)
def ask(request_id: int, body: ReasonIn, request: Request, session: SessionDep, ring: RingDep, engine: EngineDep,
        now: NowDep, principal: PrincipalDep) -> Response:
    review.ask_information(session, _actor(session, principal), request_id, body.role, body.reason, now, ring=ring)
    return _out(request, session, engine, request_id, now)


@router.post("/disclosure-requests/{request_id}/information", response_model=RequestOut)
def answer(request_id: int, body: AnswerIn, request: Request, session: SessionDep, ring: RingDep, engine: EngineDep,
           now: NowDep, principal: PrincipalDep) -> Response:
    review.provide_information(session, _actor(session, principal), request_id, body.answer, now, ring=ring)
    return _out(request, session, engine, request_id, now)


@router.post("/disclosure-requests/{request_id}/withdrawal", response_model=RequestOut)
def withdraw(request_id: int, request: Request, session: SessionDep, engine: EngineDep, now: NowDep,
             principal: PrincipalDep) -> Response:
    review.withdraw(session, _actor(session, principal), request_id, now)
    return _out(request, session, engine, request_id, now)


@router.post("/disclosure-requests/{request_id}/matches", response_model=list[SubjectOut])
def resolve(request_id: int, body: ResolveIn, session: SessionDep, now: NowDep,
            principal: PrincipalDep) -> Response:
    review.resolve_match(session, _actor(session, principal), request_id, body.subject_id, body.appointment_id,
                         body.reason, now)
    views = acceptance.read_matches(session, principal, service.get_request(session, request_id), now, "counsel")
    return JSON([s.model_dump(mode="json") for s in views])


@router.get("/disclosure-requests/{request_id}/release", response_model=ReleaseOut,
            summary="The one-time download link, for the requesting official")
def get_release(request_id: int, request: Request, session: SessionDep, ring: RingDep,
                principal: PrincipalDep) -> Response:
    found, token = release.link_for(session, ring, _actor(session, principal), request_id)
    base = request.app.state.settings.server.public_url.rstrip("/")
    out = ReleaseOut(request_id=request_id, download_url=f"{base}/api/v1/disclosure-packages/{token}",
                     expires_at=found.expires_at, package_sha256=found.package_sha256, log_index=found.log_index)
    return JSON(out.model_dump(mode="json"))


@router.get("/disclosure-packages/{token}", summary="Download the package once (JSON with the signed manifest)")
def download(token: str, session: SessionDep, ring: RingDep, now: NowDep, principal: PrincipalDep) -> Response:
    body = release.download(session, ring, _actor(session, principal), token, now)
    return Response(json.dumps(body), media_type="application/json",
                    headers={"Cache-Control": "no-store", "Content-Disposition": "attachment"})


@router.post("/legal-holds", status_code=201)
def create_hold(body: HoldIn, session: SessionDep, now: NowDep, principal: PrincipalDep) -> Response:
    hold = holds.create_hold(session, _actor(session, principal), body, now)
    return JSON({"id": hold.id}, status_code=201)


@router.post("/legal-holds/{hold_id}/lift", status_code=202,
             summary="Propose lifting a hold: counsel or a second privacy officer approves it")
def lift_hold(hold_id: int, request: Request, session: SessionDep, ring: RingDep, now: NowDep,
              principal: PrincipalDep) -> Response:
    proposal = hold_proposals.propose_lift(session, _ctx(request, ring), principal.id, hold_id, now)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/sharing-agreements", status_code=201)
def create_agreement(body: AgreementIn, session: SessionDep, now: NowDep, principal: PrincipalDep) -> Response:
    agreement = holds.create_agreement(session, _actor(session, principal), body, now)
    return JSON({"id": agreement.id}, status_code=201)


@router.post("/sharing-agreements/{agreement_id}/suspension", status_code=202,
             summary="Propose suspending an agreement; a second reviewer approves")
def suspend_agreement(agreement_id: int, body: SuspendIn, request: Request, session: SessionDep, ring: RingDep,
                      now: NowDep, principal: PrincipalDep) -> Response:
    proposal = hold_proposals.propose_agreement(session, _ctx(request, ring), principal.id, agreement_id, now,
                                                suspend=True, reason=body.reason)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/sharing-agreements/{agreement_id}/reinstatement", status_code=202,
             summary="Propose lifting a suspension; a second reviewer approves (logged)")
def reinstate_agreement(agreement_id: int, request: Request, session: SessionDep, ring: RingDep, now: NowDep,
                        principal: PrincipalDep) -> Response:
    proposal = hold_proposals.propose_agreement(session, _ctx(request, ring), principal.id, agreement_id, now,
                                                suspend=False)
    return JSON(proposal_out(session, proposal).model_dump(mode="json"), status_code=202)


@router.post("/sharing-agreements/{agreement_id}/renewal",
             summary="Renew once, by at most 12 months (5 U.S.C. 552a(o)(2)(D)); logged")
def renew_agreement(agreement_id: int, body: RenewalIn, session: SessionDep, now: NowDep,
                    principal: PrincipalDep) -> Response:
    agreement = holds.renew_agreement(session, _actor(session, principal), agreement_id, body.expires_at, now)
    return JSON({"id": agreement.id, "expires_at": agreement.expires_at.isoformat(), "renewed": True})


def _change_out(change: PolicyChange, status_code: int) -> JSON:
    out = PolicyChangeOut(id=change.id, status=change.status, profile=change.profile,
                          policy_set_hash=change.policy_set_hash, approvals=len(change.approvals))
    return JSON(out.model_dump(mode="json"), status_code=status_code)


@router.post("/policy-changes", status_code=201, response_model=PolicyChangeOut,
             summary="Propose a policy set (validated like at start-up); it needs two other people's approval")
def propose_policy(body: PolicyChangeIn, request: Request, session: SessionDep, now: NowDep,
                   principal: PrincipalDep) -> Response:
    profile = body.profile or request.app.state.settings.policy_profile
    candidate = policy_files.engine_from_files(body.files, profile)
    change = service.propose_policy(session, _actor(session, principal), candidate, dict(body.files),
                                    body.summary, now)
    return _change_out(change, 201)


@router.post("/policy-changes/{change_id}/approvals", response_model=PolicyChangeOut,
             summary="Approve a change; the second approval adopts it (written to the policies folder, "
                     "effective on restart)")
def approve_policy(change_id: int, request: Request, background: BackgroundTasks, session: SessionDep,
                   now: NowDep, principal: PrincipalDep) -> Response:
    change = service.approve_policy(session, _actor(session, principal), change_id, now)
    out = _change_out(change, 200)
    if change.status == "adopted":
        # After the commit (the session dependency commits before the response is sent).
        background.add_task(policy_files.install, dict(change.files), request.app.state.settings.policies_dir)
    return out


@router.post("/accounting/lookup", response_model=AccountingOut,
             summary="A person's accounting of disclosures (5 U.S.C. 552a(c)), by confirmation code and name")
def accounting_lookup(body: AccountingLookupIn, session: SessionDep, ring: RingDep, now: NowDep) -> Response:
    return JSON(accounting.lookup(session, ring, body.code, body.name, now).model_dump(mode="json"))
