"""The report's three formats, all from the same `Report`: JSON (what is hashed and
signed), CSV (one figure per line) and HTML (tables with SVG bar charts, no script).

The canonical JSON body is RFC 8785 (the `rfc8785` package), so anyone can recompute
its SHA-256 from the published file: drop the `signature` member, canonicalise, hash.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Final

import jinja2
import rfc8785

from safeslot.reports import suppress as sup
from safeslot.reports.schemas import Report, Table

SIGNATURE_KEY: Final = "signature"
CSV_FIELDS: Final = ("table", "table_title", "row", "column", "value")
_TEMPLATES = Path(__file__).parent / "templates"
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


# Words for the codes the log uses (the JSON and CSV keep the codes; the HTML is for people).
LABELS: Final[dict[str, str]] = {
    "administrative_warrant": "Administrative warrant (DHS I-200 / I-205, detainer)",
    "administrative_subpoena": "Administrative subpoena (incl. DHS I-138)",
    "clerk_subpoena": "Clerk-issued or grand-jury subpoena",
    "head_of_agency_request": "Written head-of-agency request, 5 U.S.C. 552a(b)(7)",
    "court_order": "Court order signed by a judge, 5 U.S.C. 552a(b)(11)",
    "judicial_warrant": "Judicial warrant",
    "consent": "The person's own signed consent",
    "sharing_agreement": "Sharing agreement (routine use)",
    "emergency": "Emergency, 5 U.S.C. 552a(b)(8)",
    "criminal": "Criminal investigation",
    "civil_immigration": "Civil immigration enforcement",
    "other_civil": "Other civil matter",
    "program_integrity": "Program integrity",
    "identity": "Identity",
    "contact": "Contact details",
    "appointment_schedule": "Appointment schedule",
    "visit_history": "Visit history",
    "language_accommodation": "Language and accommodation needs",
    "unknown": "Not stated",
}


def label(code: str) -> str:
    return LABELS.get(code, code)


_env.filters["words"] = label


def body(report: Report) -> bytes:
    """The canonical JSON of the report, without its signature: what the SHA-256 covers."""
    return rfc8785.dumps(report.to_json())


def sha256(report: Report) -> str:
    return hashlib.sha256(body(report)).hexdigest()


def to_json(report: Report, signature: str | None) -> bytes:
    """The published JSON file: the report's members plus `signature` (a C2SP signed note)."""
    data = report.to_json()
    if signature is not None:
        data[SIGNATURE_KEY] = signature
    return json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n"


def from_json(raw: bytes) -> tuple[Report, str | None]:
    """Parse a published JSON file back into the report and its signature."""
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("a report file is a JSON object")
    signature = data.pop(SIGNATURE_KEY, None)
    return Report.from_json(data), signature if isinstance(signature, str) else None


# OWASP "CSV injection": a cell a spreadsheet would read as a formula starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with ' so it stays text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out: io.StringIO) -> None:
        self._w = csv.writer(out, lineterminator="\n")

    def writerow(self, row: tuple[object, ...]) -> None:
        self._w.writerow([neutralise(v) for v in row])


def to_csv(report: Report) -> bytes:
    """Long format: one line per figure, with the table, row and column it belongs to. Every text
    cell is neutralised against formula injection (whatever a log entry held)."""
    out = io.StringIO()
    w = _SafeWriter(out)
    w.writerow(CSV_FIELDS)
    for key, value in report.summary.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                w.writerow(("summary", "Summary", key, sub, v))
        else:
            w.writerow(("summary", "Summary", key, "", value))
    for table in report.tables:
        for row in table.rows:
            for col, v in zip(table.columns, row["cells"], strict=True):
                w.writerow((table.id, table.title, row["label"], col, v))
            w.writerow((table.id, table.title, row["label"], "Total", row["total"]))
        for col, v in zip(table.columns, table.totals["cells"], strict=True):
            w.writerow((table.id, table.title, "Total", col, v))
        w.writerow((table.id, table.title, "Total", "Total", table.totals["total"]))
    for key, n in report.standing.items():
        w.writerow(("standing", "Legal holds, sharing agreements and policy", key, "", n))
    for change in report.policy_changes:
        w.writerow(("policy_changes", "Policy changes", change["time"], change["step"],
                    f"{change['profile']} {change['policy_set_hash']}"))
    if report.checkpoint:
        cp = report.checkpoint
        w.writerow(("checkpoint", "Log checkpoint", cp.origin, cp.size, cp.root_hash))
    return out.getvalue().encode()


