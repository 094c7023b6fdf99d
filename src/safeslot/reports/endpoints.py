"""The public pages: `/transparency/report` (index) and `/transparency/report/{period}`
as HTML, `.json` (the signed file) or `.csv`. No sign-in: these are for everyone."""

from __future__ import annotations

import html

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from safeslot.deps import SessionDep
from safeslot.reports import render, service

router = APIRouter(prefix="/transparency/report", tags=["transparency report"])
CACHE = "public, max-age=300"


@router.get("", response_class=HTMLResponse, summary="Published transparency reports")
def index(session: SessionDep) -> HTMLResponse:
    rows = service.published_periods(session)
    items = "".join(
        f'<li><a href="/transparency/report/{html.escape(r.period)}">{html.escape(r.period)}</a> '
        f'(<a href="/transparency/report/{html.escape(r.period)}.json">JSON</a>, '
        f'<a href="/transparency/report/{html.escape(r.period)}.csv">CSV</a>)</li>'
        for r in rows
    ) or "<li>No report has been published yet.</li>"
    page = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Transparency reports</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>'
            f"<h1>Transparency reports</h1><ul>{items}</ul></main></body></html>")
    return HTMLResponse(page, headers={"Cache-Control": CACHE})


@router.get("/{name}", response_class=Response, summary="One report: HTML, or .json / .csv")
def report(name: str, session: SessionDep) -> Response:
    period, _, fmt = name.partition(".")
    data, signature, row = service.published(session, period)
    headers = {"Cache-Control": CACHE, "X-Report-SHA256": row.sha256}
    if fmt == "json":
        return Response(row.document, media_type="application/json", headers=headers)
    if fmt == "csv":
        headers["Content-Disposition"] = f'attachment; filename="report-{row.period}.csv"'
        return Response(render.to_csv(data), media_type="text/csv; charset=utf-8", headers=headers)
    if fmt:
        return Response(status_code=404)
    return Response(render.to_html(data, signature, sha=row.sha256), media_type="text/html; charset=utf-8",
                    headers=headers)
