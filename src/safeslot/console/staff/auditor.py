"""Auditors' pages: the alerts on staff reads, the log's status and published reports, and a
verification of the whole log run from the console, as an outside verifier would, and recorded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from safeslot.console.i18n import N_
from safeslot.console.pages import language, see_other
from safeslot.console.staff.shell import StaffRoute, page, when
from safeslot.deps import NowDep, SessionDep
from safeslot.identity import service as identity
from safeslot.identity.guard import StaffDep
from safeslot.privacy import service as privacy
from safeslot.reports import service as report_service
from safeslot.transparency import interfaces as log
from safeslot.transparency import service as log_service

router = APIRouter(prefix="/console", route_class=StaffRoute, include_in_schema=False, tags=["staff console"])


# -- auditor: alerts and the log's status --------------------------------------------------------
@router.get("/audit")
def audit(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    lang = language(request)
    raised = privacy.alerts(session)
    runs = log.last_verifications(session)
    who = identity.usernames(session, [a.staff_id for a in raised] + [v.staff_id for v in runs if v.staff_id])
    alerts = [{"alert": a, "when": when(a.at, lang), "who": who.get(a.staff_id, str(a.staff_id))} for a in raised]
    status = log_service.status(session)
    reports = [{"report": r, "when": when(r.published_at, lang)} for r in report_service.published_periods(session)]
    verifications = [{"run": v, "when": when(v.at, lang), "who": who.get(v.staff_id or 0)} for v in runs]
    context = {"staff": staff, "title": N_("Audit"), "alerts": alerts, "log": status, "reports": reports,
               "checkpoint_at": when(status.last_checkpoint_at, lang), "verifications": verifications}
    return page(request, "staff/audit.html", context)


@router.post("/audit/verify")
def verify_log_now(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Verify the log end to end, as an outside verifier would, and record the run (`log.self_verify`)."""
    signer = request.app.state.log_signer
    run = log.self_verify(session, signer.verifier(), request.app.state.settings.log.origin, now,
                                method="console", staff_id=staff.id)
    return see_other("/console/audit?done=verified" if run.ok else "/console/audit#verification")