# --- HTML ----------------------------------------------------------------------------------

_BAR_H: Final = 22
_LABEL_W: Final = 230
_BAR_W: Final = 300


def _chart(table: Table) -> dict[str, Any]:
    """Bars for each row's total; a 1-10 total is drawn as a dashed range, a hidden one not drawn."""
    values = [r["total"] for r in table.rows]
    top = max([v for v in values if isinstance(v, int)] + [sup.HIGH])
    bars = []
    for i, row in enumerate(table.rows):
        v = row["total"]
        y = i * _BAR_H
        if isinstance(v, int):
            bars.append({"y": y, "label": label(row["label"]), "w": round(_BAR_W * v / top, 1), "text": str(v),
                         "kind": "shown"})
        elif v == sup.RANGE_TEXT:
            bars.append({"y": y, "label": label(row["label"]), "w": round(_BAR_W * sup.HIGH / top, 1), "text": v,
                         "kind": "range"})
        else:
            bars.append({"y": y, "label": label(row["label"]), "w": 0, "text": str(v), "kind": "hidden"})
    return {"bars": bars, "height": max(1, len(bars)) * _BAR_H + 4, "label_w": _LABEL_W,
            "width": _LABEL_W + _BAR_W + 60}


_DATA_OPEN: Final = '<script type="application/json" id="report-data">'
_DATA_CLOSE: Final = "</script>"


def to_html(report: Report, signature: str | None, *, sha: str | None = None) -> bytes:
    """The HTML page. It carries the signed JSON in a data block (never run: no script runs
    on the page), so `report verify report.html` can check the page's every byte."""
    template = _env.get_template("report.html")
    charts = {t.id: _chart(t) for t in report.tables}
    # "<" escaped so the data block cannot close itself; JSON reads \u003c back as "<".
    data = to_json(report, signature).decode().replace("<", "\\u003c")
    html = template.render(r=report, charts=charts, signature=signature, sha256=sha or sha256(report),
                           range_text=sup.RANGE_TEXT, hidden_text=sup.HIDDEN_TEXT,
                           standing_labels=STANDING_LABELS, data=data)
    return html.encode()


def json_in_html(page: bytes) -> bytes:
    """The signed JSON a published HTML page carries (ValueError if none)."""
    text = page.decode("utf-8")
    start = text.find(_DATA_OPEN)
    if start < 0:
        raise ValueError("the page carries no report data")
    start += len(_DATA_OPEN)
    end = text.find(_DATA_CLOSE, start)
    if end < 0:
        raise ValueError("the report data block is not closed")
    return text[start:end].encode()


STANDING_LABELS: Final[dict[str, str]] = {
    "legal_holds_in_force": "Legal holds in force at the end of the period",
    "legal_holds_created": "Legal holds ordered during the period",
    "legal_holds_lifted": "Legal holds lifted during the period",
    "sharing_agreements_in_force": "Sharing agreements in force at the end of the period",
    "sharing_agreements_created": "Sharing agreements made during the period",
    "sharing_agreements_suspended": "Sharing agreements suspended during the period",
    "sharing_agreements_renewed": "Sharing agreements renewed during the period",
    "sharing_agreements_expired": "Sharing agreements that expired during the period",
    "policy_changes": "Policy change steps (proposed, approved, adopted) during the period",
    "privileged_changes_proposed": "Privileged changes proposed (roles, agencies, officials, keys, holds, agreements)",
    "privileged_changes_rejected": "Privileged changes rejected or withdrawn",
    "privileged_roles_granted": "Privileged staff roles granted (admin, privacy officer, counsel, auditor)",
    "reviewer_roles_granted": "Of these, reviewer roles (privacy officer, counsel)",
    "privileged_roles_removed": "Privileged staff roles removed",
    "agencies_registered": "Agencies registered",
    "officials_verified": "Agency officials verified",
    "agency_keys_issued": "Agency API keys issued",
    "accounts_deactivated": "Staff accounts deactivated",
    "factor_resets": "Staff sign-in factors reset",
    "offices_opened": "Offices opened (two administrators)",
    "offices_closed": "Offices closed (two administrators; their visits to come listed for moving)",
}
