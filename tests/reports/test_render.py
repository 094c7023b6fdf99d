"""The report's formats (reports/render.py): JSON that is hashed and signed and reads back as the same report,
CSV whose cells a spreadsheet will not run, and HTML without script that carries the signed JSON."""

from __future__ import annotations

import datetime as dt

from safeslot.reports import render
from safeslot.reports.compute import compute
from safeslot.reports.schemas import Period, Report
from tests.reports import entries as E


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    for cell in ("=SUM(A1)", "+1", "-1+2", "@cmd", "\tx"):
        assert render.neutralise(cell) == "'" + cell
    assert render.neutralise("agency-3") == "agency-3" and render.neutralise(-4) == -4


def _report() -> Report:
    return compute([E.decision(rid, dt.datetime(2026, 8, 3, tzinfo=dt.UTC)) for rid in range(1, 13)],
                   Period.parse("2026H2"))


def test_the_json_reads_back_as_the_same_report_with_its_signature() -> None:
    report = _report()
    raw = render.to_json(report, "signed note")
    again, signature = render.from_json(raw)
    assert signature == "signed note" and render.sha256(again) == render.sha256(report)
    assert render.from_json(render.to_json(report, None))[1] is None


def test_the_html_page_runs_no_script_and_carries_the_signed_json_byte_for_byte() -> None:
    report = _report()
    page = render.to_html(report, "signed </script> note")
    assert b"<script" not in page.lower().replace(b'<script type="application/json"', b"")
    assert render.from_json(render.json_in_html(page))[1] == "signed </script> note"
    assert render.sha256(render.from_json(render.json_in_html(page))[0]) == render.sha256(report)
